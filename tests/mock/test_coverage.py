"""Consumer coverage (`GET /__mock__/coverage`): what a known sequence of client calls exercised."""

from __future__ import annotations

import json

import pytest

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit import coverage
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient
from xsolla_contract.toolkit.validation import Validator

CATALOG = "/v2/project/44056/items/virtual_items"
ITEMS = "/v2/project/44056/admin/items/virtual_items"
SCOPE = "get-virtual-items,admin-create-virtual-item,admin-get-virtual-items-list"


@pytest.fixture
def client(spec: Spec, validator: Validator) -> ContractClient:
    app = create_app(spec, config=MockConfig(empty=True, seed=None, journal_size=3))
    return ContractClient(validator, app=app)


def sword(sku: str) -> dict:
    return {"sku": sku, "name": {"en": "Sword"}, "prices": [{"amount": 1.0, "currency": "USD", "is_default": True}]}


def known_sequence(api: ContractClient) -> None:
    api.get(CATALOG, headers=api.user())  # 200
    api.reset()  # a test suite resets between tests: the count goes on
    api.get(CATALOG, headers=api.user())  # 200
    api.get(CATALOG, params={"limit": 500}, headers=api.user())  # 422
    api.get(CATALOG, headers={"Authorization": "Bearer not-a-jwt"})  # 401
    api.post(ITEMS, json=sword("s1"), headers=api.admin())  # 201
    api.post(ITEMS, json=sword("s1"), headers=api.admin())  # 422: the SKU exists
    api.get("/v2/project/44056/no/such/thing", headers=api.admin())  # no operation
    api.control("POST", "faults", {"operation": "get-virtual-items", "status": 503, "times": 1})
    api.get(CATALOG, headers=api.user())  # 503, injected, not documented
    api.control("POST", "faults", {"operation": "admin-get-virtual-items-list", "status": 429, "times": 1})
    api.get(ITEMS, headers=api.admin())  # 429, injected, documented
    api.control("POST", "faults", {"operation": "admin-create-virtual-item", "disconnect": True, "times": 1})
    with pytest.raises(ConnectionResetError):
        api.post(ITEMS, json=sword("s2"), headers=api.admin())  # dropped


def test_coverage_of_a_known_sequence_of_calls(client: ContractClient) -> None:
    known_sequence(client)
    data = client.get("/__mock__/coverage", params={"scope": SCOPE}).data
    rows = {r["operation"]: r for r in data["by_operation"]}
    assert rows["get-virtual-items"] | {"documented": None} == {
        "operation": "get-virtual-items",
        "method": "GET",
        "path": "/v2/project/{project_id}/items/virtual_items",
        "tag": "virtual-items-currency",
        "calls": 5,
        "documented": None,
        "exercised": {"200": 2, "401": 1, "422": 1},
        "missing": [],
        "undocumented": {"503": 1},
        "injected": {"503": 1},
        "dropped": 0,
        "success": True,
    }
    create = rows["admin-create-virtual-item"]
    assert (create["calls"], create["exercised"], create["dropped"]) == (3, {"201": 1, "422": 1}, 1)
    assert create["missing"] == [400, 401, 403, 415, 429]
    listing = rows["admin-get-virtual-items-list"]
    assert (listing["exercised"], listing["injected"], listing["missing"]) == (
        {"429": 1},
        {"429": 1},
        [200, 401, 403, 422],
    )
    assert data["operations"] == {"total": 3, "exercised": 3, "percent": 100.0}
    assert data["responses"] == {"total": 3 + 7 + 5, "exercised": 3 + 2 + 1, "percent": 40.0}
    assert (listing["success"], create["success"]) == (False, True)  # 429 alone is no success answer
    assert data["success"] == {"total": 3, "reached": 2, "percent": 66.7}
    assert data["requests"] == 10  # more than the journal keeps (3), across a reset
    assert data["unmatched"] == [{"method": "GET", "path": "/v2/project/44056/no/such/thing", "count": 1}]


def test_the_whole_spec_is_the_default_scope(client: ContractClient, spec: Spec) -> None:
    known_sequence(client)
    data = client.control("GET", "coverage")
    assert data["scope"] is None and data["operations"]["total"] == len(spec.operations)
    assert data["operations"]["exercised"] == 3
    documented = sum(len(coverage.documented_statuses(op)) for op in spec.operations.values())
    assert data["responses"] == {"total": documented, "exercised": 6, "percent": round(600 / documented, 1)}


