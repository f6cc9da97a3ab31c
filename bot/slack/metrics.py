"""Prometheus metrics: ``GET /metrics`` in the text exposition format.

What is counted: questions by outcome, match latency, ack latency (a request's arrival at the
application to its HTTP response on ``/slack/events``), Slack deliveries of a message already
answered (retries), and Web API errors by method and error. Read when scraped: the spool's
depth, whether the database answers, and the knowledge entries loaded.

Under ``rolebot serve`` every gunicorn worker is its own process. Before the workers fork,
:func:`prepare_multiprocess` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder; each worker
then keeps its counts in small memory-mapped files there, and whichever worker answers
``/metrics`` sums all of them (prometheus-client's multiprocess mode). Counts of a worker that
exited stay in the sums, so counters never go backwards; its per-worker gauges are dropped
(:func:`worker_exited`, from gunicorn's ``child_exit`` hook).

The metric objects are made on first use (:func:`get_metrics`), in the worker, after the fork.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

MATCH_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
"""Seconds: matching a question takes about a millisecond on the bundled knowledge."""
ACK_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
"""Seconds: Slack gives up on an acknowledgement after 3 seconds and retries the delivery."""

REQUEST_KINDS = ("event", "command", "interactive", "other")
_MAX_LABEL = 60
_RSS_EVERY = 1.0
"""Seconds between two readings of a worker's resident memory."""


class Metrics:
    """This process's metrics, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.questions = Counter(
            "rolebot_questions",
            "Questions asked, by how they ended and where they came from.",
            ["outcome", "source"],
            registry=registry,
        )
        self.match_seconds = Histogram(
            "rolebot_match_seconds",
            "Time to normalise, match and answer one question.",
            buckets=MATCH_BUCKETS,
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "rolebot_ack_seconds",
            "Time from a request's arrival on /slack/events to its HTTP response.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.requests = Counter(
            "rolebot_slack_requests",
            "Requests on /slack/events, by kind and HTTP status.",
            ["kind", "status"],
            registry=registry,
        )
        self.duplicates = Counter(
            "rolebot_duplicate_deliveries",
            "Deliveries of a message already handled, such as Slack's retries (not answered "
            "again).",
            registry=registry,
        )
        self.api_errors = Counter(
            "rolebot_slack_api_errors",
            "Web API and response_url calls that failed, by method and error.",
            ["method", "error"],
            registry=registry,
        )
        self.worker_requests = Gauge(
            "rolebot_worker_requests",
            "Requests this worker process has served (one series per live worker).",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.worker_memory = Gauge(
            "rolebot_worker_resident_memory_bytes",
            "Resident memory of this worker process (one series per live worker).",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self._memory_read = float("-inf")
        self.on_api_error: Callable[[str], None] | None = None
        """Told every failed call's error code (``/healthz`` notes a refused token)."""
        for kind in REQUEST_KINDS[:3]:  # present (at zero) from the start
            self.ack_seconds.labels(kind)

    def observe_request(self, kind: str, status: int, seconds: float) -> None:
        """One request on ``/slack/events`` answered with ``status`` after ``seconds``."""
        kind = kind if kind in REQUEST_KINDS else "other"
        self.ack_seconds.labels(kind).observe(seconds)
        self.requests.labels(kind, str(status)).inc()
        self.count_worker_request()

    def count_worker_request(self) -> None:
        self.worker_requests.inc()
        now = time.monotonic()
        if now - self._memory_read >= _RSS_EVERY:
            self._memory_read = now
            resident = resident_memory()
            if resident is not None:
                self.worker_memory.set(resident)

    def api_error(self, method: str, error: str) -> None:
        self.api_errors.labels(method[:_MAX_LABEL], (error or "unknown")[:_MAX_LABEL]).inc()
        if self.on_api_error is not None:
            self.on_api_error(error)


_metrics: Metrics | None = None
_metrics_lock = threading.Lock()


def get_metrics() -> Metrics:
    """This process's :class:`Metrics` (made on first use)."""
    global _metrics  # noqa: PLW0603 - one set of metrics per process, made lazily after the fork
    if _metrics is None:
        with _metrics_lock:
            if _metrics is None:
                _metrics = Metrics()
    return _metrics


