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

`generation` grows with every committed write; derived views (catalog pages)
are cached against it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_DELETED = object()


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Transaction:
    """Reads see this transaction's own writes; writes land on commit."""

    def __init__(self, store: Store):
        self._store = store
        self._pending: dict[tuple[int, str, str], Any] = {}
        self._order: list[tuple[int, str, str]] = []
        self._counters: dict[tuple[int, str], int] = {}

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


class Store:
    """Interface and shared transaction logic of the backends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            self._begin()
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
    def _begin(self) -> None: ...
    def _rollback(self) -> None: ...
    def _commit(self, tx: Transaction) -> None:
        raise NotImplementedError

    def _read(self, project: int, kind: str, key: str) -> str | None:
        raise NotImplementedError

    def _scan(self, project: int, kind: str) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _counter(self, project: int, sequence: str) -> int:
        raise NotImplementedError

    @property
    def generation(self) -> int:
        raise NotImplementedError

    def export(self) -> dict[str, Any]:
        raise NotImplementedError

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
        self._generation = 0

    def _commit(self, tx: Transaction) -> None:
        for (project, kind, key), value in tx._pending.items():
            bucket = self._data.setdefault((project, kind), {})
            if value is _DELETED:
                bucket.pop(key, None)
            else:
                bucket[key] = value
        self._counters.update(tx._counters)
        self._generation += 1

    def _read(self, project: int, kind: str, key: str) -> str | None:
        return self._data.get((project, kind), {}).get(key)

    def _scan(self, project: int, kind: str) -> list[tuple[str, str]]:
        return list(self._data.get((project, kind), {}).items())

    def _counter(self, project: int, sequence: str) -> int:
        return self._counters.get((project, sequence), 0)

    @property
    def generation(self) -> int:
        return self._generation

    def export(self) -> dict[str, Any]:
        with self._lock:
            return {
                "records": [
                    [p, k, key, json.loads(v)] for (p, k), bucket in self._data.items() for key, v in bucket.items()
                ],
                "counters": [[p, s, n] for (p, s), n in self._counters.items()],
            }

    def load(self, state: dict[str, Any]) -> None:
        self._check_state(state)
        with self._lock:
            data: dict[tuple[int, str], dict[str, str]] = {}
            for project, kind, key, value in state["records"]:
                data.setdefault((int(project), kind), {})[str(key)] = _dump(value)
            self._data = data
            self._counters = {(int(p), s): int(n) for p, s, n in state.get("counters", [])}
            self._generation += 1

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._counters.clear()
            self._generation += 1


class SqliteStore(Store):
    """State in one SQLite file (WAL), safe for several threads and processes."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS records (
                project INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
                seq INTEGER NOT NULL, value TEXT NOT NULL,
                PRIMARY KEY (project, kind, key));
            CREATE INDEX IF NOT EXISTS records_order ON records (project, kind, seq);
            CREATE TABLE IF NOT EXISTS counters (project INTEGER NOT NULL, name TEXT NOT NULL,
                value INTEGER NOT NULL, PRIMARY KEY (project, name));
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO meta VALUES ('generation', 0), ('seq', 0);
            """
        )

    def _begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # takes the write lock across processes

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _commit(self, tx: Transaction) -> None:
        db = self._db
        try:
            seq = db.execute("SELECT value FROM meta WHERE name='seq'").fetchone()[0]
            for (project, kind, key), value in tx._pending.items():
                if value is _DELETED:
                    db.execute("DELETE FROM records WHERE project=? AND kind=? AND key=?", (project, kind, key))
                    continue
                updated = db.execute(
                    "UPDATE records SET value=? WHERE project=? AND kind=? AND key=?", (value, project, kind, key)
                ).rowcount
                if not updated:
                    seq += 1
                    db.execute("INSERT INTO records VALUES (?,?,?,?,?)", (project, kind, key, seq, value))
            for (project, name), value in tx._counters.items():
                db.execute(
                    "INSERT INTO counters VALUES (?,?,?) ON CONFLICT(project, name) DO UPDATE SET value=?",
                    (project, name, value, value),
                )
            db.execute("UPDATE meta SET value=? WHERE name='seq'", (seq,))
            db.execute("UPDATE meta SET value=value+1 WHERE name='generation'")
            db.execute("COMMIT")
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
            "SELECT key, value FROM records WHERE project=? AND kind=? ORDER BY seq", (project, kind)
        ).fetchall()

    def _counter(self, project: int, sequence: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE project=? AND name=?", (project, sequence)).fetchone()
        return row[0] if row else 0

    @property
    def generation(self) -> int:
        with self._lock:
            return self._db.execute("SELECT value FROM meta WHERE name='generation'").fetchone()[0]

    def export(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT project, kind, key, value FROM records ORDER BY seq").fetchall()
            counters = self._db.execute("SELECT project, name, value FROM counters").fetchall()
        return {
            "records": [[p, k, key, json.loads(v)] for p, k, key, v in rows],
            "counters": [list(c) for c in counters],
        }

    def load(self, state: dict[str, Any]) -> None:
        self._check_state(state)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM records")
                db.execute("DELETE FROM counters")
                for seq, (project, kind, key, value) in enumerate(state["records"], start=1):
                    db.execute(
                        "INSERT INTO records VALUES (?,?,?,?,?)", (int(project), kind, str(key), seq, _dump(value))
                    )
                for project, name, value in state.get("counters", []):
                    db.execute("INSERT INTO counters VALUES (?,?,?)", (int(project), name, int(value)))
                db.execute("UPDATE meta SET value=? WHERE name='seq'", (len(state["records"]),))
                db.execute("UPDATE meta SET value=value+1 WHERE name='generation'")
                db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def clear(self) -> None:
        self.load({"records": [], "counters": []})

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(spec: str | None) -> Store:
    """`memory` (default) or `sqlite:PATH`."""
    if not spec or spec == "memory":
        return MemoryStore()
    if spec.startswith("sqlite:"):
        return SqliteStore(spec[len("sqlite:") :])
    raise ValueError(f"unknown state backend {spec!r}: use 'memory' or 'sqlite:PATH'")
