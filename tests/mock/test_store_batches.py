"""Concurrency of the SQLite store: group commit (transactions of one process that queue for
the store are committed together, each still alone, in order, and all or nothing per
transaction), and readers that write after another process wrote."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from xsolla_contract.mocks import MockConfig, SqliteStore, create_app, engine_of, mint_token
from xsolla_contract.mocks.store import StoreConflict, StoreError
from xsolla_contract.toolkit.spec import Spec


def _queued(store: SqliteStore, n: int) -> None:
    """Wait until n threads wait for the store."""
    deadline = time.monotonic() + 10
    while store._queued < n:
        assert time.monotonic() < deadline, "the threads never queued"
        time.sleep(0.005)


class Holder:
    """A writer's transaction kept open until `release()`, while other threads queue behind it."""

    def __init__(self, store: SqliteStore, key: str):
        self.inside, self.go, self.error = threading.Event(), threading.Event(), None
        self.thread = threading.Thread(target=self._run, args=(store, key))
        self.thread.start()
        assert self.inside.wait(10)

    def _run(self, store: SqliteStore, key: str) -> None:
        try:
            with store.transaction() as tx:
                tx.put(1, "thing", key, {"key": key})
                self.inside.set()
                self.go.wait(10)
        except BaseException as exc:  # noqa: BLE001 - looked at by the test
            self.error = exc

    def release(self) -> None:
        self.go.set()
        self.thread.join(10)


def _writer(store: SqliteStore, key: str, errors: dict[str, BaseException], fail: bool = False) -> threading.Thread:
    def run() -> None:
        try:
            with store.transaction() as tx:
                tx.put(1, "thing", key, {"key": key})
                if fail:
                    raise ValueError(f"{key} fails")
        except BaseException as exc:  # noqa: BLE001 - looked at by the test
            errors[key] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _keys(store: SqliteStore) -> set[str]:
    with store.transaction(write=False) as tx:
        return {key for key, _ in tx.items(1, "thing")}


def test_transactions_queued_behind_a_writer_commit_with_it(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    commits = store.commits
    holder, errors = Holder(store, "a"), {}
    threads = [_writer(store, "b", errors), _writer(store, "c", errors)]
    _queued(store, 2)
    holder.release()
    for t in threads:
        t.join(10)
    assert holder.error is None and errors == {}
    assert _keys(store) == {"a", "b", "c"}
    assert store.commits == commits + 1  # one COMMIT for the three


def test_a_transaction_that_raises_leaves_nothing_and_its_batch_commits(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    holder, errors = Holder(store, "a"), {}
    threads = [_writer(store, "b", errors, fail=True), _writer(store, "c", errors)]
    _queued(store, 2)
    holder.release()
    for t in threads:
        t.join(10)
    assert holder.error is None
    assert list(errors) == ["b"] and isinstance(errors["b"], ValueError)
    assert _keys(store) == {"a", "c"}


def test_a_batch_that_cannot_write_keeps_none_of_it_and_the_store_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    before = store.kind_generations(("thing",))
    write = store._write

    def broken(tx) -> None:  # the disk is full, say, for the second writer
        write(tx)
        if (1, "thing", "b") in tx._pending:
            raise OSError("disk full")

    monkeypatch.setattr(store, "_write", broken)
    holder, errors = Holder(store, "a"), {}
    thread = _writer(store, "b", errors)
    _queued(store, 1)
    holder.release()
    thread.join(10)
    assert isinstance(errors["b"], OSError)
    assert isinstance(holder.error, StoreError)  # answered as failed: its write went with the batch
    assert _keys(store) == set()
    # views built on the writes rolled back are never found again
    assert store.kind_generations(("thing",)) not in (before, (before[0], before[1], before[2] + 1))
    with store.transaction() as tx:
        tx.put(1, "thing", "d", {"key": "d"})
    assert _keys(store) == {"d"}


def test_a_transaction_inside_a_transaction_is_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError, match="inside another"), store.transaction() as tx:
        tx.put(1, "thing", "a", {"key": "a"})
        with store.transaction():
            pass
    assert _keys(store) == set()
    with store.transaction() as tx:
        tx.put(1, "thing", "b", {"key": "b"})
    assert _keys(store) == {"b"}


_PROCESS = """
import sys, threading
from xsolla_contract.mocks import SqliteStore
store = SqliteStore(sys.argv[1])
name = sys.argv[2]

def work(t):
    for n in range(100):
        with store.transaction() as tx:
            counter = tx.get(1, "counter", "n") or {"n": 0}
            tx.put(1, "counter", "n", {"n": counter["n"] + 1})
            tx.put(1, "thing", f"{name}-{t}-{n}", {"n": n})

threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(store.commits, store.committed)
"""


def test_two_processes_of_four_threads_lose_no_update(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    SqliteStore(path).close()  # the schema, once
    runs = [
        subprocess.Popen([sys.executable, "-c", _PROCESS, path, name], stdout=subprocess.PIPE, text=True)
        for name in ("p", "q")
    ]
    outputs = [run.communicate(timeout=120)[0].split() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    store = SqliteStore(path)
    with store.transaction(write=False) as tx:
        assert tx.get(1, "counter", "n") == {"n": 800}
        assert len(tx.items(1, "thing")) == 800
    commits, committed = (sum(int(out[i]) for out in outputs) for i in (0, 1))
    assert committed == 800
    assert commits < committed  # transactions did share commits


def _write_from_another_process(path: Path, key: str) -> None:
    """A commit made meanwhile by another mock sharing the file (its own SQLite connection)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute(
        "INSERT INTO records (project, kind, key, value) VALUES (1, 'thing', ?, ?)", (key, f'{{"key": "{key}"}}')
    )
    other.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")
    other.close()


def test_a_reader_that_writes_on_a_state_changed_meanwhile_is_told_to_run_again(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    with pytest.raises(StoreConflict), store.transaction(write=False) as tx:
        assert tx.get(1, "thing", "a") is None  # what it read ...
        _write_from_another_process(path, "a")  # ... changes before it writes
        tx.put(1, "thing", "a", {"key": "mine"})
    assert _keys(store) == {"a"}
    with store.transaction(write=False) as tx:
        assert tx.get(1, "thing", "a") == {"key": "a"}  # the other process's write stands
    with store.transaction() as tx:  # and the store goes on
        tx.put(1, "thing", "b", {"key": "b"})
    assert _keys(store) == {"a", "b"}


def test_a_read_that_writes_runs_again_as_a_writer_when_another_process_went_first(
    tmp_path: Path, spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET cart opens a cart; a mock of another process writing meanwhile must not make it a 500."""
    path = tmp_path / "s.sqlite"
    app = create_app(spec, store=f"sqlite:{path}", config=MockConfig(seed=None, empty=True))
    store = engine_of(app).store
    commit, conflicts = store._commit, []

    def other_process_first(tx) -> None:
        if not conflicts:  # the first reader that writes finds that another process wrote since it read
            _write_from_another_process(path, "other")
            conflicts.append(1)
        commit(tx)

    monkeypatch.setattr(store, "_commit", other_process_first)
    token = mint_token("player-1", project=engine_of(app).config.project_id)
    got = app.test_client().get(
        f"/api/v2/project/{engine_of(app).config.project_id}/cart", headers={"Authorization": f"Bearer {token}"}
    )
    assert got.status_code == 200, got.get_data(as_text=True)
    assert conflicts == [1]
    with store.transaction(write=False) as tx:
        assert len(tx.items(engine_of(app).config.project_id, "cart")) == 1  # one cart, opened once
        assert tx.get(1, "thing", "other") == {"key": "other"}
