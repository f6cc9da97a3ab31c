"""The curator side: turning the unanswered log into knowledge, shared by every replica.

- :mod:`bot.curation.review`: promote, dismiss and write answers (curated changes in the
  database, validated with the knowledge files).
- :mod:`bot.curation.announce`: telling the person who asked, once, when a curator answered.

The Slack face is :mod:`bot.slack.curate`; the CLI's is ``rolebot unanswered`` and ``rolebot kb``.
"""