def test_markdown_and_text_formats(client: ContractClient) -> None:
    known_sequence(client)
    text = client.get("/__mock__/coverage", params={"scope": SCOPE, "format": "text"}).body.decode()
    assert "get-virtual-items" in text and "200 x2, 401 x1, 422 x1 / - / 503 x1 (1 injected)" in text
    assert "operations 3/3 (100.0%), documented responses 6/15 (40.0%), 10 requests" in text
    md = client.get("/__mock__/coverage", params={"scope": "Catalog", "format": "markdown"}).body.decode()
    assert md.startswith("# API coverage of the test run")
    assert "| `admin-create-virtual-item` (POST `/v2/project/{project_id}/admin/items/virtual_items`) | 3 |" in md
    assert "- `GET /v2/project/44056/no/such/thing` x1" in md


def test_reset_keeps_the_count_and_delete_clears_it(client: ContractClient) -> None:
    client.get(CATALOG, headers=client.user())
    client.reset()
    assert client.control("GET", "coverage")["requests"] == 1
    assert client.delete("/__mock__/coverage").status == 204
    assert client.control("GET", "coverage")["requests"] == 0


def test_a_scope_that_names_nothing_is_refused(client: ContractClient) -> None:
    answer = client.get("/__mock__/coverage", params={"scope": "get-virtual-itemz"})
    assert answer.status == 422 and "Did you mean: get-virtual-items" in answer.data["errorMessage"]
    assert answer.data["errorMessageExtended"][0]["property"] == "query.scope"
    assert client.get("/__mock__/coverage", params={"format": "xml"}).status == 422


def test_scopes_select_by_pattern_tag_and_api(spec: Spec) -> None:
    by_pattern = {op.operation_id for op in coverage.select(spec, "get-virtual-*")}
    assert "get-virtual-items" in by_pattern and all(o.startswith("get-virtual-") for o in by_pattern)
    assert {op.tag for op in coverage.select(spec, "cart")} == {"cart"}
    catalog = coverage.select(spec, ["Catalog"])
    assert len(catalog) == sum(spec.by_tag()[t] for t in spec.tag_groups["Catalog"])
    assert len(coverage.select(spec, "Catalog, LiveOps")) == len(spec.operations)


def test_tallies_merge(spec: Spec) -> None:
    a, b = coverage.Tally(), coverage.Tally()
    a.record({"operation": "get-virtual-items", "status": 200, "fault": None})
    b.record({"operation": "get-virtual-items", "status": 200, "fault": None})
    b.record({"operation": "get-virtual-items", "status": None, "fault": {"disconnect": "before"}})
    a.merge(b)
    [row] = coverage.report(spec, a, "get-virtual-items")["by_operation"]
    assert (row["calls"], row["exercised"], row["dropped"]) == (3, {"200": 2}, 1)


def test_the_coverage_command_reads_a_running_mock(live_server, tmp_path) -> None:
    from click.testing import CliRunner

    from xsolla_contract.toolkit.cli import main

    client = ContractClient(Validator(Spec.from_path()), base_url=live_server.url)
    client.delete("/__mock__/coverage")
    client.get(CATALOG, headers=client.user())
    scope = ["--url", live_server.url + "/api", "--scope", "get-virtual-items,get-item-groups"]
    ok = CliRunner().invoke(main, ["coverage", *scope, "--min", "50", "--json", str(tmp_path / "c.json")])
    assert ok.exit_code == 0, ok.output
    assert "get-virtual-items      1  200 x1 / 401 422" in ok.output and "operations 1/2 (50.0%)" in ok.output
    assert json.loads((tmp_path / "c.json").read_text())["operations"]["exercised"] == 1
    low = CliRunner().invoke(main, ["coverage", *scope, "--min-responses", "50"])
    assert (
        low.exit_code == 1 and "FAILED: documented responses answered 20.0% is below the minimum of 50.0%" in low.output
    )
    bad = CliRunner().invoke(main, ["coverage", "--url", live_server.url, "--scope", "nothing-like-it"])
    assert bad.exit_code == 2 and "names no operation" in bad.output
