"""Load and faults: ``rolebot serve`` under Slack-shaped traffic, on loopback only.

    .venv/bin/python benchmarks/load.py                  # SQLite: 200/s for 20 s, then max rate
    .venv/bin/python benchmarks/load.py --workers 4 --rate 300 --duration 30
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python benchmarks/load.py   # PostgreSQL
    .venv/bin/python benchmarks/load.py --outage 5       # PostgreSQL cut for 5 s mid-run

The script starts everything itself and stops by itself: a stand-in for Slack's Web API
(``benchmarks/fake_slack.py``, its own process, via ``SLACK_API_URL``), then ``rolebot serve``
as a subprocess on a free loopback port with N gunicorn workers, then sends signed requests
(``benchmarks/traffic.py``: answered and unanswered questions, close calls, "which PM?",
slash commands, button clicks, and retries of delivered events with ``X-Slack-Retry-Num``).

* **rate** phase: open loop, a request due every 1/rate seconds for ``--duration`` seconds,
  whatever the answers' latency (late requests wait in the sender's queue and the wait is
  reported as lag).
* **max** phase: closed loop, ``--connections`` keep-alive connections sending back to back
  for ``--max-duration`` seconds.
* ``--outage S``: the rate phase on PostgreSQL reached through a loopback TCP proxy
  (``benchmarks/tcp_proxy.py``), which, mid-run, refuses connections and closes the open ones
  for S seconds. A fresh schema is created (``rolebot db upgrade``) and dropped afterwards; the
  PostgreSQL server itself is never stopped.

Reported: ack latency p50/p99 (send to response, per request), sustained requests per second,
replies posted (chat.postMessage, chat.update, response_url calls the stand-in received),
replies missing or duplicated per request, unanswered questions logged (rows per event id and
per text), RSS of each worker (VmRSS and peak VmHWM), start-up to the first 200 on /healthz.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tcp_proxy import TcpProxy
from traffic import Pools, Request, Traffic, expected

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOST = "127.0.0.1"


# =============================================================================== processes
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rolebot_command() -> list[str]:
    script = Path(sys.executable).with_name("rolebot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


class FakeSlack:
    """``benchmarks/fake_slack.py`` in its own process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fake_slack.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.match(r"PORT (\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the Slack stand-in did not start: {line!r}")
        self.port = int(match.group(1))
        self.api_url = f"http://{HOST}:{self.port}/api/"
        self.respond_base = f"http://{HOST}:{self.port}/respond"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://{HOST}:{self.port}/_stats", timeout=30) as response:
            data: dict[str, Any] = json.load(response)
        return data

    def stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Serve:
    """``rolebot serve`` as a subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    workers: int
    startup: float = 0.0
    """Spawn to the first 200 on /healthz."""
    all_ready: float = 0.0
    """Spawn to every worker's "rolebot ready" line."""

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def start(cls, env: dict[str, str], workers: int, threads: int, log: Path) -> Serve:
        port = free_port()
        handle = log.open("wb")
        started = time.monotonic()
        process = subprocess.Popen(
            [
                *rolebot_command(),
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=env["ROLEBOT_DATA_DIR"],
        )
        handle.close()
        serve = cls(process, port, log, workers)
        deadline = started + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"rolebot serve exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(serve.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        serve.startup = time.monotonic() - started
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                serve.stop()
                raise RuntimeError("rolebot serve did not answer /healthz within 60 s")
            time.sleep(0.01)
        while log.read_text(errors="replace").count("rolebot ready") < workers:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        serve.all_ready = time.monotonic() - started
        return serve

    def worker_pids(self) -> list[int]:
        pids = []
        for status in Path("/proc").glob("[0-9]*/status"):
            with contextlib.suppress(OSError):
                text = status.read_text()
                match = re.search(r"^PPid:\s+(\d+)", text, re.MULTILINE)
                if match and int(match.group(1)) == self.process.pid:
                    pids.append(int(status.parent.name))
        return sorted(pids)

    def memory(self) -> list[dict[str, float]]:
        """VmRSS and VmHWM (peak) of each worker, in MB."""
        found = []
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/status").read_text()
                values = {
                    key: int(re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
                    / 1024
                    for key in ("VmRSS", "VmHWM")
                }
                found.append({"pid": pid, "rss_mb": values["VmRSS"], "peak_mb": values["VmHWM"]})
        return found

    def metrics(self) -> str:
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as response:
            return str(response.read().decode())

    def stop(self) -> tuple[int, float]:
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode, time.monotonic() - started


# =============================================================================== sending
@dataclass
class Outcome:
    kind: str
    due: float
    sent: float
    done: float
    status: int
    error: str | None = None


class Connection:
    """One keep-alive connection; reconnects once if the server closed it while idle."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def post(self, request: Request) -> int:
        for attempt in (1, 2):
            fresh = self.conn is None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            try:
                self.conn.request("POST", "/slack/events", request.body, request.headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status
            except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError):
                self.close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _send(connection: Connection, request: Request, origin: float) -> Outcome:
    sent = time.monotonic()
    try:
        status = connection.post(request)
        error = None if status == 200 else f"HTTP {status}"
    except OSError as failure:
        status, error = 0, type(failure).__name__
    done = time.monotonic()
    return Outcome(request.kind, request.due, sent - origin, done - origin, status, error)


def open_loop(port: int, requests: Sequence[Request], senders: int) -> tuple[list[Outcome], float]:
    """Send each request at its due time, from a pool of ``senders`` connections."""
    work: queue.Queue[Request | None] = queue.Queue()
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    origin = time.monotonic() + 0.2

    def sender() -> None:
        connection = Connection(port)
        mine: list[Outcome] = []
        while (request := work.get()) is not None:
            mine.append(_send(connection, request, origin))
        connection.close()
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for request in requests:
        delay = origin + request.due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        work.put(request)
    for _ in threads:
        work.put(None)
    for thread in threads:
        thread.join()
    return outcomes, origin


def closed_loop(
    port: int, requests: Sequence[Request], connections: int, duration: float
) -> tuple[list[Outcome], float, float]:
    """``connections`` senders, back to back, for ``duration`` seconds (or until the requests
    run out). Returns the outcomes, the start and the measured duration."""
    source: Iterator[Request] = iter(requests)
    take = threading.Lock()
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    origin = time.monotonic()
    deadline = origin + duration

    def sender() -> None:
        connection = Connection(port)
        mine: list[Outcome] = []
        while time.monotonic() < deadline:
            with take:
                request = next(source, None)
            if request is None:
                break
            request.due = time.monotonic() - origin
            mine.append(_send(connection, request, origin))
        connection.close()
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, origin, time.monotonic() - origin


# =============================================================================== checking
def cpu_times() -> tuple[float, float]:
    """The machine's busy and total CPU time so far (/proc/stat), in clock ticks."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, sum(fields)


def process_cpu(pids: Sequence[int]) -> float:
    """CPU seconds used so far by these processes."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class CpuMeter:
    """How busy the machine was, and how much CPU the workers used, between start and stop."""

    pids: list[int]
    busy: float = 0.0
    total: float = 0.0
    workers: float = 0.0
    own: float = 0.0

    def __enter__(self) -> CpuMeter:
        self.busy, self.total = cpu_times()
        self.workers = process_cpu(self.pids)
        self.own = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = cpu_times()
        self.busy, self.total = busy - self.busy, total - self.total
        self.workers = process_cpu(self.pids) - self.workers
        self.own = time.process_time() - self.own

    def report(self, requests: int) -> dict[str, float]:
        return {
            "machine_busy_pct": round(100 * self.busy / self.total, 1) if self.total else 0.0,
            "worker_cpu_ms_per_request": round(1000 * self.workers / requests, 3)
            if requests
            else 0.0,
            "generator_cpu_ms_per_request": round(1000 * self.own / requests, 3)
            if requests
            else 0.0,
        }


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def wait_for_replies(fake: FakeSlack, keys: set[str], timeout: float = 30.0) -> float:
    """Wait until every expected reply arrived (or nothing new came for 3 s); seconds waited."""
    started = time.monotonic()
    last, still_since = -1, time.monotonic()
    while time.monotonic() - started < timeout:
        replies = fake.stats()["replies"]
        arrived = sum(1 for key in keys if key in replies)
        if arrived >= len(keys):
            break
        if arrived != last:
            last, still_since = arrived, time.monotonic()
        elif time.monotonic() - still_since > 3:
            break
        time.sleep(0.2)
    return time.monotonic() - started


def ack_histogram(text: str) -> dict[str, float]:
    """``rolebot_ack_seconds`` buckets (summed over kinds): le -> cumulative count."""
    buckets: Counter[str] = Counter()
    for match in re.finditer(
        r'^rolebot_ack_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$', text, re.M
    ):
        buckets[match.group(1)] += float(match.group(2))
    return dict(buckets)


def histogram_quantile(before: dict[str, float], after: dict[str, float], q: float) -> str:
    """The bucket bound below which ``q`` of the phase's requests were acknowledged."""
    deltas = sorted(
        ((float(le), after.get(le, 0) - before.get(le, 0)) for le in after),
        key=lambda pair: pair[0],
    )
    if not deltas or deltas[-1][1] <= 0:
        return "n/a"
    total = deltas[-1][1]
    for bound, count in deltas:
        if count >= q * total:
            return "> 5 s" if bound == float("inf") else f"<= {bound * 1000:g} ms"
    return "n/a"


def metric_value(text: str, name: str) -> float:
    total = 0.0
    for match in re.finditer(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.M):
        total += float(match.group(1))
    return total


@dataclass
class PhaseReport:
    name: str
    target: str
    requests: int
    errors: int
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    lag_p99_ms: float
    server_ack_p99: str
    requests_per_s: float
    handled_per_s: float
    """Requests acknowledged and answered, per second from the phase's start to the last reply
    (what the workers sustain, acknowledgements running ahead of answers included)."""
    replies_posted: int
    replies_expected: int
    replies_missing: int
    replies_duplicated: int
    retries_sent: int
    unanswered_expected: int
    unanswered_logged: int
    unanswered_missing: int
    rows_duplicated: int
    drain_s: float
    log_settle_s: float
    kinds: dict[str, int] = field(default_factory=dict)
    error_kinds: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def count_rows(url: str, event_ids: set[str]) -> tuple[int, int, int]:
    """For these event ids: rows logged, ids with no row, and duplicated rows (by event id or by
    text)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT event_id, text FROM unanswered_questions WHERE event_id IS NOT NULL")
            ).all()
    finally:
        engine.dispose()
    mine = [(event_id, body) for event_id, body in rows if event_id in event_ids]
    per_event = Counter(event_id for event_id, _ in mine)
    per_text = Counter(body for _, body in mine)
    duplicated = sum(c - 1 for c in per_event.values() if c > 1)
    duplicated += sum(c - 1 for c in per_text.values() if c > 1)
    missing = len(event_ids - set(per_event))
    return len(mine), missing, duplicated


def settle_rows(
    url: str, event_ids: set[str], timeout: float = 30.0
) -> tuple[tuple[int, int, int], float]:
    """:func:`count_rows` once every row is in (store writes trail the replies), or once the
    count has not moved for 3 s; and the seconds waited."""
    started = time.monotonic()
    last: tuple[int, int, int] | None = None
    still_since = started
    while True:
        counted = count_rows(url, event_ids)
        now = time.monotonic()
        if counted[0] >= len(event_ids) or now - started > timeout:
            return counted, now - started
        if counted != last:
            last, still_since = counted, now
        elif now - still_since > 3:
            return counted, now - started
        time.sleep(0.25)


def report_phase(
    name: str,
    target: str,
    requests: Sequence[Request],
    outcomes: Sequence[Outcome],
    seconds: float,
    origin: float,
    fake: FakeSlack,
    drain: float,
    database_url: str,
    server_ack: str,
    extra: dict[str, Any] | None = None,
) -> PhaseReport:
    reply_keys, logged_ids = expected(requests)
    replies = fake.stats()["replies"]
    counts = {key: len(replies.get(key, [])) for key in reply_keys}
    posted = sum(counts.values())
    last_reply = max((t for key in reply_keys for t in replies.get(key, [])), default=origin)
    end = max(last_reply, origin + seconds)
    ok = [o for o in outcomes if o.error is None]
    latencies = [(o.done - o.sent) * 1000 for o in ok]
    lags = [max(0.0, o.sent - o.due) * 1000 for o in outcomes]
    (rows, missing_rows, duplicated_rows), settle = settle_rows(database_url, logged_ids)
    errors = Counter(o.error for o in outcomes if o.error is not None)
    return PhaseReport(
        name=name,
        target=target,
        requests=len(outcomes),
        errors=sum(errors.values()),
        ack_p50_ms=round(percentile(latencies, 50), 1),
        ack_p99_ms=round(percentile(latencies, 99), 1),
        ack_max_ms=round(max(latencies, default=float("nan")), 1),
        lag_p99_ms=round(percentile(lags, 99), 1),
        server_ack_p99=server_ack,
        requests_per_s=round(len(ok) / seconds, 1) if seconds > 0 else 0.0,
        handled_per_s=round(len(ok) / (end - origin), 1) if end > origin else 0.0,
        replies_posted=posted,
        replies_expected=len(reply_keys),
        replies_missing=sum(1 for c in counts.values() if c == 0),
        replies_duplicated=sum(c - 1 for c in counts.values() if c > 1),
        retries_sent=sum(1 for r in requests if r.kind == "retry"),
        unanswered_expected=len(logged_ids),
        unanswered_logged=rows,
        unanswered_missing=missing_rows,
        rows_duplicated=duplicated_rows,
        drain_s=round(drain, 1),
        log_settle_s=round(settle, 1),
        kinds=dict(Counter(r.kind for r in requests)),
        error_kinds=dict(errors),
        extra=extra or {},
    )


# =============================================================================== PostgreSQL
@dataclass
class Postgres:
    """A fresh schema on the server for one run, dropped afterwards."""

    url: str
    schema: str

    @classmethod
    def create(cls, url: str) -> Postgres:
        import psycopg

        schema = f"rolebot_load_{secrets.token_hex(4)}"
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[arg-type]
        return cls(url, schema)

    def url_for(self, port: int | None = None) -> str:
        parts = urllib.parse.urlsplit(self.url)
        netloc = parts.netloc
        if port is not None:
            netloc = re.sub(r":\d+$", "", netloc) + f":{port}"
        query = urllib.parse.urlencode({"options": f"-csearch_path={self.schema}"})
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')  # type: ignore[arg-type]


def _libpq(url: str) -> str:
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


# =============================================================================== the run
def environment(
    args: argparse.Namespace, fake: FakeSlack, data: Path, url: str, secret: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROLEBOT_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-load-" + secrets.token_hex(8),
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": url,
            "ROLEBOT_DATA_DIR": str(data),
            "ROLEBOT_LOG_LEVEL": args.log_level,
            "ROLEBOT_LOG_FORMAT": args.log_format,
        }
    )
    return env


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.core.engine import Engine
    from bot.core.knowledge import bundled_knowledge_dir

    engine = Engine(bundled_knowledge_dir())
    pools = Pools.build(engine)
    secret = secrets.token_hex(16)
    results: dict[str, Any] = {"settings": dict(vars(args))}
    results["settings"]["cpus"] = os.cpu_count()
    postgres_url = args.database_url or os.environ.get("DATABASE_URL")
    if args.outage and not postgres_url:
        postgres_url = POSTGRES_URL
    with tempfile.TemporaryDirectory(prefix="rolebot-load-") as folder:
        tmp = Path(folder)
        data = tmp / "data"
        data.mkdir()
        fake = FakeSlack()
        database: Postgres | None = None
        proxy: TcpProxy | None = None
        serve: Serve | None = None
        try:
            if postgres_url:
                database = Postgres.create(postgres_url)
                direct = database.url_for()
                upgrade_env = {**os.environ, "DATABASE_URL": direct, "ROLEBOT_DATA_DIR": str(data)}
                subprocess.run(
                    [*rolebot_command(), "db", "upgrade"],
                    env=upgrade_env,
                    check=True,
                    capture_output=True,
                    cwd=tmp,
                )
                serve_url = direct
                if args.outage:
                    parts = urllib.parse.urlsplit(postgres_url)
                    proxy = TcpProxy(parts.hostname or HOST, parts.port or 5432).start()
                    serve_url = database.url_for(proxy.port)
                results["database"] = f"PostgreSQL (schema {database.schema})" + (
                    " through a loopback proxy" if proxy else ""
                )
            else:
                direct = serve_url = f"sqlite:///{tmp / 'rolebot.db'}"
                results["database"] = "SQLite (WAL)"
            env = environment(args, fake, data, serve_url, secret)
            serve = Serve.start(env, args.workers, args.threads, tmp / "serve.log")
            results["startup_s"] = round(serve.startup, 2)
            results["all_workers_ready_s"] = round(serve.all_ready, 2)
            print(
                f"rolebot serve: first 200 on /healthz after {serve.startup:.2f} s, "
                f"{args.workers} workers ready after {serve.all_ready:.2f} s",
                file=sys.stderr,
            )
            warm = Traffic(pools, secret, fake.respond_base, "W", seed=1)
            open_loop(serve.port, warm.schedule(60, 60.0), 8)
            time.sleep(0.5)
            phases: list[PhaseReport] = []

            # ---- rate phase (with the outage in the middle, if asked)
            traffic = Traffic(pools, secret, fake.respond_base, "R", seed=args.seed)
            requests = traffic.schedule(int(args.rate * args.duration), args.rate)
            before = ack_histogram(serve.metrics())
            outage: dict[str, Any] = {}
            cutter = None
            if proxy is not None:
                cutter = threading.Thread(
                    target=_cut,
                    args=(
                        proxy,
                        args.duration / 2 - args.outage / 2,
                        args.outage,
                        outage,
                        serve.base + "/healthz",
                    ),
                    daemon=True,
                )
                cutter.start()
            print(f"rate phase: {len(requests)} requests at {args.rate:g}/s", file=sys.stderr)
            with CpuMeter(serve.worker_pids()) as meter:
                outcomes, origin = open_loop(serve.port, requests, args.senders)
            if cutter is not None:
                cutter.join()
            seconds = max(o.sent for o in outcomes) - min(o.sent for o in outcomes)
            after_text = serve.metrics()
            server_ack = histogram_quantile(before, ack_histogram(after_text), 0.99)
            reply_keys, _ = expected(requests)
            drain = wait_for_replies(fake, reply_keys)
            extra: dict[str, Any] = meter.report(len(outcomes))
            if proxy is not None:
                extra |= outage_report(fake, outage, origin, outcomes, reply_keys, serve, env, tmp)
            phases.append(
                report_phase(
                    "rate" if proxy is None else "rate, database cut",
                    f"{args.rate:g}/s for {args.duration:g} s",
                    requests,
                    outcomes,
                    seconds,
                    origin,
                    fake,
                    drain,
                    direct,
                    server_ack,
                    extra,
                )
            )

            # ---- max-rate phase
            if args.max_duration > 0 and proxy is None:
                traffic = Traffic(pools, secret, fake.respond_base, "M", seed=args.seed + 1)
                pool = traffic.schedule(int(2000 * args.max_duration), None)
                before = ack_histogram(serve.metrics())
                print(
                    f"max phase: {args.connections} connections for {args.max_duration:g} s",
                    file=sys.stderr,
                )
                with CpuMeter(serve.worker_pids()) as meter:
                    outcomes, origin, seconds = closed_loop(
                        serve.port, pool, args.connections, args.max_duration
                    )
                server_ack = histogram_quantile(before, ack_histogram(serve.metrics()), 0.99)
                used = pool[: len(outcomes)]
                reply_keys, _ = expected(used)
                drain = wait_for_replies(fake, reply_keys)
                phases.append(
                    report_phase(
                        "max",
                        f"{args.connections} connections, {args.max_duration:g} s",
                        used,
                        outcomes,
                        seconds,
                        origin,
                        fake,
                        drain,
                        direct,
                        server_ack,
                        meter.report(len(outcomes)),
                    )
                )
            results["phases"] = [asdict(p) for p in phases]
            results["memory"] = serve.memory()
            metrics_text = serve.metrics()
            results["server"] = {
                "duplicate_deliveries": metric_value(
                    metrics_text, "rolebot_duplicate_deliveries_total"
                ),
                "api_errors": metric_value(metrics_text, "rolebot_slack_api_errors_total"),
                "spool_records": metric_value(metrics_text, "rolebot_spool_records"),
            }
        finally:
            if serve is not None:
                code, stop_s = serve.stop()
                results["shutdown"] = {"exit_code": code, "seconds": round(stop_s, 2)}
                log = serve.log.read_text(errors="replace")
                results["log_tracebacks"] = log.count("Traceback")
                if args.keep_log:
                    Path(args.keep_log).write_text(log)
            fake.stop()
            if proxy is not None:
                proxy.stop()
            if database is not None:
                database.drop()
    return results


def _cut(proxy: TcpProxy, at: float, seconds: float, note: dict[str, Any], health: str) -> None:
    """Cut the database at ``at`` for ``seconds``, asking /healthz every 100 ms meanwhile."""
    time.sleep(max(0.0, at + 0.2))
    note["start"] = time.monotonic()
    note["connections_closed"] = proxy.cut()
    statuses: Counter[str] = Counter()
    slowest = 0.0
    spooled = 0.0
    while time.monotonic() - note["start"] < seconds:
        asked = time.monotonic()
        try:
            with urllib.request.urlopen(health, timeout=5) as response:
                statuses[json.load(response)["status"]] += 1
        except OSError as error:
            statuses[type(error).__name__] += 1
        slowest = max(slowest, time.monotonic() - asked)
        with contextlib.suppress(OSError):
            metrics = health.replace("/healthz", "/metrics")
            with urllib.request.urlopen(metrics, timeout=5) as response:
                text = response.read().decode()
            spooled = max(spooled, metric_value(text, "rolebot_spool_records"))
        time.sleep(0.1)
    note["spool_peak"] = spooled
    proxy.restore()
    note["end"] = time.monotonic()
    note["healthz"] = dict(statuses)
    note["healthz_slowest_ms"] = round(slowest * 1000, 1)


def outage_report(
    fake: FakeSlack,
    outage: dict[str, Any],
    origin: float,
    outcomes: Sequence[Outcome],
    reply_keys: set[str],
    serve: Serve,
    env: dict[str, str],
    tmp: Path,
) -> dict[str, Any]:
    """Replies during the cut, the spool, and the replay after it."""
    start, end = outage["start"], outage["end"]
    replies = fake.stats()["replies"]
    during = sum(1 for key in reply_keys for t in replies.get(key, []) if start <= t <= end)
    sent_during = [o for o in outcomes if start - origin <= o.sent <= end - origin]
    spool_after_run = metric_value(serve.metrics(), "rolebot_spool_records")
    waited = time.monotonic()
    while time.monotonic() - waited < 20:
        if metric_value(serve.metrics(), "rolebot_spool_records") == 0:
            break
        time.sleep(0.25)
    auto_replay_s = time.monotonic() - waited
    spool_left = metric_value(serve.metrics(), "rolebot_spool_records")
    replay = subprocess.run(
        [*rolebot_command(), "unanswered", "replay"],
        env={**env, "DATABASE_URL": env["DATABASE_URL"]},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp,
    )
    return {
        "outage_s": round(end - start, 1),
        "connections_closed": outage.get("connections_closed"),
        "healthz_during": outage.get("healthz"),
        "healthz_slowest_ms": outage.get("healthz_slowest_ms"),
        "requests_during": len(sent_during),
        "errors_during": sum(1 for o in sent_during if o.error),
        "replies_during": during,
        "replies_per_s_during": round(during / (end - start), 1),
        "spool_peak_during": outage.get("spool_peak"),
        "spool_after_run": spool_after_run,
        "spool_after_auto_replay": spool_left,
        "auto_replay_wait_s": round(auto_replay_s, 1),
        "cli_replay": (replay.stdout or replay.stderr).strip().splitlines()[-1:],
    }


# =============================================================================== output
def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Database: {results['database']}; start-up to first 200 on /healthz: "
        f"{results['startup_s']} s (all workers ready: {results['all_workers_ready_s']} s)",
        "",
        "| phase | target | requests | errors | ack p50 | ack p99 | server p99 | acked/s | "
        "handled/s | replies posted / expected | missing | duplicate replies | retries sent | "
        "unanswered logged / expected | duplicate rows |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in results.get("phases", []):
        lines.append(
            f"| {p['name']} | {p['target']} | {p['requests']} | {p['errors']} | "
            f"{p['ack_p50_ms']} ms | {p['ack_p99_ms']} ms | {p['server_ack_p99']} | "
            f"{p['requests_per_s']} | {p['handled_per_s']} | "
            f"{p['replies_posted']} / {p['replies_expected']} | "
            f"{p['replies_missing']} | {p['replies_duplicated']} | {p['retries_sent']} | "
            f"{p['unanswered_logged']} / {p['unanswered_expected']} | {p['rows_duplicated']} |"
        )
    memory = results.get("memory", [])
    if memory:
        parts = ", ".join(f"{m['rss_mb']:.0f} MB (peak {m['peak_mb']:.0f})" for m in memory)
        lines += ["", f"RSS per worker at the end: {parts}"]
    for p in results.get("phases", []):
        if p["extra"]:
            lines += ["", f"{p['name']}: " + json.dumps(p["extra"])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s (default 200)")
    parser.add_argument("--duration", type=float, default=20.0, help="rate phase seconds")
    parser.add_argument(
        "--max-duration", type=float, default=10.0, help="max-rate phase seconds (0: skip)"
    )
    parser.add_argument("--connections", type=int, default=32, help="max phase connections")
    parser.add_argument("--senders", type=int, default=64, help="rate phase connections")
    parser.add_argument("--outage", type=float, default=0.0, help="cut PostgreSQL for S seconds")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL; SQLite)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--log-format", default="text", choices=("text", "json"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--keep-log", metavar="FILE", help="keep rolebot serve's log")
    args = parser.parse_args(argv)
    if args.outage and args.outage >= args.duration:
        parser.error("--outage must be shorter than --duration")
    results = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print(markdown(results))
    failed = [p for p in results.get("phases", []) if p["errors"]]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
