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

Group commit (SQLite): the transactions of one process that queue for the store while
a writer's transaction runs are committed with it, in one SQLite transaction; see
`SqliteStore.transaction`.

Queries: an `Index` names a kind and, for each record, the entries it has in the index:
(value, sort, part). `Transaction.find(index, value, offset=, limit=)` pages through the
records with that value, ordered by sort and then creation (`part` tells several entries
of one record apart, e.g. the game keys inside a game), and `Transaction.count` counts
them; both cost the same whatever the size of the kind (SQLite: a table of entries with
an ordered index and kept counts; memory: sorted lists). Every store process defines the
same indexes at start (`Store.define`); the entries are kept up to date on commit and
rebuilt when a definition changes, on load and on clear. A transaction holding
uncommitted writes to the kind answers from a scan of the kind instead (correct, not
fast; no request lists what it has just written).

Start state: `starting()` is held while a process fills an empty store with its start state
(one process at a time, across processes for SQLite), and `loading_start_state()` marks the
store while that happens, so that a start interrupted half-way is noticed and done again.

Nothing JSON cannot hold reaches a record: request bodies and control calls are read
strictly (`toolkit.strict_json`: no NaN, Infinity or numbers beyond 64 bits).

Write counters: `generation` grows with every committed write, `kind_generations(kinds)`
with every write to those kinds (and with bulk changes: load, clear); derived views
(catalog pages, indexes) are cached against them. A transaction reads the counters
once (`Transaction.kind_generations`): nothing else commits while it holds the lock.
"""

from __future__ import annotations

import fcntl
import math
import sqlite3
import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..toolkit._json import dumps, loads

_DELETED = object()
_LAST = math.inf  # the sort of an entry without one: after every other


@dataclass(frozen=True)
class Index:
    """Entries of the records of one kind: `entries(key, record)` -> [(value, sort, part)].

    `value` is what `find` and `count` select by (a string), `sort` orders the entries of
    one value (a number; None sorts last), `part` names one of several entries of a record
    ("" for the record itself). `version` changes when `entries` changes meaning, so that
    a store built by an earlier version is re-indexed.
    """

    kind: str
    name: str
    entries: Callable[[str, Any], Iterable[tuple[str, Any, str]]]
    version: str = "1"

    @property
    def signature(self) -> str:
        return f"{self.name}@{self.version}"

    def rows(self, key: str, record: Any) -> list[tuple[str, float, str]]:
        return [(str(v), _number(s), str(p)) for v, s, p in self.entries(key, record)]


def _number(sort: Any) -> float:
    """An entry's sort as a float: None last; integers beyond a float's range at either end."""
    if sort is None:
        return _LAST
    try:
        return float(sort)
    except OverflowError:
        return math.inf if sort > 0 else -math.inf


# An index query's answer: (record key, entry part, record), in index order.
Row = tuple[str, str, Any]


START_MARKER = (0, "__mock__", "loading-start-state")


def _dump(value: Any) -> str:
    return dumps(value).decode()


class StoreError(RuntimeError):
    """The store could not commit a transaction's writes (none of them is kept)."""


class StoreConflict(StoreError):
    """A reader's transaction wrote after what it read had changed: run it again as a writer."""


BATCH_LIMIT = 16  # transactions of one process committed together at most


class _Batch:
    """Transactions of one process whose writes are committed together."""

    def __init__(self) -> None:
        self.members = 1
        self.writes = 0  # how many members wrote
        self.error: BaseException | None = None  # why the batch was rolled back
        self.done = threading.Event()  # set once committed or rolled back