def multiprocess_enabled() -> bool:
    """Whether metric values live in ``PROMETHEUS_MULTIPROC_DIR`` (under ``rolebot serve``)."""
    directory = os.environ.get(MULTIPROC_ENV)
    return bool(directory) and Path(directory or "").is_dir()


# --------------------------------------------------------------------------- multiprocess
@dataclass(frozen=True)
class MultiprocessDir:
    """The folder the workers' metric files live in, and whether ``rolebot serve`` made it."""

    path: Path
    owned: bool

    def remove(self) -> None:
        """Delete the folder if it was made for this run (a given one is left, emptied)."""
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            _clear(self.path)


def prepare_multiprocess() -> MultiprocessDir:
    """Before the workers fork: ``PROMETHEUS_MULTIPROC_DIR`` as given (emptied of an earlier
    run's files), else a fresh temporary folder; metric values made after this go there."""
    global _metrics  # noqa: PLW0603
    given = os.environ.get(MULTIPROC_ENV, "").strip()
    if given:
        folder = MultiprocessDir(Path(given), owned=False)
        folder.path.mkdir(parents=True, exist_ok=True)
        _clear(folder.path)
    else:
        folder = MultiprocessDir(Path(tempfile.mkdtemp(prefix="rolebot-metrics-")), owned=True)
        os.environ[MULTIPROC_ENV] = str(folder.path)
    # prometheus-client picks where values live when it is first imported; it may have been
    # imported before the variable was set.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    with _metrics_lock:
        _metrics = None
    return folder


def worker_exited(pid: int) -> None:
    """A worker stopped: its per-worker gauges go (its counts stay in the sums)."""
    if multiprocess_enabled():
        try:
            multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
        except OSError as error:
            logger.warning("could not drop the metrics of worker %d: %s", pid, error)


def _clear(folder: Path) -> None:
    for path in folder.glob("*.db"):
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- exposition
@dataclass(frozen=True)
class Live:
    """Values read when ``/metrics`` is scraped (the same for every worker of one machine)."""

    spool_records: Callable[[], int | None]
    database_up: Callable[[], bool]
    knowledge_entries: Callable[[], int]
    slack_up: Callable[[], bool] | None = None


class _LiveCollector:
    def __init__(self, live: Live) -> None:
        self.live = live

    def collect(self) -> Iterable[Metric]:
        spool = self.live.spool_records()
        if spool is not None:
            yield GaugeMetricFamily(
                "rolebot_spool_records",
                "Records waiting in the local spool for the database.",
                value=spool,
            )
        yield GaugeMetricFamily(
            "rolebot_database_up",
            "1 when the database answers, 0 when it does not (questions then go to the spool).",
            value=1 if self.live.database_up() else 0,
        )
        if self.live.slack_up is not None:
            yield GaugeMetricFamily(
                "rolebot_slack_up",
                "0 once Slack refused the bot token (invalid_auth, token_revoked...), else 1.",
                value=1 if self.live.slack_up() else 0,
            )
        yield GaugeMetricFamily(
            "rolebot_knowledge_entries",
            "FAQ entries in the knowledge loaded.",
            value=self.live.knowledge_entries(),
        )


class _Forward:
    """Another registry's metrics, as one collector."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class Exposition:
    """What ``GET /metrics`` answers: every worker's metrics (or this process's), and ``live``."""

    def __init__(self, live: Live, metrics: Metrics | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.multiprocess = multiprocess_enabled()
        collector: Collector = (
            _Files() if self.multiprocess else _Forward((metrics or get_metrics()).registry)
        )
        self.registry.register(collector)
        self.registry.register(_LiveCollector(live))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Files:
    """Every worker's files in ``PROMETHEUS_MULTIPROC_DIR``, summed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def resident_memory() -> int | None:
    """This process's resident memory in bytes (Linux), else ``None``."""
    try:
        with Path("/proc/self/statm").open("rb") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


__all__ = [
    "CONTENT_TYPE",
    "Exposition",
    "Live",
    "Metrics",
    "MultiprocessDir",
    "get_metrics",
    "multiprocess_enabled",
    "prepare_multiprocess",
    "resident_memory",
    "worker_exited",
]
