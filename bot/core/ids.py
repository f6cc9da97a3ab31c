"""Slack ids as rolebot accepts them, in one place: the knowledge files' contacts, the
configuration, the role holders and the Block Kit builders all check with these.

The patterns are strings too, for the knowledge files' JSON Schema."""

from __future__ import annotations

import re

USER_ID_PATTERN = r"^[UW][A-Z0-9]{2,30}$"
GROUP_ID_PATTERN = r"^S[A-Z0-9]{2,30}$"
CHANNEL_ID_PATTERN = r"^[CG][A-Z0-9]{2,30}$"

USER_ID = re.compile(USER_ID_PATTERN)
"""A person ("U024BE7LH"; "W…" on Enterprise Grid)."""
GROUP_ID = re.compile(GROUP_ID_PATTERN)
"""A user group ("S0614TZR7")."""
CHANNEL_ID = re.compile(CHANNEL_ID_PATTERN)
"""A public or private channel ("C024BE91L", "G…")."""