class Transaction:
    """Reads see this transaction's own writes; writes land on commit."""

    def __init__(self, store: Store):
        self._store = store
        self._pending: dict[tuple[int, str, str], Any] = {}
        self._order: list[tuple[int, str, str]] = []
        self._counters: dict[tuple[int, str], int] = {}
        self._generations: dict[str, int] | None = None
        self._absent: set[tuple[int, str, str]] = set()  # keys this transaction found missing in the store
        self.writes = 0  # how many writes this transaction made so far

    def kind_generations(self, kinds: tuple[str, ...]) -> tuple[int, ...]:
        """The store's write counters of these kinds as this transaction sees them (read once)."""
        if self._generations is None:
            self._generations = self._store.generations()
        return _kind_counts(self._generations, kinds)

    def get(self, project: int, kind: str, key: str) -> Any | None:
        k = (project, kind, str(key))
        if k in self._pending:
            value = self._pending[k]
            return None if value is _DELETED else loads(value)
        raw = self._store._read(project, kind, str(key))
        if raw is None:
            self._absent.add(k)
            return None
        return loads(raw)

    def exists(self, project: int, kind: str, key: str) -> bool:
        k = (project, kind, str(key))
        if k in self._pending:
            return self._pending[k] is not _DELETED
        if self._store._read(project, kind, str(key)) is None:
            self._absent.add(k)
            return False
        return True

    def put(self, project: int, kind: str, key: str, value: Any) -> None:
        self.writes += 1
        k = (project, kind, str(key))
        if k not in self._pending:
            self._order.append(k)
        self._pending[k] = _dump(value)

    def delete(self, project: int, kind: str, key: str) -> bool:
        existed = self.exists(project, kind, key)
        self.writes += 1
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
            out.append((key, loads(pending if pending is not None else raw)))
        for p, k, key in self._order:
            if p == project and k == kind and key not in seen and self._pending[(p, k, key)] is not _DELETED:
                out.append((key, loads(self._pending[(p, k, key)])))
        return out

    def values(self, project: int, kind: str) -> list[Any]:
        return [v for _, v in self.items(project, kind)]

    def find(
        self,
        project: int,
        index: Index,
        value: str,
        *,
        offset: int = 0,
        limit: int | None = None,
        exclude: Collection[tuple[str, str]] = (),
        between: tuple[float | None, float | None] | None = None,
    ) -> list[Row]:
        """Records with `value` in `index`, in its order: `limit` of them from `offset`, leaving out
        the (key, part) entries in `exclude`; `between` keeps sorts from..to (inclusive)."""
        return [
            (key, part, loads(raw))
            for key, part, raw in self.find_raw(
                project, index, value, offset=offset, limit=limit, exclude=exclude, between=between
            )
        ]

    def find_raw(
        self,
        project: int,
        index: Index,
        value: str,
        *,
        offset: int = 0,
        limit: int | None = None,
        exclude: Collection[tuple[str, str]] = (),
        between: tuple[float | None, float | None] | None = None,
    ) -> list[tuple[str, str, str]]:
        """`find` with the records as the store holds them (JSON text): what identifies their content."""
        if self._writes_to(project, index.kind):
            rows = self._scan_index(project, index, value, between)
            rows = [r for r in rows if (r[0], r[1]) not in exclude] if exclude else rows
            page = rows[offset : None if limit is None else offset + limit]
            return [(key, part, _dump(record)) for key, part, record in page]
        return self._store._find(project, index, str(value), offset, limit, exclude, between)

    def count(
        self, project: int, index: Index, value: str, between: tuple[float | None, float | None] | None = None
    ) -> int:
        """How many entries have `value` in `index` (with sorts in `between`)."""
        if self._writes_to(project, index.kind):
            return len(self._scan_index(project, index, value, between))
        return self._store._count(project, index, str(value), between)

    def _writes_to(self, project: int, kind: str) -> bool:
        return any(p == project and k == kind for p, k, _ in self._pending)

    def _scan_index(
        self, project: int, index: Index, value: str, between: tuple[float | None, float | None] | None
    ) -> list[Row]:
        lo, hi = _bounds(between)
        rows = []
        for rid, (key, record) in enumerate(self.items(project, index.kind)):
            for v, sort, part in index.rows(key, record):
                if v == str(value) and lo <= sort <= hi:
                    rows.append((sort, rid, part, key, record))
        rows.sort(key=lambda r: r[:3])
        return [(key, part, record) for _, _, part, key, record in rows]

    def next_id(self, project: int, sequence: str) -> int:
        """The next number of a per-project sequence (ids start at 1)."""
        current = self._counters.get((project, sequence))
        if current is None:
            current = self._store._counter(project, sequence)
        current += 1
        self.writes += 1
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
        self._indexes: dict[str, list[Index]] = {}  # kind -> its indexes

    def define(self, indexes: Iterable[Index]) -> None:
        """Keep these indexes from now on (building the entries of any not built yet)."""
        with self._lock:
            for index in indexes:
                known = self._indexes.setdefault(index.kind, [])
                if any(i.name == index.name for i in known):
                    if all(i.signature != index.signature for i in known if i.name == index.name):
                        raise ValueError(f"index {index.name} of {index.kind} defined twice, differently")
                    continue
                known.append(index)
                self._build(index)

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        """One serialized transaction. `write=False` announces a reader (a GET): backends
        shared by several processes let readers run side by side; should a reader write
        after all, its writes commit under the writers' lock, or, when another process wrote
        first what it read, it raises `StoreConflict` (run it again as a writer)."""
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

    def _build(self, index: Index) -> None:
        raise NotImplementedError

    def _find(
        self,
        project: int,
        index: Index,
        value: str,
        offset: int,
        limit: int | None,
        exclude: Collection[tuple[str, str]],
        between: tuple[float | None, float | None] | None,
    ) -> list[tuple[str, str, str]]:
        raise NotImplementedError

    def _count(self, project: int, index: Index, value: str, between: tuple[float | None, float | None] | None) -> int:
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

    def projects(self) -> list[int]:
        """The projects that hold records, in ascending order."""
        raise NotImplementedError

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
        # indexes: (project, kind, name, value) -> sorted [(sort, rid, part, key)], and what each record holds
        self._rids: dict[tuple[int, str, str], int] = {}
        self._next_rid = 0
        self._entries: dict[tuple[int, str, str, str], list[tuple[float, int, str, str]]] = {}
        self._held: dict[tuple[int, str, str], list[tuple[str, str, tuple[float, int, str, str]]]] = {}

    def _commit(self, tx: Transaction) -> None:
        for (project, kind, key), value in tx._pending.items():
            bucket = self._data.setdefault((project, kind), {})
            if value is _DELETED:
                bucket.pop(key, None)
                self._unindex(project, kind, key)
                self._rids.pop((project, kind, key), None)
            else:
                bucket[key] = value
                if kind in self._indexes:
                    self._unindex(project, kind, key)
                    self._index(project, kind, key, loads(value), self._indexes[kind])
        self._counters.update(tx._counters)
        _count_writes(self._generations, ["generation", *(f"gen:{kind}" for kind in tx.dirty_kinds)])

    # ------------------------------------------------------------------ indexes

    def _rid(self, project: int, kind: str, key: str) -> int:
        rid = self._rids.get((project, kind, key))
        if rid is None:
            self._next_rid += 1
            rid = self._rids[(project, kind, key)] = self._next_rid
        return rid

    def _index(self, project: int, kind: str, key: str, record: Any, indexes: list[Index]) -> None:
        rid = self._rid(project, kind, key)
        held = self._held.setdefault((project, kind, key), [])
        for index in indexes:
            for value, sort, part in index.rows(key, record):
                entry = (sort, rid, part, key)
                insort(self._entries.setdefault((project, kind, index.name, value), []), entry)
                held.append((index.name, value, entry))

    def _unindex(self, project: int, kind: str, key: str) -> None:
        for name, value, entry in self._held.pop((project, kind, key), ()):
            entries = self._entries[(project, kind, name, value)]
            del entries[bisect_left(entries, entry)]

    def _build(self, index: Index) -> None:
        for (project, kind), bucket in self._data.items():
            if kind != index.kind:
                continue
            for key, raw in bucket.items():
                self._index(project, kind, key, loads(raw), [index])

    def _rebuild(self) -> None:
        self._rids.clear()
        self._entries.clear()
        self._held.clear()
        for (project, kind), bucket in self._data.items():
            for key in bucket:
                self._rid(project, kind, key)
        for indexes in self._indexes.values():
            for index in indexes:
                self._build(index)

    def _find(
        self,
        project: int,
        index: Index,
        value: str,
        offset: int,
        limit: int | None,
        exclude: Collection[tuple[str, str]],
        between: tuple[float | None, float | None] | None,
    ) -> list[tuple[str, str, str]]:
        entries = self._entries.get((project, index.kind, index.name, value), [])
        start, end = _range(entries, between)
        hidden = sorted(
            position
            for key, part in exclude
            for name, v, entry in self._held.get((project, index.kind, key), ())
            if name == index.name
            and v == value
            and entry[2] == part
            and start <= (position := bisect_left(entries, entry)) < end
        )
        bucket = self._data.get((project, index.kind), {})
        positions = page_positions(start, end, hidden, offset, limit)
        return [(entries[i][3], entries[i][2], bucket[entries[i][3]]) for i in positions]

    def _count(self, project: int, index: Index, value: str, between: tuple[float | None, float | None] | None) -> int:
        entries = self._entries.get((project, index.kind, index.name, value), [])
        start, end = _range(entries, between)
        return end - start

    def _read(self, project: int, kind: str, key: str) -> str | None:
        return self._data.get((project, kind), {}).get(key)

    def _scan(self, project: int, kind: str) -> list[tuple[str, str]]:
        return list(self._data.get((project, kind), {}).items())

    def _counter(self, project: int, sequence: str) -> int:
        return self._counters.get((project, sequence), 0)

    def generations(self) -> dict[str, int]:
        return dict(self._generations)

    def projects(self) -> list[int]:
        with self._lock:
            return sorted({project for (project, _), bucket in self._data.items() if bucket})

    def export(self) -> dict[str, Any]:
        with self._lock:
            return {
                "records": [
                    [p, k, key, loads(v)] for (p, k), bucket in self._data.items() for key, v in bucket.items()
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
            self._rebuild()
            _count_writes(self._generations, ["generation", "bulk"])

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._counters.clear()
            self._rebuild()
            _count_writes(self._generations, ["generation", "bulk"])


class SqliteStore(Store):
    """State in one SQLite file (WAL), safe for several threads and processes."""

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._writer = False  # whether the transaction under way began as a writer
        self._batch: _Batch | None = None  # writers' transactions of this process committed together
        self._queued = 0  # threads of this process waiting to begin a transaction
        self._queue_lock = threading.Lock()
        self._epoch = 0  # batches rolled back after their writes were read: views built on them are void
        self._inside = False  # whether a transaction is under way (its thread holds the lock)
        self.commits = 0  # batches this process committed ...
        self.committed = 0  # ... holding this many transactions that wrote
        self._lock_file = open(f"{self.path}.lock", "a+") if self.path != ":memory:" else None  # noqa: SIM115
        # processes that start together take turns: creating the schema, then loading the start state
        self._start_file = open(f"{self.path}.start.lock", "a+") if self.path != ":memory:" else None  # noqa: SIM115
        with self._start_lock():
            self._create_schema()

    @contextmanager
    def _start_lock(self) -> Iterator[None]:
        with self._lock:
            self._settle_first()
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
        # Commits reach the OS without waiting for the disk: a mock stopped or killed at any
        # moment keeps every committed write (the OS holds it); only a power cut or an OS
        # crash can lose the last ones. For a test double's state that is not worth an fsync
        # at every checkpoint, taken under the lock every other process waits on.
        self._db.execute("PRAGMA synchronous=OFF")
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
            -- index entries (see Index), in index order, and how many each value has
            CREATE TABLE IF NOT EXISTS entries (project INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
                value TEXT NOT NULL, sort REAL NOT NULL, rid INTEGER NOT NULL, part TEXT NOT NULL,
                PRIMARY KEY (project, kind, name, value, sort, rid, part)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS entries_record ON entries (rid);
            CREATE TABLE IF NOT EXISTS entry_counts (project INTEGER NOT NULL, kind TEXT NOT NULL,
                name TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (project, kind, name, value));
            CREATE TABLE IF NOT EXISTS indexes (kind TEXT NOT NULL, name TEXT NOT NULL, signature TEXT NOT NULL,
                PRIMARY KEY (kind, name));
            """
        )

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        """As `Store.transaction`, with group commit: while other threads of this process wait
        for the store, a writer's transaction leaves its writes in the open SQLite transaction
        and the next one carries on in it; the last one commits them all (at most
        `BATCH_LIMIT`). The file lock, BEGIN, COMMIT and the page reads that follow another
        process's commit are then paid once per batch instead of once per request.

        Every transaction still sees the ones before it and nothing after; it returns only
        once its writes are committed (or raises if the batch could not commit: none of its
        writes is kept). A transaction that raises leaves nothing of its own behind, and the
        others of its batch commit.
        """
        # inside `starting()` this thread holds the lock already: nobody else can carry a batch on
        alone = self._lock._is_owned()  # type: ignore[attr-defined]
        with self._queue_lock:
            self._queued += 1
        self._lock.acquire()
        with self._queue_lock:
            self._queued -= 1
        error: BaseException | None = None
        batch: _Batch | None = None
        try:
            batch = self._join(write)
            tx = Transaction(self)
            self._inside = True
            try:
                yield tx
            except BaseException as exc:  # noqa: BLE001 - raised again below, once the batch is settled
                error = exc
            finally:
                self._inside = False
            self._leave(tx, batch, error, keep_open=not alone)
        finally:
            self._lock.release()
        if batch is not None:
            batch.done.wait()
            if batch.error is not None and error is None:
                raise StoreError("the writes could not be committed") from batch.error
        if error is not None:
            raise error

    def _join(self, write: bool) -> _Batch | None:
        """Begin a transaction, or join this process's open batch; None: a reader on its own."""
        if self._inside:
            raise RuntimeError("a store transaction cannot begin inside another one")
        if self._batch is not None:
            self._batch.members += 1
            return self._batch
        try:
            self._begin(write)
        except BaseException:
            self._rollback()
            raise
        if not write:
            return None
        self._batch = _Batch()
        return self._batch

    def _leave(self, tx: Transaction, batch: _Batch | None, error: BaseException | None, keep_open: bool) -> None:
        if batch is None:  # a reader on its own: as before batches
            if error is None and tx.dirty:
                self._commit(tx)
            else:
                self._rollback()
            return
        if error is None and tx.dirty:
            try:
                self._write(tx)
            except BaseException as exc:
                self._settle(exc)
                raise
            batch.writes += 1
        if keep_open and self._queued and batch.members < BATCH_LIMIT:
            return  # a thread waiting for the store carries the batch on
        self._settle()

    def _settle_first(self) -> None:
        """Commit the open batch before statements of their own (outside any transaction)."""
        if not self._inside:
            self._settle()

    def _settle(self, error: BaseException | None = None) -> None:
        """Commit the open batch (roll it back when `error` says a write failed), waking its members."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        try:
            if error is None and batch.writes:
                try:
                    self._db.execute("COMMIT")
                    self.commits, self.committed = self.commits + 1, self.committed + batch.writes
                except BaseException as exc:
                    error = exc
            if error is not None or not batch.writes:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            if error is not None and batch.writes:
                self._epoch += 1  # members read writes that are gone: what they cached must not be found
        finally:
            self._file_lock(fcntl.LOCK_UN)
            batch.error = error
            batch.done.set()

    def _begin(self, write: bool = True) -> None:
        # Processes queue on a lock file (writers exclusive, readers shared) rather than on
        # SQLite's busy loop, which sleeps in growing steps when several processes write.
        self._file_lock(fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        self._writer = write

    def _file_lock(self, mode: int) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, mode)

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._file_lock(fcntl.LOCK_UN)

    def _commit(self, tx: Transaction) -> None:
        """Commit a reader's transaction that wrote after all.

        Its shared lock becomes the writers' lock, which lets a writer of another process go
        first; SQLite then refuses to write on what this transaction read (SQLITE_BUSY_SNAPSHOT)
        and `StoreConflict` asks the caller to run it again as a writer.
        """
        try:
            self._file_lock(fcntl.LOCK_EX)
            self._write(tx)
            self._db.execute("COMMIT")
            self._file_lock(fcntl.LOCK_UN)
        except BaseException as exc:
            self._rollback()
            if getattr(exc, "sqlite_errorname", None) == "SQLITE_BUSY_SNAPSHOT":
                raise StoreConflict("what the transaction read changed before it could write") from exc
            raise

    def _write(self, tx: Transaction) -> None:
        """A transaction's writes, into the SQLite transaction under way."""
        db = self._db
        indexed = {k: v for k, v in tx._pending.items() if k[1] in self._indexes}
        deleted = [k for k, v in tx._pending.items() if v is _DELETED and k not in indexed]
        written = [(*k, v) for k, v in tx._pending.items() if v is not _DELETED and k not in indexed]
        if deleted:
            db.executemany("DELETE FROM records WHERE project=? AND kind=? AND key=?", deleted)
        if written:
            _insert(db, "INSERT INTO records (project, kind, key, value)", written, _UPSERT_TAIL)
        if indexed:
            # a writer held the lock since it found a key missing: nothing indexes it yet
            self._write_indexed(indexed, tx._absent if self._writer else set())
        if tx._counters:
            rows = [(p, name, value) for (p, name), value in tx._counters.items()]
            _insert(db, "INSERT INTO counters", rows, _COUNTER_TAIL)
        names = [("generation", 1), *((f"gen:{kind}", 1) for kind in tx.dirty_kinds)]
        _insert(db, "INSERT INTO meta", names, "ON CONFLICT(name) DO UPDATE SET value=value+1")

    def _write_indexed(self, pending: dict[tuple[int, str, str], Any], new: set[tuple[int, str, str]]) -> None:
        """Write records of indexed kinds, replacing their entries and keeping the counts; `new`
        names keys no record had (their entries need no replacing)."""
        db, counts = self._db, _Counts()
        added: list[tuple[Any, ...]] = []
        for (project, kind, key), value in pending.items():
            if value is _DELETED:
                row = db.execute(
                    "DELETE FROM records WHERE project=? AND kind=? AND key=? RETURNING id", (project, kind, key)
                ).fetchone()
                if row is None:
                    continue
            else:
                row = db.execute(_UPSERT + " RETURNING id", (project, kind, key, value)).fetchone()
            rid = row[0]
            if (project, kind, key) not in new:
                for name, old in db.execute("DELETE FROM entries WHERE rid=? RETURNING name, value", (rid,)):
                    counts.add(project, kind, name, old, -1)
            if value is _DELETED:
                continue
            record = loads(value)
            for index in self._indexes[kind]:
                for v, sort, part in index.rows(key, record):
                    added.append((project, kind, index.name, v, sort, rid, part))
                    counts.add(project, kind, index.name, v, 1)
        _insert(db, "INSERT INTO entries", added)
        counts.write(db)

    def _build(self, index: Index) -> None:
        db = self._db
        self._settle_first()
        found = db.execute("SELECT signature FROM indexes WHERE kind=? AND name=?", (index.kind, index.name)).fetchone()
        if found and found[0] == index.signature:
            return
        self._file_lock(fcntl.LOCK_EX)
        db.execute("BEGIN IMMEDIATE")
        try:
            found = db.execute(
                "SELECT signature FROM indexes WHERE kind=? AND name=?", (index.kind, index.name)
            ).fetchone()
            if not (found and found[0] == index.signature):  # another process may have built it meanwhile
                self._fill(index)
            db.execute("COMMIT")
            self._file_lock(fcntl.LOCK_UN)
        except BaseException:
            self._rollback()
            raise

    def _fill(self, index: Index) -> None:
        """(Re)build the entries and counts of one index from the records (inside a write transaction)."""
        db, counts = self._db, _Counts()
        db.execute("DELETE FROM entries WHERE kind=? AND name=?", (index.kind, index.name))
        db.execute("DELETE FROM entry_counts WHERE kind=? AND name=?", (index.kind, index.name))
        added = []
        for rid, project, key, raw in db.execute(
            "SELECT id, project, key, value FROM records WHERE kind=? ORDER BY id", (index.kind,)
        ):
            for v, sort, part in index.rows(key, loads(raw)):
                added.append((project, index.kind, index.name, v, sort, rid, part))
                counts.add(project, index.kind, index.name, v, 1)
        db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?)", added)
        counts.write(db)
        db.execute(
            "INSERT INTO indexes VALUES (?,?,?) ON CONFLICT(kind, name) DO UPDATE SET signature=excluded.signature",
            (index.kind, index.name, index.signature),
        )

    def _find(
        self,
        project: int,
        index: Index,
        value: str,
        offset: int,
        limit: int | None,
        exclude: Collection[tuple[str, str]],
        between: tuple[float | None, float | None] | None,
    ) -> list[tuple[str, str, str]]:
        sql = (
            "SELECT r.key, e.part, r.value FROM entries e JOIN records r ON r.id = e.rid "
            "WHERE e.project=? AND e.kind=? AND e.name=? AND e.value=?"
        )
        args: list[Any] = [project, index.kind, index.name, value]
        if between is not None:
            sql += " AND e.sort BETWEEN ? AND ?"
            args += _bounds(between)
        if exclude:
            sql += " AND (r.key, e.part) NOT IN (VALUES " + ",".join("(?,?)" for _ in exclude) + ")"
            args += [x for pair in exclude for x in pair]
        sql += " ORDER BY e.sort, e.rid, e.part LIMIT ? OFFSET ?"
        args += [-1 if limit is None else limit, offset]
        return self._db.execute(sql, args).fetchall()

    def _count(self, project: int, index: Index, value: str, between: tuple[float | None, float | None] | None) -> int:
        if between is not None:
            row = self._db.execute(
                "SELECT COUNT(*) FROM entries "
                "WHERE project=? AND kind=? AND name=? AND value=? AND sort BETWEEN ? AND ?",
                (project, index.kind, index.name, value, *_bounds(between)),
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT n FROM entry_counts WHERE project=? AND kind=? AND name=? AND value=?",
                (project, index.kind, index.name, value),
            ).fetchone()
        return row[0] if row else 0

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
            found = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        if self._epoch:
            found["epoch"] = self._epoch
        return found

    def projects(self) -> list[int]:
        with self._lock:
            self._settle_first()
            return [row[0] for row in self._db.execute("SELECT DISTINCT project FROM records ORDER BY project")]

    def count(self) -> int:
        with self._lock:
            self._settle_first()
            return self._db.execute("SELECT count(*) FROM records").fetchone()[0]

    def export(self) -> dict[str, Any]:
        with self._lock:
            self._settle_first()
            rows = self._db.execute("SELECT project, kind, key, value FROM records ORDER BY id").fetchall()
            counters = self._db.execute("SELECT project, name, value FROM counters").fetchall()
        return {
            "records": [[p, k, key, loads(v)] for p, k, key, v in rows],
            "counters": [list(c) for c in counters],
        }

    def load(self, state: dict[str, Any]) -> None:
        self._check_state(state)
        with self._lock:
            self._settle_first()
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
                db.execute("DELETE FROM entries")
                db.execute("DELETE FROM entry_counts")
                db.execute("DELETE FROM indexes")
                for indexes in self._indexes.values():
                    for index in indexes:
                        self._fill(index)
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
            self._settle_first()
            self._db.close()
            for handle in (self._lock_file, self._start_file):
                if handle is not None:
                    handle.close()


ANY_KIND = "*"  # in `kind_generations`: every committed write counts

_COUNTER_TAIL = "ON CONFLICT(project, name) DO UPDATE SET value=excluded.value"
_UPSERT_TAIL = "ON CONFLICT(project, kind, key) DO UPDATE SET value=excluded.value"
_UPSERT = "INSERT INTO records (project, kind, key, value) VALUES (?,?,?,?) " + _UPSERT_TAIL


class _Counts:
    """Changes to the entry counts of a commit, written at once."""

    def __init__(self) -> None:
        self.delta: dict[tuple[int, str, str, str], int] = {}

    def add(self, project: int, kind: str, name: str, value: str, n: int) -> None:
        key = (project, kind, name, value)
        self.delta[key] = self.delta.get(key, 0) + n

    def write(self, db: sqlite3.Connection) -> None:
        _insert(
            db,
            "INSERT INTO entry_counts",
            [(*key, n) for key, n in self.delta.items() if n],
            "ON CONFLICT(project, kind, name, value) DO UPDATE SET n = n + excluded.n",
        )


_ROWS_PER_STATEMENT = 500


def _insert(db: sqlite3.Connection, head: str, rows: list[tuple[Any, ...]], tail: str = "") -> None:
    """`head VALUES (...), (...) tail`: rows written by one statement (up to _ROWS_PER_STATEMENT each),
    not one call into SQLite per row as `executemany` makes (each lets other threads run first)."""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        one = "(" + ",".join("?" * len(chunk[0])) + ")"
        db.execute(f"{head} VALUES {','.join([one] * len(chunk))} {tail}", [x for row in chunk for x in row])


def _bounds(between: tuple[float | None, float | None] | None) -> tuple[float, float]:
    lo, hi = between or (None, None)
    return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))


