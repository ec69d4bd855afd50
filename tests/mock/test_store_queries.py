"""Store queries: indexes page, order and count in the store, the same in both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xsolla_contract.mocks.store import Index, MemoryStore, SqliteStore, Store, Transaction

BY_TYPE = Index("item", "type", lambda key, r: [(r["type"], r.get("order"), "")])
PARTS = Index("item", "parts", lambda key, r: [("all", r.get("order"), str(n)) for n in range(r.get("parts", 0))])


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    made = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "state.sqlite")
    with made.transaction() as tx:
        tx.put(1, "item", "before", {"type": "a", "order": 5})  # written before the index exists
    made.define([BY_TYPE, PARTS])
    with made.transaction() as tx:
        for n in range(20):
            order = None if n % 3 == 0 else (n * 7) % 5
            tx.put(1, "item", f"k{n}", {"type": "ab"[n % 2], "order": order, "parts": n % 3})
        tx.put(2, "item", "other-project", {"type": "a", "order": 0})
    return made


def keys(rows: list[tuple[str, str, Any]]) -> list[str]:
    return [key for key, _, _ in rows]


EXPECTED_A = ["k10", "k8", "k16", "k4", "k14", "k2", "before", "k0", "k6", "k12", "k18"]  # by order, None last


def test_find_orders_by_sort_then_creation_and_counts(store: Store) -> None:
    with store.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "a")) == EXPECTED_A
        assert tx.count(1, BY_TYPE, "a") == len(EXPECTED_A)
        assert keys(tx.find(2, BY_TYPE, "a")) == ["other-project"]
        assert tx.find(1, BY_TYPE, "a", limit=1)[0][2] == {"type": "a", "order": 0, "parts": 1}


def test_pages_leave_out_excluded_entries_and_ranges_select_sorts(store: Store) -> None:
    with store.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "a", offset=2, limit=3)) == EXPECTED_A[2:5]
        visible = [k for k in EXPECTED_A if k not in ("k8", "k4")]
        assert keys(tx.find(1, BY_TYPE, "a", offset=2, limit=3, exclude={("k8", ""), ("k4", "")})) == visible[2:5]
        assert keys(tx.find(1, BY_TYPE, "a", between=(1, 3))) == ["k8", "k16", "k4", "k14"]
        assert tx.count(1, BY_TYPE, "a", between=(1, 3)) == 4


def test_several_entries_of_a_record_are_told_apart_by_part(store: Store) -> None:
    with store.transaction(write=False) as tx:
        rows = tx.find(1, PARTS, "all", limit=4)
        assert [(key, part) for key, part, _ in rows] == [("k5", "0"), ("k5", "1"), ("k10", "0"), ("k8", "0")]
        assert tx.count(1, PARTS, "all") == sum(n % 3 for n in range(20))


def test_writes_keep_entries_and_counts_and_a_transaction_sees_its_own(store: Store) -> None:
    with store.transaction() as tx:
        tx.delete(1, "item", "k4")
        tx.put(1, "item", "k2", {"type": "b"})
        tx.put(1, "item", "new", {"type": "a", "order": -1})
        expected = ["new", *[k for k in EXPECTED_A if k not in ("k4", "k2")]]
        assert keys(tx.find(1, BY_TYPE, "a")) == expected and tx.count(1, BY_TYPE, "a") == len(expected)
    with store.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "a")) == expected and tx.count(1, BY_TYPE, "a") == len(expected)
        assert "k2" in keys(tx.find(1, BY_TYPE, "b"))


def test_a_failed_transaction_changes_no_entry(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put(1, "item", "k10", {"type": "b"})
        raise RuntimeError
    with store.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "a")) == EXPECTED_A


def test_load_and_clear_rebuild_the_entries(store: Store) -> None:
    state = store.export()
    store.clear()
    with store.transaction(write=False) as tx:
        assert tx.find(1, BY_TYPE, "a") == [] and tx.count(1, BY_TYPE, "a") == 0
    store.load(state)
    with store.transaction(write=False) as tx:
        assert sorted(keys(tx.find(1, BY_TYPE, "a"))) == sorted(EXPECTED_A)
        assert tx.count(1, BY_TYPE, "a") == len(EXPECTED_A)


def test_a_changed_definition_rebuilds_a_persisted_index(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = SqliteStore(path)
    first.define([BY_TYPE])
    with first.transaction() as tx:
        tx.put(1, "item", "x", {"type": "a", "order": 1})
    first.close()
    again = SqliteStore(path)
    changed = Index("item", "type", lambda key, r: [(r["type"].upper(), r.get("order"), "")], version="2")
    again.define([changed])
    with again.transaction(write=False) as tx:
        assert keys(tx.find(1, changed, "A")) == ["x"] and tx.count(1, changed, "a") == 0


def test_the_processes_of_one_store_file_share_entries(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    one, two = SqliteStore(path), SqliteStore(path)
    one.define([BY_TYPE])
    two.define([BY_TYPE])
    with one.transaction() as tx:
        tx.put(1, "item", "x", {"type": "a", "order": 1})
    with two.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "a")) == ["x"] and tx.count(1, BY_TYPE, "a") == 1


def test_lists_read_pages_not_kinds(app_api: Any, mock_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Admin and client lists, promotions, codes and orders: no request scans a whole kind."""
    from xsolla_contract.mocks import engine_of

    def seed(ctx: Any) -> None:
        items, coupons = ctx.resource("virtual_item"), ctx.resource("coupon")
        for n in range(300):
            items.save(ctx, items.build(ctx, {"sku": f"many_{n}", "name": {"en": "Many"}, "order": n}, None))
            coupons.save(ctx, coupons.build(ctx, {"external_id": f"c{n}", "name": {"en": "C"}}, None))

    engine_of(mock_app).run(app_api.project_id, seed)
    scans: list[str] = []
    real = Transaction.items
    monkeypatch.setattr(Transaction, "items", lambda self, p, kind: scans.append(kind) or real(self, p, kind))
    p2, p3 = app_api.path("/v2/project/{project_id}"), app_api.path("/v3/project/{project_id}")
    page = {"limit": 50, "offset": 100}
    for path, params, headers in (
        (f"{p2}/items/virtual_items", page, None),
        (f"{p2}/admin/items/virtual_items", page, app_api.admin()),
        (f"{p3}/admin/coupon", page, app_api.admin()),
        (f"{p2}/admin/coupon/c7/code", {"limit": 50}, app_api.admin()),
        (f"{p3}/admin/promotion", {"limit": 20}, app_api.admin()),
    ):
        answer = app_api.get(path, params=params, headers=headers) if headers else app_api.get(path, params=params)
        assert answer.status == 200, (path, answer.data)
    assert scans == []


