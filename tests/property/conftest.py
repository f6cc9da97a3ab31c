"""Hypothesis profiles for the property suite.

``dev`` (the default) explores new examples on every run and remembers failures in
``.hypothesis/``. ``ci`` is chosen when ``CI`` is set (or ``HYPOTHESIS_PROFILE=ci``): the same
examples on every run (``derandomize``) and no example database, so a red build is reproducible
on any machine with ``CI=true .venv/bin/python -m pytest tests/property``.

Each test sets its own ``max_examples`` (sized so the whole suite stays well under a minute);
the profile decides everything else.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]

# deadline=None: a cold cache or a busy CI runner must not fail a correct test.
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=_SLOW_IS_FINE, print_blob=True
)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=_SLOW_IS_FINE,
    print_blob=True,
    derandomize=True,
    database=None,
)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI", "").lower() not in ("", "0", "false", "no") else "dev"


settings.load_profile(_profile())
