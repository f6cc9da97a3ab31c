"""The core: knowledge, normalising and matching. Imports neither Slack nor the database."""
