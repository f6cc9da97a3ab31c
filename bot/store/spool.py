"""The local spool: where records wait, on disk, while the database is down or locked.

One JSON object per line in ``<data dir>/spool.jsonl``. Safe for several threads and processes:

* Appending opens the file with ``O_APPEND``, takes a *shared* ``flock`` and writes the whole
  line with one ``write``; appenders never wait for each other.
* Replaying takes the *exclusive* lock (so no append is half-done), renames the file to
  ``spool-replay-<random>.jsonl`` and lets go at once; appenders that still held the old file
  notice the rename and start a new one. The renamed file is then read and handed to the
  database at leisure, under its own lock, and deleted only once the database has taken it.
  A replay that fails (or a process that dies) leaves the file for the next replay.

Every record carries a unique ``client_id``, so a replay repeated after a crash inserts nothing
twice. Lines that are not valid JSON (a torn write after a power cut) are moved to
``spool-rejected.jsonl`` rather than dropped.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SPOOL_NAME = "spool.jsonl"
REPLAY_GLOB = "spool-replay-*.jsonl"
REJECTED_NAME = "spool-rejected.jsonl"

Record = dict[str, Any]
Handler = Callable[[Sequence[Record]], None]


class Spool:
    """An append-only JSON-lines file in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / SPOOL_NAME

    # ------------------------------------------------------------------ writing
    def append(self, record: Record) -> None:
        """Add one record. Raises ``OSError`` only if the disk itself refuses."""
        data = _line(record)
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(10):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                if not _same_file(fd, self.path):
                    continue  # a replay took this file away: write to the new one
                _write_all(fd, data)
                return
            finally:
                os.close(fd)
        raise OSError(errno.EAGAIN, f"the spool at {self.path} kept moving; try again")

    # ------------------------------------------------------------------ reading
    def pending(self) -> bool:
        """Whether anything waits to be replayed (cheap: two stat calls at most)."""
        try:
            if self.path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            pass
        return any(self.directory.glob(REPLAY_GLOB)) if self.directory.is_dir() else False

    def count(self) -> int:
        """How many records wait (reads the files)."""
        total = 0
        for path in [self.path, *sorted(self.directory.glob(REPLAY_GLOB))]:
            try:
                with path.open("rb") as handle:
                    total += sum(1 for line in handle if line.strip())
            except FileNotFoundError:
                continue
        return total

    def replay(self, handler: Handler) -> int:
        """Hand every waiting record to ``handler``; a batch is deleted once it returns.

        If ``handler`` raises, the batch stays for the next replay and the error propagates.
        Returns how many records were handed over.
        """
        self._take_current()
        done = 0
        for path in sorted(self.directory.glob(REPLAY_GLOB)):
            with _claimed(path) as fd:
                if fd is None:
                    continue  # another process is replaying it, or it is gone
                records = self._read(fd, path)
                if records:
                    handler(records)
                path.unlink(missing_ok=True)
                done += len(records)
        return done

    def _take_current(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits only for appends in progress
            if not _same_file(fd, self.path) or os.fstat(fd).st_size == 0:
                return
            target = self.directory / f"spool-replay-{uuid.uuid4().hex}.jsonl"
            self.path.rename(target)
        finally:
            os.close(fd)

    def _read(self, fd: int, path: Path) -> list[Record]:
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read()
        records: list[Record] = []
        rejected: list[bytes] = []
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                rejected.append(line)
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                rejected.append(line)
        if rejected:
            logger.warning(
                "%d unreadable line(s) in %s moved to %s", len(rejected), path.name, REJECTED_NAME
            )
            self._set_aside(b"".join(line + b"\n" for line in rejected))
        return records

    def reject(self, records: Sequence[Record]) -> None:
        """Set records aside in ``spool-rejected.jsonl`` for a person to look at."""
        self._set_aside(b"".join(_line(r) for r in records))

    def _set_aside(self, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        out = os.open(self.directory / REJECTED_NAME, flags, 0o600)
        try:
            _write_all(out, data)
        finally:
            os.close(out)


def _line(record: Record) -> bytes:
    """One JSON line in UTF-8. Text that is not valid Unicode (a lone surrogate) is written as
    a JSON escape instead of failing, so the record is kept."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        return (text + "\n").encode()
    except UnicodeEncodeError:
        return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def _same_file(fd: int, path: Path) -> bool:
    try:
        current = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (current.st_dev, current.st_ino)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@contextmanager
def _claimed(path: Path) -> Iterator[int | None]:
    """An exclusive, non-blocking claim on a replay file (``None`` when someone else has it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield fd if _same_file(fd, path) else None
    finally:
        os.close(fd)
