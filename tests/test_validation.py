"""The validation library: each kind of violation, each adapter, and the raising variant."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
import requests

from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.validation import ContractViolation, HttpRequest, HttpResponse, Validator

ADMIN = "Basic " + base64.b64encode(b"44056:key").decode()
ITEMS = "/v2/project/44056/admin/items/virtual_items"
JSON = {"content-type": "application/json"}


def item_body(**extra: object) -> dict:
    return {"sku": "sword_1", "name": {"en": "Sword"}, **extra}


@pytest.fixture(scope="module")
def v(spec: Spec) -> Validator:
    return Validator(spec)


def kinds(result) -> list[str]:
    return [x.kind for x in result.violations]


def test_a_valid_exchange_has_no_violations(v: Validator) -> None:
    result = v.validate(
        {
            "method": "POST",
            "url": f"https://store.xsolla.com/api{ITEMS}",
            "headers": {"Authorization": ADMIN, **JSON},
            "json": item_body(),
        },
        {"status": 201, "headers": JSON, "json": {"sku": "sword_1"}},
    )
    assert result.ok and result.operation.operation_id == "admin-create-virtual-item"


def test_request_matching_no_operation(v: Validator) -> None:
    result = v.validate_request({"method": "GET", "url": "/v2/project/44056/admin/items/virtual_itemz"})
    assert kinds(result) == ["no-operation"]
    assert "nearest: admin-get-virtual-items-list" in result.violations[0].message
    wrong_method = v.validate_request({"method": "PATCH", "url": ITEMS})
    assert "PATCH is not allowed" in wrong_method.violations[0].message


def test_missing_and_wrong_credentials(v: Validator) -> None:
    assert kinds(v.validate_request({"method": "GET", "url": ITEMS})) == ["security"]
    bearer = v.validate_request({"method": "GET", "url": ITEMS, "headers": {"Authorization": "Bearer x.y.z"}})
    assert bearer.violations[0].kind == "security"
    assert "Unknown authorization method Bearer" in bearer.violations[0].message
    not_base64 = v.validate_request({"method": "GET", "url": ITEMS, "headers": {"Authorization": "Basic !!"}})
    assert "not base64" in not_base64.violations[0].message
    assert v.validate_request({"method": "GET", "url": ITEMS, "headers": {"Authorization": ADMIN}}).ok


def test_parameter_violations_name_the_parameter(v: Validator) -> None:
    result = v.validate_request(
        {"method": "GET", "url": f"{ITEMS}?limit=500&offset=-1", "headers": {"Authorization": ADMIN}}
    )
    where = {x.where for x in result.violations}
    assert where == {"query limit", "query offset"}
    not_int = v.validate_request(
        {"method": "GET", "url": "/v2/project/abc/admin/items/virtual_items", "headers": {"Authorization": ADMIN}}
    )
    assert not_int.violations[0].where == "path project_id" and not_int.violations[0].actual == "abc"


def test_body_violations_point_into_the_body(v: Validator) -> None:
    result = v.validate_request(
        {
            "method": "POST",
            "url": ITEMS,
            "headers": {"Authorization": ADMIN, **JSON},
            "json": item_body(prices=[{"amount": 5, "currency": "dollars"}]),
        }
    )
    violation = result.violations[0]
    assert violation.kind == "body" and violation.where == "request body /prices/0/currency"
    assert violation.actual == '"dollars"' and "does not match" in violation.message
    assert violation.operation == "admin-create-virtual-item"


def test_request_content_type_and_missing_body(v: Validator) -> None:
    wrong = v.validate_request(
        {"method": "POST", "url": ITEMS, "headers": {"Authorization": ADMIN, "content-type": "text/plain"}, "body": "x"}
    )
    assert kinds(wrong) == ["request-content-type"]
    empty = v.validate_request({"method": "POST", "url": ITEMS, "headers": {"Authorization": ADMIN}})
    assert kinds(empty) == ["body"] and "required" in empty.violations[0].message


def test_undocumented_status(v: Validator) -> None:
    result = v.validate(
        {"method": "GET", "url": ITEMS, "headers": {"Authorization": ADMIN}},
        {"status": 418, "headers": JSON, "json": {}},
    )
    assert kinds(result) == ["status"] and "418 is not documented" in result.violations[0].message


def test_undocumented_response_content_type(v: Validator) -> None:
    result = v.validate(
        {"method": "GET", "url": ITEMS, "headers": {"Authorization": ADMIN}},
        {"status": 200, "headers": {"content-type": "text/html"}, "body": "<html/>"},
    )
    assert kinds(result) == ["response-content-type"]


def test_response_body_against_its_schema(v: Validator, spec: Spec) -> None:
    item = spec.operation("admin-get-virtual-item").responses["200"]["content"]["application/json"]["example"]
    result = v.validate(
        {"method": "GET", "url": f"{ITEMS}/sku/sword_1", "headers": {"Authorization": ADMIN}},
        {"status": 200, "headers": JSON, "json": {**item, "is_enabled": "yes"}},
    )
    assert [(x.kind, x.where) for x in result.violations] == [("response-body", "response 200 body /is_enabled")]
    without_sku = {k: value for k, value in item.items() if k != "sku"}  # a field the service always returns
    result = v.validate(
        {"method": "GET", "url": f"{ITEMS}/sku/sword_1", "headers": {"Authorization": ADMIN}},
        {"status": 200, "headers": JSON, "json": without_sku},
    )
    assert [(x.kind, x.where) for x in result.violations] == [("response-body", "response 200 body /")]
    assert "'sku' is a required property" in result.violations[0].message
    body_on_204 = v.validate(
        {"method": "DELETE", "url": f"{ITEMS}/sku/sword_1", "headers": {"Authorization": ADMIN}},
        {"status": 204, "body": "oops"},
    )
    assert kinds(body_on_204) == ["response-body"]


def test_a_response_identical_to_one_checked_gets_the_same_verdict(spec: Spec) -> None:
    v = Validator(spec)
    op = spec.operation("admin-get-virtual-item")
    bad = json.dumps({"sku": "sword_1", "is_enabled": "yes"}).encode()
    first = v.response_violations(op, HttpResponse(200, dict(JSON), bad))
    again = v.response_violations(op, HttpResponse(200, dict(JSON), bytes(bad)))  # equal content, another object
    assert [str(x) for x in again] == [str(x) for x in first]
    assert "response 200 body /is_enabled" in [x.where for x in first]
    assert (v.verdicts.hits, v.verdicts.misses) == (1, 1)
    other_status = v.response_violations(op, HttpResponse(404, dict(JSON), bad))  # the status is part of the content
    assert {x.where for x in other_status} == {"response 404 body /"}
    fixed = v.response_violations(op, HttpResponse(200, dict(JSON), bad.replace(b'"yes"', b"true")))
    assert [x.where for x in fixed if x.where.endswith("/is_enabled")] == []
    never = Validator(spec, verdicts=0)
    never.response_violations(op, HttpResponse(200, dict(JSON), bad))
    never.response_violations(op, HttpResponse(200, dict(JSON), bad))
    assert never.verdicts.hits == 0


def test_an_accepted_request_is_accepted_again_with_values_of_its_own(spec: Spec) -> None:
    """Without credentials to check, a request identical to one accepted is looked up; anything
    the verdict reads (body, query, declared headers, content type) makes it a new request."""
    v = Validator(spec)
    body = json.dumps(item_body(prices=[{"amount": 1.5, "currency": "USD"}])).encode()

    def request(data: bytes = body, query=(), headers=JSON) -> HttpRequest:
        return HttpRequest("POST", ITEMS, list(query), {"authorization": ADMIN, **headers}, data)

    first = v.validate_request(request(), security=False)
    assert first.ok and len(v.accepted._data) == 2  # the request, and its parameters alone
    first.body["name"]["en"] = "changed by a hook"  # values handed out are the caller's own
    first.body["prices"].append({"amount": 2})
    again = v.validate_request(request(), security=False)
    assert again.ok and again.body == json.loads(body) and again.body is not first.body
    other = v.validate_request(request(json.dumps(item_body(sku="other_1")).encode()), security=False)
    assert other.ok and other.body["sku"] == "other_1"  # the parameters known, the body's compiled check
    assert len(v.accepted._data) == 2  # looked up, not checked again
    bad = v.validate_request(request(body.replace(b'"sword_1"', b"17")), security=False)
    assert kinds(bad) == ["body"]
    assert kinds(v.validate_request(request(headers={"content-type": "text/plain"}), security=False)) == [
        "request-content-type"
    ]
    listing = HttpRequest("GET", ITEMS, [("limit", "10")], {"authorization": ADMIN})
    assert v.validate_request(listing, security=False).query_params["limit"] == 10
    too_many = HttpRequest("GET", ITEMS, [("limit", "999")], {"authorization": ADMIN})
    assert [x.where for x in v.validate_request(too_many, security=False).violations] == ["query limit"]
    unauthenticated = HttpRequest("GET", ITEMS, [("limit", "10")], {})
    assert kinds(v.validate_request(unauthenticated)) == ["security"]  # credentials checked: never looked up
    v.forget()
    assert not v.accepted._data


def test_the_quick_yes_on_answers_agrees_with_the_full_check(spec: Spec) -> None:
    """Answers of a seeded mock to every operation a client can call without parameters, and the
    same answers broken: the quick check of conforming answers never says yes where openapi-core
    finds anything."""
    from xsolla_contract.mocks import MockConfig, create_app, engine_of, mint_token

    engine = engine_of(create_app(spec, config=MockConfig(seed=3, project_id=44056)))
    user = {"Authorization": f"Bearer {mint_token('quick-check', project=44056)}"}
    answers = []
    for op in spec.operations.values():
        if op.method != "GET" or set(re.findall(r"{(\w+)}", op.path)) - {"project_id"}:
            continue
        headers = ADMIN if "admin" in op.path else user["Authorization"]
        answer = engine.call(op.operation_id, path={"project_id": 44056}, headers={"Authorization": headers})
        answers.append((op, answer))
    fast, full = Validator(spec, verdicts=0), Validator(spec, verdicts=0)
    full._conforms = lambda op, resp: False  # type: ignore[method-assign]
    quick = 0
    for op, answer in answers:
        broken = [answer]
        if answer.body.startswith(b"{"):
            data = json.loads(answer.body)
            for key in list(data)[:3]:
                broken.append(HttpResponse(answer.status, answer.headers, json.dumps({**data, key: [[]]}).encode()))
            broken.append(HttpResponse(answer.status, answer.headers, b"[]"))
        broken.append(HttpResponse(answer.status, {**answer.headers, "content-type": "text/plain"}, answer.body))
        for resp in broken:
            said = [str(x) for x in fast.response_violations(op, resp)]
            found = [str(x) for x in full.response_violations(op, resp)]
            assert said == found, (op.operation_id, resp.body[:200])
            assert not (found and fast._conforms(op, resp))  # never a quick yes where anything is wrong
        quick += fast._conforms(op, answer)
    assert len(answers) > 30 and quick >= len(answers) * 3 // 4  # the quick yes is what conforming answers get


def test_error_bodies_are_checked_too(v: Validator) -> None:
    result = v.validate(
        {"method": "GET", "url": f"{ITEMS}/sku/x", "headers": {"Authorization": ADMIN}},
        {"status": 404, "headers": JSON, "json": {"message": "not found"}},
    )
    assert {x.where for x in result.violations} == {"response 404 body /"}


def test_raising_variant_is_an_assertion_error_with_a_title(v: Validator) -> None:
    result = v.validate({"method": "GET", "url": ITEMS}, {"status": 418, "body": ""})
    with pytest.raises(AssertionError) as caught:
        result.raise_for_violations()
    assert isinstance(caught.value, ContractViolation)
    assert caught.value.title.startswith(
        "admin-get-virtual-items-list (GET /v2/project/{project_id}/admin/items/virtual_items): 2 contract violations"
    )
    assert "status 418 is not documented" in str(caught.value)


def test_adapters_for_requests_httpx_and_flask(v: Validator, live_server, mock_app) -> None:
    url = f"{live_server.url}{ITEMS}"
    with_requests = requests.post(url, json=item_body(sku="via_requests"), headers={"Authorization": ADMIN}, timeout=10)
    assert v.validate(with_requests).ok  # the request is read from the response object
    with_httpx = httpx.post(url, json=item_body(sku="via_httpx"), headers={"Authorization": ADMIN})
    assert v.validate(with_httpx).ok
    broken = httpx.get(url, params={"limit": 999}, headers={"Authorization": ADMIN})
    result = v.validate(broken)
    assert result.violations[0].where == "query limit" and broken.status_code == 422
    with mock_app.test_request_context(ITEMS, method="GET", headers={"Authorization": ADMIN}) as ctx:
        flask_response = mock_app.test_client().get(ITEMS, headers={"Authorization": ADMIN})
        assert v.validate(ctx.request, flask_response).ok
    for path in (ITEMS + "/sku/via_requests", ITEMS + "/sku/via_httpx"):
        requests.delete(f"{live_server.url}{path}", headers={"Authorization": ADMIN}, timeout=10)


def test_own_data_classes_and_json_helpers(v: Validator) -> None:
    request = HttpRequest("POST", ITEMS, [], {"authorization": ADMIN, **JSON}, json.dumps(item_body()).encode())
    response = HttpResponse(201, JSON, b'{"sku": "sword_1"}')
    assert v.validate(request, response).ok
    assert response.json() == {"sku": "sword_1"} and request.json()["sku"] == "sword_1"
