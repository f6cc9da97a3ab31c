"""The Slack app, with Bolt for Python: Socket Mode (``rolebot run``) or HTTP (``rolebot serve``).

Importing this package starts nothing, reads no token and touches no network: everything is
built by :func:`bot.slack.app.create_app` when asked.
"""