def test_sorts_beyond_a_float_and_reversed_ranges(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(1, "item", "huge", {"type": "c", "order": 10**400})
        tx.put(1, "item", "tiny", {"type": "c", "order": -(10**400)})
        tx.put(1, "item", "plain", {"type": "c", "order": 1})
    with store.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "c")) == ["tiny", "plain", "huge"]
        assert tx.find(1, BY_TYPE, "c", between=(5, 1)) == [] and tx.count(1, BY_TYPE, "c", between=(5, 1)) == 0


def test_entries_and_counts_stay_exact_through_creates_updates_deletes_and_re_creates(tmp_path: Path) -> None:
    """A SQLite store writes new records' entries without looking for old ones: what it keeps must
    equal what a rebuild from the records makes, whatever the order of creates and deletes."""
    store = SqliteStore(tmp_path / "state.sqlite")
    store.define([BY_TYPE, PARTS])
    steps: list[tuple[str, str, dict[str, Any] | None, bool]] = [
        ("put", "x", {"type": "a", "order": 1, "parts": 2}, True),  # a writer that looked first
        ("put", "x", {"type": "b", "order": 2, "parts": 1}, True),
        ("delete", "x", None, True),
        ("put", "x", {"type": "a", "order": 3, "parts": 2}, True),  # created again: its row id may come back
        ("put", "y", {"type": "a", "order": 0, "parts": 1}, False),  # a reader that wrote
        ("put", "y", {"type": "b", "order": 0, "parts": 0}, False),
    ]
    for action, key, value, writer in steps:
        with store.transaction(write=writer) as tx:
            tx.get(1, "item", key)
            if action == "put":
                tx.put(1, "item", key, value)
            else:
                tx.delete(1, "item", key)
    db = store._db
    kept = sorted(db.execute("SELECT kind, name, value, sort, part FROM entries").fetchall())
    counts = sorted(db.execute("SELECT kind, name, value, n FROM entry_counts WHERE n != 0").fetchall())
    for index in (BY_TYPE, PARTS):
        db.execute("BEGIN IMMEDIATE")
        store._fill(index)
        db.execute("COMMIT")
    assert kept == sorted(db.execute("SELECT kind, name, value, sort, part FROM entries").fetchall())
    assert counts == sorted(db.execute("SELECT kind, name, value, n FROM entry_counts WHERE n != 0").fetchall())
    with store.transaction(write=False) as tx:
        assert keys(tx.find(1, BY_TYPE, "a")) == ["x"] and keys(tx.find(1, BY_TYPE, "b")) == ["y"]
        assert tx.count(1, PARTS, "all") == 2
