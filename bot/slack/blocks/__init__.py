"""Block Kit builders: pure functions from core values to Slack payloads, always within limits."""
