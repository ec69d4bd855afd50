"""Fault rules (`/__mock__/faults`): error statuses, latency, dropped connections, `times`,
matching on user and project, and the control calls, in process and over HTTP."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from xsolla_contract.mocks import Engine, MockConfig
from xsolla_contract.mocks.faults import FaultBook, FaultRuleError, parse_latency
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient, free_port, wait_until_up
from xsolla_contract.toolkit.validation import Validator

CATALOG = "/v2/project/{project_id}/items/virtual_items"
ITEMS = "/v2/project/{project_id}/admin/items/virtual_items"
ITEM = "/v2/project/{project_id}/admin/items/virtual_items/sku/{sku}"
DROPPED = (ConnectionResetError, requests.ConnectionError)  # in process / over HTTP


@pytest.fixture
def live_api(live_server, validator: Validator):
    client = ContractClient(validator, base_url=live_server.url, project_id=44056)
    client.reset()
    yield client
    live_server.raise_errors()


def add(api: ContractClient, **rule: object) -> dict:
    answer = api.post("/__mock__/faults", json=rule)
    assert answer.status == 201, answer.data
    return answer.data


def item(sku: str) -> dict:
    return {"sku": sku, "name": {"en": sku}, "prices": [{"amount": 1.0, "currency": "USD", "is_default": True}]}


def journal(api: ContractClient) -> list[dict]:
    return api.control("GET", "requests")["requests"]


def test_the_next_catalog_list_is_a_503_and_the_one_after_a_200(api: ContractClient) -> None:
    rule = add(api, operation="get-virtual-items", status=503, times=1)
    first = api.get(api.path(CATALOG), headers=api.user())
    assert first.status == 503
    assert first.data["statusCode"] == 503 and isinstance(first.data["errorCode"], int)
    assert first.data["errorMessage"] == "[0401-0000]: Service Unavailable" and first.data["transactionId"]
    assert first.headers["x-mock-fault"] == str(rule["id"])
    second = api.get(api.path(CATALOG), headers=api.user())
    assert second.status == 200 and "x-mock-fault" not in second.headers
    entries = journal(api)[-2:]
    assert [e["status"] for e in entries] == [503, 200]
    assert entries[0]["fault"] == {"rule": rule["id"], "latency_ms": None, "status": 503, "disconnect": None}
    assert entries[1]["fault"] is None and not entries[0]["response_violations"]
    listed = api.control("GET", "faults")["faults"]
    assert [(r["id"], r["fired"], r["remaining"], r["active"]) for r in listed] == [(rule["id"], 1, 0, False)]


def test_error_bodies_carry_the_code_the_spec_documents(api: ContractClient, spec: Spec) -> None:
    # documented by the operation itself: its own scheme's example among several (401: basic, jwt, ...)
    user_401 = add(api, operation="get-virtual-items", status=401)
    admin_401 = add(api, operation="admin-get-virtual-items-list", status=401)
    assert (user_401["errorCode"], admin_401["errorCode"]) == (1501, 1020)
    assert user_401["error_source"] == "documented by get-virtual-items for 401"
    answer = api.get(api.path(CATALOG), headers=api.user())
    assert (answer.status, answer.data["errorCode"], answer.data["errorMessage"]) == (
        401,
        1501,
        "[0401-1501]: Authorization failed: Provide authorization",
    )
    # not documented by the operation: the code the spec documents for that status elsewhere, and it says so
    assert "429" not in spec.operation("redeem-coupon").responses
    busy = add(api, operation="redeem-coupon", status=429)
    assert (busy["errorCode"], busy["errorMessage"]) == (1429, "[0401-1429]: Too many requests")
    assert busy["error_source"].startswith("redeem-coupon documents no 429")
    # documented nowhere: errorCode 0 and the reason phrase
    down = add(api, operation="redeem-coupon", status=502)
    assert (down["errorCode"], down["errorMessage"]) == (0, "[0401-0000]: Bad Gateway")
    assert "the spec documents no 502" in down["error_source"]
    # given by the rule
    own = add(api, operation="redeem-coupon", status=503, errorCode=42, errorMessage="[0401-0042]: Maintenance")
    assert own["error_source"] == "given by the rule"
    refused = api.post(
        api.path("/v2/project/{project_id}/coupon/redeem"), json={"coupon_code": "X"}, headers=api.user()
    )
    assert refused.data == {
        "errorCode": 42,
        "errorMessage": "[0401-0042]: Maintenance",
        "statusCode": 503,
        "transactionId": refused.data["transactionId"],
    }


def test_an_error_status_is_answered_without_processing_the_call(api: ContractClient) -> None:
    add(api, operation="admin-create-virtual-item", status=500, times=1)
    assert api.post(api.path(ITEMS), json=item("shield"), headers=api.admin()).status == 500
    assert api.get(api.path(ITEM, sku="shield"), headers=api.admin()).status == 404  # nothing was created
    assert api.post(api.path(ITEMS), json=item("shield"), headers=api.admin()).status == 201


def test_a_rule_without_operation_applies_to_every_operation(api: ContractClient) -> None:
    add(api, status=401)
    user = api.get(api.path(CATALOG), headers=api.user())
    admin = api.get(api.path(ITEMS), headers=api.admin())
    assert (user.status, user.data["errorCode"]) == (401, 1501)  # each operation's own documented code
    assert (admin.status, admin.data["errorCode"]) == (401, 1020)
    api.control("DELETE", "faults")
    assert api.get(api.path(ITEMS), headers=api.admin()).status == 200


def test_latency_delays_the_answer(api: ContractClient) -> None:
    add(api, operation="get-virtual-items", latency_ms=300, times=1)
    started = time.perf_counter()
    assert api.get(api.path(CATALOG), headers=api.user()).status == 200  # served as usual, late
    assert time.perf_counter() - started >= 0.3
    add(api, operation="get-virtual-items", latency_ms=[100, 200], times=1)
    api.get(api.path(CATALOG), headers=api.user())
    delays = [e["fault"]["latency_ms"] for e in journal(api)[-2:]]
    assert delays[0] == 300 and 100 <= delays[1] <= 200


def test_latency_delays_only_that_answer(live_api: ContractClient) -> None:
    api = live_api
    add(api, operation="get-virtual-items", latency_ms=2000, times=1)
    slow = threading.Thread(target=lambda: api.get(api.path(CATALOG), headers=api.user()))
    slow.start()
    time.sleep(0.1)
    quick = requests.get(api.base_url + api.path(ITEMS), headers=api.admin(), timeout=10)
    assert quick.status_code == 200 and slow.is_alive()  # answered while the slow one still waits
    slow.join(timeout=10)
    [slow_entry] = [e for e in journal(api) if e["operation"] == "get-virtual-items"]
    assert slow_entry["fault"]["latency_ms"] == 2000 and slow_entry["status"] == 200


def test_a_latency_rule_also_delays_its_error(api: ContractClient) -> None:
    add(api, operation="get-virtual-items", latency_ms=200, status=503, times=1)
    started = time.perf_counter()
    assert api.get(api.path(CATALOG), headers=api.user()).status == 503
    assert time.perf_counter() - started >= 0.2


def test_disconnect_drops_the_connection_before_processing(api: ContractClient) -> None:
    rule = add(api, operation="admin-create-virtual-item", disconnect=True, times=1)
    with pytest.raises(DROPPED):
        api.post(api.path(ITEMS), json=item("axe"), headers=api.admin())
    assert api.get(api.path(ITEM, sku="axe"), headers=api.admin()).status == 404  # not processed
    entry = [e for e in journal(api) if e["operation"] == "admin-create-virtual-item"][-1]
    assert entry["status"] is None and entry["fault"]["disconnect"] == "before" and entry["fault"]["rule"] == rule["id"]
    assert api.post(api.path(ITEMS), json=item("axe"), headers=api.admin()).status == 201  # times: 1


def test_disconnect_after_processing_loses_only_the_answer(api: ContractClient) -> None:
    add(api, operation="admin-create-virtual-item", disconnect="after", times=1)
    with pytest.raises(DROPPED):
        api.post(api.path(ITEMS), json=item("bow"), headers=api.admin())
    assert api.get(api.path(ITEM, sku="bow"), headers=api.admin()).status == 200  # it was created
    entry = [e for e in journal(api) if e["operation"] == "admin-create-virtual-item"][-1]
    assert entry["status"] is None and entry["fault"]["dropped_status"] == 201


def test_times_then_inactive_and_without_times_until_removed(api: ContractClient) -> None:
    twice = add(api, operation="get-virtual-items", status=503, times=2)
    assert [api.get(api.path(CATALOG), headers=api.user()).status for _ in range(3)] == [503, 503, 200]
    assert api.control("GET", f"faults/{twice['id']}")["fired"] == 2
    always = add(api, operation="get-virtual-items", status=429)
    assert always["times"] is None and always["remaining"] is None
    assert [api.get(api.path(CATALOG), headers=api.user()).status for _ in range(3)] == [429, 429, 429]
    assert api.delete(f"/__mock__/faults/{always['id']}").status == 204
    assert api.get(api.path(CATALOG), headers=api.user()).status == 200
    missing = api.delete(f"/__mock__/faults/{always['id']}")
    assert (
        missing.status == 404 and missing.data["statusCode"] == 404 and "No fault rule" in missing.data["errorMessage"]
    )
    assert [r["id"] for r in api.control("GET", "faults")["faults"]] == [twice["id"]]  # spent rules stay listed


def test_rules_match_on_user_and_project(api: ContractClient) -> None:
    add(api, operation="get-virtual-items", user="player-1", status=503)
    assert api.get(api.path(CATALOG), headers=api.user("player-1")).status == 503
    assert api.get(api.path(CATALOG), headers=api.user("player-2")).status == 200
    assert [e["user"] for e in journal(api)[-2:]] == ["player-1", "player-2"]
    api.control("DELETE", "faults")
    add(api, user="player-1", status=503)  # a user rule never matches admin calls (they have no user)
    assert api.get(api.path(ITEMS), headers=api.admin()).status == 200
    api.control("DELETE", "faults")
    add(api, project_id=api.project_id + 1, status=503)
    assert api.get(api.path(CATALOG), headers=api.user()).status == 200
    add(api, project_id=api.project_id, status=503)
    assert api.get(api.path(CATALOG), headers=api.user()).status == 503


def test_integral_floats_are_integers(api: ContractClient) -> None:
    rule = add(api, operation="get-virtual-items", status=503.0, times=1.0)
    assert (rule["status"], rule["times"]) == (503, 1)
    assert api.get(api.path(CATALOG), headers=api.user()).status == 503


def test_the_newest_matching_rule_fires(api: ContractClient) -> None:
    add(api, status=503)
    newest = add(api, operation="get-virtual-items", status=429, times=1)
    answer = api.get(api.path(CATALOG), headers=api.user())
    assert answer.status == 429 and answer.headers["x-mock-fault"] == str(newest["id"])
    assert api.get(api.path(CATALOG), headers=api.user()).status == 503  # the older one, once the newer is spent


def test_reset_removes_the_rules(api: ContractClient) -> None:
    add(api, status=503)
    api.reset()
    assert api.control("GET", "faults") == {"faults": []}
    assert api.get(api.path(CATALOG), headers=api.user()).status == 200


@pytest.mark.parametrize(
    ("rule", "where", "says"),
    [
        pytest.param({"operation": "get-virtual-item", "status": 503}, "body.operation", "get-virtual-items", id="op"),
        pytest.param({"status": 302}, "body.status", "400 to 599", id="status"),
        pytest.param({"status": "503"}, "body.status", "not of type 'integer'", id="status-type"),
        pytest.param({"latency_ms": -1}, "body.latency_ms", "milliseconds", id="latency"),
        pytest.param({"latency_ms": [300, 100]}, "body.latency_ms", "min is above max", id="range"),
        pytest.param({"latency_ms": [1, 2, 3]}, "body.latency_ms", "range [min, max]", id="range-size"),
        pytest.param({"latency_ms": 10**9}, "body.latency_ms", "120000", id="too-slow"),
        pytest.param({"disconnect": "later"}, "body.disconnect", '"after"', id="disconnect"),
        pytest.param({"status": 503, "times": 0}, "body.times", "minimum of 1", id="times"),
        pytest.param({"status": 503, "disconnect": True}, "body.disconnect", "no status", id="both"),
        pytest.param({"errorCode": 1, "latency_ms": 5}, "body.errorCode", "needs a status", id="code"),
        pytest.param({"operation": "get-virtual-items"}, "body", "say what happens", id="nothing"),
        pytest.param({"latency_ms": 0}, "body", "say what happens", id="zero"),
        pytest.param({"status": 503, "users": "u"}, "body", "'users' was unexpected", id="unknown-field"),
        pytest.param([503], "body", "not of type 'object'", id="not-an-object"),
    ],
)
def test_bad_rules_are_refused_in_the_api_error_format(app_api: ContractClient, rule, where, says) -> None:
    answer = app_api.post("/__mock__/faults", json=rule)
    assert answer.status == 422 and answer.data["errorCode"] == 1102 and answer.data["statusCode"] == 422
    problems = {p["property"]: p["message"] for p in answer.data["errorMessageExtended"]}
    assert says in problems[where], problems
    assert app_api.control("GET", "faults") == {"faults": []}  # nothing was added


def test_unknown_operation_names_the_nearest(app_api: ContractClient) -> None:
    answer = app_api.post("/__mock__/faults", json={"operation": "redeem-cupon", "status": 429})
    [problem] = answer.data["errorMessageExtended"]
    assert problem["nearest"][0] == "redeem-coupon" and "Did you mean: redeem-coupon" in answer.data["errorMessage"]


@pytest.mark.parametrize("body", ["{status: 503", '{"latency_ms": NaN}', '{"latency_ms": [1, Infinity]}'])
def test_a_body_that_is_not_json_is_a_400(app_api: ContractClient, body: str) -> None:
    answer = app_api.call("POST", "/__mock__/faults", data=body, content_type="application/json")
    assert answer.status == 400 and answer.data["errorCode"] == 1102
    assert app_api.control("GET", "faults") == {"faults": []}


def test_the_fixture_refuses_a_latency_that_is_not_a_number(spec: Spec) -> None:
    with pytest.raises(FaultRuleError, match="not a number of milliseconds"):
        FaultBook(spec).add({"latency_ms": [1, float("nan")]})


def test_in_process_calls_are_not_subject_to_faults(spec: Spec) -> None:
    engine = Engine(spec, config=MockConfig(empty=True, seed=None))
    engine.faults.add({"status": 503})
    answer = engine.call("admin-get-virtual-items-list", path={"project_id": 44056}, headers=_basic())
    assert answer.status == 200 and engine.faults.rules()[0].fired == 0
    assert len(engine.coverage) == 0  # nor counted as a client's call


def test_the_book_refuses_rules_beyond_its_limit(spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    from xsolla_contract.mocks import faults

    monkeypatch.setattr(faults, "MAX_RULES", 2)
    book = FaultBook(spec)
    book.add({"status": 503})
    book.add({"status": 503})
    with pytest.raises(FaultRuleError, match="at most 2 rules"):
        book.add({"status": 503})


def test_latency_ranges_parse() -> None:
    assert parse_latency("300") == (300, 300) and parse_latency("50-200") == (50, 200)
    for bad in ("fast", "200-50", "-5", "1-999999"):
        with pytest.raises(ValueError):
            parse_latency(bad)


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(b"44056:key").decode()}


def test_the_mock_command_drops_connections_and_takes_a_latency_range(tmp_path) -> None:
    """The standalone server (`xsolla-contract mock`, waitress), used the way a frontend developer does."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "xsolla-contract"), "mock", "--empty", "--port", str(port)]
    process = subprocess.Popen([*command, "--latency", "20-40"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    catalog = f"{base}/api/v2/project/44056/items/virtual_items"
    try:
        wait_until_up(f"{base}/__mock__/faults")
        rule = {"operation": "get-virtual-items", "disconnect": True, "times": 1}
        assert requests.post(f"{base}/__mock__/faults", json=rule, timeout=10).status_code == 201
        session = requests.Session()  # a kept-alive connection is dropped too
        assert session.get(f"{base}/api/v2/project/44056/admin/items/virtual_items", auth=("44056", "k")).ok
        with pytest.raises(requests.ConnectionError):
            session.get(catalog, timeout=10)
        answer = session.get(catalog, timeout=10)
        assert answer.status_code == 200 and answer.elapsed.total_seconds() >= 0.02  # --latency 20-40
        assert [e["status"] for e in requests.get(f"{base}/__mock__/requests", timeout=10).json()["requests"]] == [
            200,
            None,
            200,
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert "faults, coverage" in output  # the banner names the control calls
