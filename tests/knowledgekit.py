"""Helpers for tests that edit a knowledge folder a running engine watches."""

from __future__ import annotations

import os
import time
from pathlib import Path

SETTLED_AGO = 5.0
"""Seconds "ago" a settled file was written: more than the engine's settling wait."""


def settle(*paths: Path) -> None:
    """As if ``paths`` were last written a few seconds ago: the folder has been still since, so
    the engine loads them on its next check (links themselves are touched, not their targets)."""
    past = time.time() - SETTLED_AGO
    for path in paths:
        os.utime(path, (past, past), follow_symlinks=False)
