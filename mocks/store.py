"""The mock's state: JSON records per (project, kind, key), changed only in transactions.

Two backends with the same behaviour:

- `MemoryStore` (default): dictionaries in this process.
- `SqliteStore` (`--state sqlite:PATH`): one embedded SQLite file in WAL mode, so
  state survives restarts and can be shared by several worker processes.

A transaction holds the store's lock from the first read to the commit, so
concurrent requests never interleave (200 concurrent redemptions of a
one-per-user code: exactly one wins). Writes are buffered in the transaction and
applied on commit; an exception inside the `with` block discards them, so a
request that fails half-way leaves nothing behind. Records are copied in and out
(as JSON), so callers can change what they read without changing the store.

Start state: `starting()` is held while a process fills an empty store with its start state
(one process at a time, across processes for SQLite), and `loading_start_state()` marks the
store while that happens, so that a start interrupted half-way is noticed and done again.

Records are written as strict JSON: a value JSON cannot hold (NaN, Infinity) is refused at
`put`, so nothing that breaks later reads is ever stored.

Write counters: `generation` grows with every committed write, `kind_generations(kinds)`
with every write to those kinds (and with bulk changes: load, clear); derived views
(catalog pages, indexes) are cached against them. A transaction reads the counters
once (`Transaction.kind_generations`): nothing else commits while it holds the lock.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_DELETED = object()


START_MARKER = (0, "__mock__", "loading-start-state")


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Transaction:
    """Reads see this transaction's own writes; writes land on commit."""

    def __init__(self, store: Store):
        self._store = store
        self._pending: dict[tuple[int, str, str], Any] = {}
        self._order: list[tuple[int, str, str]] = []
        self._counters: dict[tuple[int, str], int] = {}
        self._generations: dict[str, int] | None = None

    def kind_generations(self, kinds: tuple[str, ...]) -> tuple[int, ...]:
        """The store's write counters of these kinds as this transaction sees them (read once)."""
        if self._generations is None:
            self._generations = self._store.generations()
        return _kind_counts(self._generations, kinds)

    def get(self, project: int, kind: str, key: str) -> Any | None:
        k = (project, kind, str(key))
        if k in self._pending:
            value = self._pending[k]
            return None if value is _DELETED else json.loads(value)
        raw = self._store._read(project, kind, str(key))
        return None if raw is None else json.loads(raw)

    def exists(self, project: int, kind: str, key: str) -> bool:
        k = (project, kind, str(key))
        if k in self._pending:
            return self._pending[k] is not _DELETED
        return self._store._read(project, kind, str(key)) is not None

    def put(self, project: int, kind: str, key: str, value: Any) -> None:
        k = (project, kind, str(key))
        if k not in self._pending:
            self._order.append(k)
        self._pending[k] = _dump(value)

    def delete(self, project: int, kind: str, key: str) -> bool:
        existed = self.exists(project, kind, key)
        k = (project, kind, str(key))
        if k not in self._pending:
            self._order.append(k)
        self._pending[k] = _DELETED
        return existed

    def items(self, project: int, kind: str) -> list[tuple[str, Any]]:
        """All records of a kind, in creation order, with this transaction's changes."""
        rows = [(key, raw) for key, raw in self._store._scan(project, kind)]
        seen = {key for key, _ in rows}
        out = []
        for key, raw in rows:
            pending = self._pending.get((project, kind, key))
            if pending is _DELETED:
                continue
            out.append((key, json.loads(pending if pending is not None else raw)))
        for p, k, key in self._order:
            if p == project and k == kind and key not in seen and self._pending[(p, k, key)] is not _DELETED:
                out.append((key, json.loads(self._pending[(p, k, key)])))
        return out

    def values(self, project: int, kind: str) -> list[Any]:
        return [v for _, v in self.items(project, kind)]

    def next_id(self, project: int, sequence: str) -> int:
        """The next number of a per-project sequence (ids start at 1)."""
        current = self._counters.get((project, sequence))
        if current is None:
            current = self._store._counter(project, sequence)
        current += 1
        self._counters[(project, sequence)] = current
        return current

    @property
    def dirty(self) -> bool:
        return bool(self._pending or self._counters)

    @property
    def dirty_kinds(self) -> set[str]:
        return {kind for _, kind, _ in self._pending}