def _range(
    entries: list[tuple[float, int, str, str]], between: tuple[float | None, float | None] | None
) -> tuple[int, int]:
    if between is None:
        return 0, len(entries)
    lo, hi = _bounds(between)
    start = bisect_left(entries, (lo,))
    return start, max(start, bisect_left(entries, (hi, math.inf)))


def page_positions(start: int, end: int, hidden: list[int], offset: int, limit: int | None) -> range | list[int]:
    """Positions start..end-1 less the (sorted) `hidden` ones: `limit` of them from the `offset`-th."""
    if not hidden:
        first = start + offset
        return range(first, end if limit is None else min(end, first + limit))
    first = start + offset
    while (moved := start + offset + bisect_right(hidden, first)) != first:  # hidden ones before move the page
        first = moved
    skip = set(hidden)
    out: list[int] = []
    position = first
    while position < end and (limit is None or len(out) < limit):
        if position not in skip:
            out.append(position)
        position += 1
    return out


def _kind_counts(generations: dict[str, int], kinds: tuple[str, ...]) -> tuple[int, ...]:
    # a bulk change (load, clear) touches every kind: it is part of every answer
    names = ("generation" if k == ANY_KIND else f"gen:{k}" for k in kinds)
    return (generations.get("bulk", 0), generations.get("epoch", 0), *(generations.get(n, 0) for n in names))


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
