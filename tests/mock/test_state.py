"""The mock's state: SQLite persistence, export/import, reset, journal, clock, fixtures and seeds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from xsolla_contract.mocks import MockConfig, SqliteStore, create_app, engine_of
from xsolla_contract.mocks.fixtures import FixtureError, generate_project
from xsolla_contract.toolkit.cli import main
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient
from xsolla_contract.toolkit.validation import Validator

ITEMS = "/v2/project/{project_id}/admin/items/virtual_items"
ITEM = ITEMS + "/sku/{sku}"
CATALOG = "/v2/project/{project_id}/items/virtual_items"


def client(spec: Spec, validator: Validator, **config) -> ContractClient:
    state = config.pop("state", None)
    app = create_app(spec, store=state, config=MockConfig(**{"seed": None, "empty": True, **config}))
    return ContractClient(validator, app=app)


def sword(sku: str = "sword_1") -> dict:
    return {"sku": sku, "name": {"en": "Sword"}, "prices": [{"amount": 2.5, "currency": "USD", "is_default": True}]}


def test_sqlite_state_survives_a_restart(tmp_path: Path, spec: Spec, validator: Validator) -> None:
    state = f"sqlite:{tmp_path / 'mock.sqlite'}"
    first = client(spec, validator, state=state)
    assert first.post(first.path(ITEMS), json=sword(), headers=first.admin()).status == 201
    first.grant("player-1", "sword_1", 2)
    engine_of(first.app).store.close()
    second = client(spec, validator, state=state)  # a new process would open the same file
    got = second.get(second.path(ITEM, sku="sword_1"), headers=second.admin())
    assert got.status == 200 and got.data["name"] == {"en": "Sword"}
    assert second.control("GET", "users/player-1")["inventory"] == {"sword_1": 2}
    again = second.post(second.path(ITEMS), json=sword(), headers=second.admin())
    assert again.status == 422  # same behaviour: the SKU is taken


def test_sqlite_store_serializes_concurrent_writers(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")

    def bump() -> None:
        for _ in range(50):
            with store.transaction() as tx:
                counter = tx.get(1, "counter", "n") or {"n": 0}
                tx.put(1, "counter", "n", {"n": counter["n"] + 1})

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.transaction() as tx:
        assert tx.get(1, "counter", "n") == {"n": 200}


def test_failed_request_leaves_no_trace(api: ContractClient) -> None:
    before = api.control("GET", "state")
    bad = api.post(
        api.path(ITEMS),
        json={"sku": "x", "name": {"en": "X"}, "content": None, "periods": "never"},
        headers=api.admin(),
    )
    assert bad.status == 422
    assert api.control("GET", "state") == before


def test_export_import_and_reset(api: ContractClient) -> None:
    api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    exported = api.control("GET", "state")
    api.reset()
    assert api.get(api.path(ITEM, sku="sword_1"), headers=api.admin()).status == 404
    api.control("POST", "state", exported)
    assert api.get(api.path(ITEM, sku="sword_1"), headers=api.admin()).status == 200
    broken = api.call("POST", "/__mock__/state", json_body={"records": "nope"})
    assert broken.status == 422 and broken.data["errorCode"] == 1102
    assert api.get(api.path(ITEM, sku="sword_1"), headers=api.admin()).status == 200  # nothing lost


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"not json", "application/json"), (b"", None)],
    ids=["malformed", "empty"],
)
def test_state_import_of_a_non_json_body_says_so_in_our_words(
    api: ContractClient, body: bytes, content_type: str | None
) -> None:
    api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    answer = api.call("POST", "/__mock__/state", data=body, content_type=content_type)
    assert answer.status == 400
    assert answer.data == {
        "errorCode": 1102,
        "errorMessage": "[0401-1102]: Bad Request. State not imported: the body is not JSON "
        "(send what GET /__mock__/state answered)",
        "statusCode": 400,
    }
    form = api.call("POST", "/__mock__/state", data=b"records=1", content_type="application/x-www-form-urlencoded")
    assert form.status == 415 and "JSON" in form.data["errorMessage"]  # what any web page may post: refused
    assert api.get(api.path(ITEM, sku="sword_1"), headers=api.admin()).status == 200  # nothing lost


def test_journal_records_operations_and_violations(api: ContractClient) -> None:
    api.control("DELETE", "requests")
    api.get(api.path(ITEMS), headers=api.admin())
    api.get(api.path(ITEMS), params={"limit": 500}, headers=api.admin())
    entries = api.control("GET", "requests")["requests"]
    assert [(e["operation"], e["status"]) for e in entries] == [
        ("admin-get-virtual-items-list", 200),
        ("admin-get-virtual-items-list", 422),
    ]
    assert entries[1]["request_violations"] and not entries[1]["response_violations"]
    only_bad = api.call("GET", "/__mock__/requests", params={"violations": 1}).data["requests"]
    assert len(only_bad) == 1


def test_clock_moves_time_for_periods(api: ContractClient) -> None:
    item = sword("winter_hat") | {"periods": [{"date_from": "2031-01-01T00:00:00+00:00", "date_until": None}]}
    api.post(api.path(ITEMS), json=item, headers=api.admin())
    listed = lambda: [i["sku"] for i in api.get(api.path(CATALOG), headers=api.user()).data["items"]]  # noqa: E731
    assert "winter_hat" not in listed()
    now = api.control("POST", "clock", {"set": "2031-06-01T00:00:00Z"})["now"]
    assert now.startswith("2031-06-01")
    assert "winter_hat" in listed()
    assert api.control("POST", "clock", {"advance": "P1DT2H"})["now"].startswith("2031-06-02T02")
    bad = api.call("POST", "/__mock__/clock", json_body={"advance": "tomorrow"})
    assert bad.status == 422


def test_token_control_call_mints_an_accepted_token(api: ContractClient) -> None:
    token = api.control("POST", "token", {"user": "u-9", "attributes": {"tier": "gold"}})["token"]
    answer = api.get(api.path(CATALOG), headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200


def test_same_seed_same_store(spec: Spec) -> None:
    assert generate_project(5) == generate_project(5)
    assert generate_project(5) != generate_project(6)
    first = engine_of(create_app(spec, config=MockConfig(seed=5))).store.export()
    second = engine_of(create_app(spec, config=MockConfig(seed=5))).store.export()
    strip = lambda state: [r[:3] for r in state["records"]]  # noqa: E731  (timestamps differ)
    assert strip(first) == strip(second)
    skus = {r[2] for r in first["records"] if r[1] == "item"}
    assert len(skus) > 30 and {"gold", "crystals", "gold_550", "bundle_1", "glory_points"} <= skus


def test_fixtures_file_loads_through_the_api(tmp_path: Path, spec: Spec, validator: Validator) -> None:
    fixtures = tmp_path / "store.yaml"
    fixtures.write_text(
        yaml.safe_dump(
            {
                "groups": [{"external_id": "hats", "name": {"en": "Hats"}}],
                "virtual_currencies": [{"sku": "gems", "name": {"en": "Gems"}}],
                "virtual_items": [
                    {
                        **sword("top_hat"),
                        "groups": ["hats"],
                        "vc_prices": [{"sku": "gems", "amount": 5, "is_default": True, "is_enabled": True}],
                    }
                ],
                "coupons": [
                    {
                        "external_id": "hello",
                        "name": {"en": "Hello"},
                        "bonus": [{"sku": "top_hat", "quantity": 1}],
                        "_codes": ["HELLO1"],
                        "_active": True,
                    }
                ],
                "balances": {"player-1": {"gems": 7}},
            }
        )
    )
    api = client(spec, validator, fixtures=str(fixtures), empty=False)
    api.check = True
    group = api.get(api.path("/v2/project/{project_id}/items/virtual_items/group/hats"), headers=api.user())
    assert [i["sku"] for i in group.data["items"]] == ["top_hat"]
    bought = api.post(
        api.path("/v2/project/{project_id}/payment/item/{sku}/virtual/{vc}", sku="top_hat", vc="gems"),
        json={},
        headers=api.user("player-1"),
    )
    assert bought.status == 200
    assert api.control("GET", "users/player-1")["inventory"] == {"gems": 2, "top_hat": 1}
    redeemed = api.post(
        api.path("/v2/project/{project_id}/coupon/redeem"), json={"coupon_code": "HELLO1"}, headers=api.user("player-2")
    )
    assert redeemed.status == 200


def test_bad_fixtures_name_the_entry(tmp_path: Path, spec: Spec) -> None:
    fixtures = tmp_path / "bad.yaml"
    fixtures.write_text(yaml.safe_dump({"virtual_items": [sword("ok"), {"sku": "no name"}]}))
    with pytest.raises(FixtureError, match=r"virtual_items\[1\]: admin-create-virtual-item refused it \(422\)"):
        create_app(spec, config=MockConfig(fixtures=str(fixtures)))
    result = CliRunner().invoke(main, ["mock", "--fixtures", str(fixtures), "--port", "1"])
    assert result.exit_code == 1 and "cannot start the mock: virtual_items[1]" in result.output


def test_api_key_and_jwt_secret(spec: Spec, validator: Validator) -> None:
    api = client(spec, validator, api_key="s3cret", jwt_secret="shh")
    assert api.get(api.path(ITEMS), headers=api.admin(key="wrong")).status == 401
    assert api.get(api.path(ITEMS), headers=api.admin(key="s3cret")).status == 200
    api.jwt_secret = "other"  # tokens signed with another secret are refused, even where auth is optional
    cart = api.path("/v2/project/{project_id}/cart")
    assert api.get(cart, headers=api.user()).status == 401
    assert api.get(api.path(CATALOG), headers=api.user()).status == 401
    assert api.get(api.path(CATALOG)).status == 200  # the catalog answers anonymously
    api.jwt_secret = "shh"
    assert api.get(cart, headers=api.user()).status == 200


def test_cors_preflight_and_headers(api: ContractClient) -> None:
    api.check = False
    pre = api.call(
        "OPTIONS",
        api.path(CATALOG),
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Headers": "authorization"},
    )
    assert pre.status == 204 and pre.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "authorization" in pre.headers["access-control-allow-headers"]
    got = api.get(api.path(CATALOG), headers={"Origin": "http://localhost:3000"})
    assert got.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_projects_are_isolated(api: ContractClient) -> None:
    api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    other = api.path(ITEM, sku="sword_1", project_id=77)
    assert api.get(other, headers=api.admin(project_id=77)).status == 404


def test_repeated_reads_are_answered_from_state_until_it_changes(api: ContractClient) -> None:
    api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    api.control("DELETE", "requests")
    player = api.user("player-1")
    time.sleep(1.02 - time.time() % 1)  # answers are reused within one second: start at its beginning
    first = api.get(api.path(CATALOG), headers=player)
    again = api.get(api.path(CATALOG), headers=player)
    other = api.get(api.path(CATALOG), headers=api.user("player-2"))
    assert first.data == again.data == other.data
    api.put(api.path(ITEM, sku="sword_1"), json={**sword(), "name": {"en": "Great sword"}}, headers=api.admin())
    changed = api.get(api.path(CATALOG), headers=player)
    assert changed.data["items"][0]["name"] == "Great sword"
    catalog = [e for e in api.control("GET", "requests")["requests"] if e["operation"] == "get-virtual-items"]
    # the repeat is reused; another user and the read after the write are built again
    assert [e["cached"] for e in catalog] == [False, True, False, False]
    assert [e["user"] for e in catalog] == ["player-1", "player-1", "player-2", "player-1"]