class Store:
    """Interface and shared transaction logic of the backends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        """One serialized transaction. `write=False` announces a reader (a GET): backends
        shared by several processes let readers run side by side; should a reader write
        after all, its writes still commit, under the writers' lock."""
        with self._lock:
            self._begin(write)
            tx = Transaction(self)
            try:
                yield tx
            except BaseException:
                self._rollback()
                raise
            if tx.dirty:
                self._commit(tx)
            else:
                self._rollback()

    # backend primitives -----------------------------------------------------
    def _begin(self, write: bool = True) -> None: ...
    def _rollback(self) -> None: ...
    def _commit(self, tx: Transaction) -> None:
        raise NotImplementedError

    def _read(self, project: int, kind: str, key: str) -> str | None:
        raise NotImplementedError

    def _scan(self, project: int, kind: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _counter(self, project: int, sequence: str) -> int:
        raise NotImplementedError

    def generations(self) -> dict[str, int]:
        """The write counters: `generation` (every commit), `bulk` (load, clear), `gen:<kind>`."""
        raise NotImplementedError

    @property
    def generation(self) -> int:
        return self.generations().get("generation", 0)

    def kind_generations(self, kinds: tuple[str, ...]) -> tuple[int, ...]:
        """How many committed writes touched each kind (all projects)."""
        return _kind_counts(self.generations(), kinds)

    def export(self) -> dict[str, Any]:
        raise NotImplementedError

    def count(self) -> int:
        """How many records the store holds."""
        raise NotImplementedError

    def has_records(self) -> bool:
        return self.count() > 0

    @contextmanager
    def starting(self) -> Iterator[None]:
        """Held while the start state is checked and loaded (one process at a time)."""
        with self._lock:
            yield

    @contextmanager
    def loading_start_state(self) -> Iterator[None]:
        """Marks the store while the start state is loaded; see `start_interrupted`."""
        with self.transaction() as tx:
            tx.put(*START_MARKER, {"loading": True})
        yield
        with self.transaction() as tx:
            tx.delete(*START_MARKER)

    def start_interrupted(self) -> bool:
        """Did a process stop half-way through loading the start state?"""
        with self.transaction(write=False) as tx:
            return tx.exists(*START_MARKER)

    def load(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def close(self) -> None: ...

    @staticmethod
    def _check_state(state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or not isinstance(state.get("records"), list):
            raise ValueError("state must be an object with a 'records' list (as GET /__mock__/state returns)")
        for row in state["records"]:
            if not (isinstance(row, list) and len(row) == 4 and isinstance(row[1], str)):
                raise ValueError("each record must be [project, kind, key, value]")


class MemoryStore(Store):
    def __init__(self) -> None:
        super().__init__()
        self._data: dict[tuple[int, str], dict[str, str]] = {}
        self._counters: dict[tuple[int, str], int] = {}
        self._generations: dict[str, int] = {"generation": 0, "bulk": 0}

    def _commit(self, tx: Transaction) -> None:
        for (project, kind, key), value in tx._pending.items():
            bucket = self._data.setdefault((project, kind), {})
            if value is _DELETED:
                bucket.pop(key, None)
            else:
                bucket[key] = value
        self._counters.update(tx._counters)
        _count_writes(self._generations, ["generation", *(f"gen:{kind}" for kind in tx.dirty_kinds)])

    def _read(self, project: int, kind: str, key: str) -> str | None:
        return self._data.get((project, kind), {}).get(key)

    def _scan(self, project: int, kind: str) -> list[tuple[str, str]]:
        return list(self._data.get((project, kind), {}).items())

    def _counter(self, project: int, sequence: str) -> int:
        return self._counters.get((project, sequence), 0)

    def generations(self) -> dict[str, int]:
        return dict(self._generations)

    def export(self) -> dict[str, Any]:
        with self._lock:
            return {
                "records": [
                    [p, k, key, json.loads(v)] for (p, k), bucket in self._data.items() for key, v in bucket.items()
                ],
                "counters": [[p, s, n] for (p, s), n in self._counters.items()],
            }

    def count(self) -> int:
        with self._lock:
            return sum(len(bucket) for bucket in self._data.values())

    def load(self, state: dict[str, Any]) -> None:
        self._check_state(state)
        with self._lock:
            data: dict[tuple[int, str], dict[str, str]] = {}
            for project, kind, key, value in state["records"]:
                data.setdefault((int(project), kind), {})[str(key)] = _dump(value)
            self._data = data
            self._counters = {(int(p), s): int(n) for p, s, n in state.get("counters", [])}
            _count_writes(self._generations, ["generation", "bulk"])

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._counters.clear()
            _count_writes(self._generations, ["generation", "bulk"])


class SqliteStore(Store):
    """State in one SQLite file (WAL), safe for several threads and processes."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock_file = open(f"{self.path}.lock", "a+") if self.path != ":memory:" else None  # noqa: SIM115
        # processes that start together take turns: creating the schema, then loading the start state
        self._start_file = open(f"{self.path}.start.lock", "a+") if self.path != ":memory:" else None  # noqa: SIM115
        with self._start_lock():
            self._create_schema()

    @contextmanager
    def _start_lock(self) -> Iterator[None]:
        with self._lock:
            if self._start_file is not None:
                fcntl.flock(self._start_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if self._start_file is not None:
                    fcntl.flock(self._start_file, fcntl.LOCK_UN)

    def starting(self) -> Any:
        return self._start_lock()

    def _create_schema(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            -- the rowid keeps creation order (an upsert keeps the row, and so its rowid)
            CREATE TABLE IF NOT EXISTS records (
                id INTEGER PRIMARY KEY, project INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
                value TEXT NOT NULL, UNIQUE (project, kind, key));
            CREATE INDEX IF NOT EXISTS records_order ON records (project, kind, id);
            CREATE TABLE IF NOT EXISTS counters (project INTEGER NOT NULL, name TEXT NOT NULL,
                value INTEGER NOT NULL, PRIMARY KEY (project, name));
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO meta VALUES ('generation', 0);
            """
        )

    def _begin(self, write: bool = True) -> None:
        # Processes queue on a lock file (writers exclusive, readers shared) rather than on
        # SQLite's busy loop, which sleeps in growing steps when several processes write.
        self._file_lock(fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _file_lock(self, mode: int) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, mode)

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._file_lock(fcntl.LOCK_UN)

    def _commit(self, tx: Transaction) -> None:
        db = self._db
        try:
            self._file_lock(fcntl.LOCK_EX)  # a reader that wrote becomes a writer to commit
            deleted = [k for k, v in tx._pending.items() if v is _DELETED]
            written = [(*k, v) for k, v in tx._pending.items() if v is not _DELETED]
            if deleted:
                db.executemany("DELETE FROM records WHERE project=? AND kind=? AND key=?", deleted)
            if written:
                db.executemany(
                    "INSERT INTO records (project, kind, key, value) VALUES (?,?,?,?) "
                    "ON CONFLICT(project, kind, key) DO UPDATE SET value=excluded.value",
                    written,
                )
            if tx._counters:
                db.executemany(
                    "INSERT INTO counters VALUES (?,?,?) ON CONFLICT(project, name) DO UPDATE SET value=excluded.value",
                    [(p, name, value) for (p, name), value in tx._counters.items()],
                )
            db.executemany(
                "INSERT INTO meta VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value=value+1",
                [("generation",), *((f"gen:{kind}",) for kind in tx.dirty_kinds)],
            )
            db.execute("COMMIT")
            self._file_lock(fcntl.LOCK_UN)
        except BaseException:
            self._rollback()
            raise

    def _read(self, project: int, kind: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM records WHERE project=? AND kind=? AND key=?", (project, kind, key)
        ).fetchone()
        return row[0] if row else None

    def _scan(self, project: int, kind: str) -> list[tuple[str, str]]:
        return self._db.execute(
            "SELECT key, value FROM records WHERE project=? AND kind=? ORDER BY id", (project, kind)
        ).fetchall()

    def _counter(self, project: int, sequence: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE project=? AND name=?", (project, sequence)).fetchone()
        return row[0] if row else 0

    def generations(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT name, value FROM meta").fetchall())

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM records").fetchone()[0]

    def export(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT project, kind, key, value FROM records ORDER BY id").fetchall()
            counters = self._db.execute("SELECT project, name, value FROM counters").fetchall()
        return {
            "records": [[p, k, key, json.loads(v)] for p, k, key, v in rows],
            "counters": [list(c) for c in counters],
        }

    def load(self, state: dict[str, Any]) -> None:
        self._check_state(state)
        with self._lock:
            db = self._db
            self._file_lock(fcntl.LOCK_EX)
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM records")
                db.execute("DELETE FROM counters")
                db.executemany(
                    "INSERT INTO records (project, kind, key, value) VALUES (?,?,?,?)",
                    [(int(p), kind, str(key), _dump(value)) for p, kind, key, value in state["records"]],
                )
                db.executemany(
                    "INSERT INTO counters VALUES (?,?,?)",
                    [(int(p), name, int(value)) for p, name, value in state.get("counters", [])],
                )
                db.executemany(
                    "INSERT INTO meta VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value=value+1",
                    [("generation",), ("bulk",)],
                )
                db.execute("COMMIT")
                self._file_lock(fcntl.LOCK_UN)
            except BaseException:
                self._rollback()
                raise

    def clear(self) -> None:
        self.load({"records": [], "counters": []})

    def close(self) -> None:
        with self._lock:
            self._db.close()
            for handle in (self._lock_file, self._start_file):
                if handle is not None:
                    handle.close()


ANY_KIND = "*"  # in `kind_generations`: every committed write counts


def _kind_counts(generations: dict[str, int], kinds: tuple[str, ...]) -> tuple[int, ...]:
    # a bulk change (load, clear) touches every kind: it is part of every answer
    names = ("generation" if k == ANY_KIND else f"gen:{k}" for k in kinds)
    return (generations.get("bulk", 0), *(generations.get(n, 0) for n in names))


def _count_writes(generations: dict[str, int], names: list[str]) -> None:
    for name in names:
        generations[name] = generations.get(name, 0) + 1


def open_store(spec: str | None) -> Store:
    """`memory` (default) or `sqlite:PATH`."""
    if not spec or spec == "memory":
        return MemoryStore()
    if spec.startswith("sqlite:"):
        return SqliteStore(spec[len("sqlite:") :])
    raise ValueError(f"unknown state backend {spec!r}: use 'memory' or 'sqlite:PATH'")
