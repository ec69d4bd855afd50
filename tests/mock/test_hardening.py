"""Input the API cannot mean, control calls that would break the mock, forged credentials, memory."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from xsolla_contract.mocks import MockConfig, create_app, engine_of
from xsolla_contract.mocks.auth import AuthConfig, AuthError, authenticate, decode_token
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient
from xsolla_contract.toolkit.validation import Validator

ITEMS = "/v2/project/{project_id}/admin/items/virtual_items"
CATALOG = "/v2/project/{project_id}/items/virtual_items"


def item_body(amount: str) -> str:
    return (
        '{"sku": "poison", "name": {"en": "Poison"}, "is_enabled": true, '
        f'"prices": [{{"amount": {amount}, "currency": "USD", "is_default": true}}]}}'
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_with(payload: str) -> str:
    header = b64url(b'{"alg":"HS256"}')
    return f"{header}.{b64url(payload.encode())}.{b64url(b'x')}"


def test_deeply_nested_json_is_a_400_not_a_crash(api: ContractClient) -> None:
    body = '{"sku": "deep", "name": {"en": "x"}, "attributes": ' + "[" * 1000 + "]" * 1000 + "}"
    answer = api.call("POST", api.path(ITEMS), data=body, content_type="application/json", headers=api.admin())
    assert answer.status == 400 and answer.data["errorCode"] == 1102
    assert "nested deeper than 64" in answer.data["errorMessage"]
    cart = api.call(
        "PUT", api.path("/v2/project/{project_id}/cart/fill"), data="[" * 100_000, content_type="application/json"
    )
    assert cart.status in (400, 401) and cart.data["statusCode"] == cart.status


@pytest.mark.parametrize(
    ("amount", "status"), [("NaN", 400), ("Infinity", 400), ("-Infinity", 400), ("1e400", 422), ("1e19", 422)]
)
def test_numbers_json_cannot_hold_are_refused_and_never_stored(api: ContractClient, amount: str, status: int) -> None:
    answer = api.call(
        "POST", api.path(ITEMS), data=item_body(amount), content_type="application/json", headers=api.admin()
    )
    assert answer.status == status and answer.data["errorCode"] == 1102
    if status == 422:
        assert answer.data["errorMessageExtended"][0]["property"] == "body/prices/0/amount"
    assert api.get(api.path(ITEMS + "/sku/poison"), headers=api.admin()).status == 404
    assert api.get(api.path(CATALOG), headers=api.user()).status == 200


def test_a_sqlite_store_is_never_poisoned(tmp_path: Path, spec: Spec, validator: Validator) -> None:
    state = f"sqlite:{tmp_path / 'mock.sqlite'}"
    first = ContractClient(validator, app=create_app(spec, store=state, config=MockConfig(seed=1)))
    for amount in ("NaN", "Infinity", "1e400"):
        refused = first.call(
            "POST", first.path(ITEMS), data=item_body(amount), content_type="application/json", headers=first.admin()
        )
        assert refused.status in (400, 422)
    engine_of(first.app).store.close()
    again = ContractClient(validator, app=create_app(spec, store=state, config=MockConfig(seed=1)))
    assert again.get(again.path(CATALOG), headers=again.user()).status == 200


def test_the_clock_cannot_leave_its_range(app_api: ContractClient) -> None:
    before = app_api.control("GET", "clock")["offset_seconds"]
    for body in ({"advance": 1e300}, {"advance": 1e18}, {"set": "9999-12-31T23:59:59Z"}, {"advance": "P400000D"}):
        answer = app_api.call("POST", "/__mock__/clock", json_body=body)
        assert answer.status == 422 and answer.data["errorCode"] == 1102, body
    nan = app_api.call("POST", "/__mock__/clock", data='{"advance": NaN}', content_type="application/json")
    assert nan.status == 400
    assert app_api.control("GET", "clock")["offset_seconds"] == before
    assert app_api.get(app_api.path(CATALOG), headers=app_api.user()).status == 200
    far = app_api.control("POST", "clock", {"set": "2999-12-31T00:00:00Z"})  # the edge itself serves
    assert far["now"].startswith("2999-12-31")
    assert app_api.get(app_api.path(CATALOG), headers=app_api.user()).status == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        pytest.param("POST", "/__mock__/token", "[1]", 422, id="token-array"),
        pytest.param("POST", "/__mock__/token", '{"ttl": "soon"}', 422, id="token-ttl-text"),
        pytest.param("POST", "/__mock__/token", '{"ttl": 0}', 422, id="token-ttl-zero"),
        pytest.param("POST", "/__mock__/token", '{"attributes": []}', 422, id="token-attributes-list"),
        pytest.param("POST", "/__mock__/token", "{bad", 400, id="token-not-json"),
        pytest.param("POST", "/__mock__/users/u/grant", '{"sku": "gold", "quantity": NaN}', 400, id="grant-NaN"),
        pytest.param("POST", "/__mock__/users/u/grant", '{"sku": "gold", "quantity": Infinity}', 400, id="grant-inf"),
        pytest.param("POST", "/__mock__/users/u/grant", '{"sku": "gold", "quantity": 1.5}', 422, id="grant-1.5"),
        pytest.param("POST", "/__mock__/users/u/grant", '{"sku": "gold", "quantity": -1}', 422, id="grant-negative"),
        pytest.param("POST", "/__mock__/users/u/grant", '{"sku": "gold", "quantitiy": 5}', 422, id="grant-typo"),
        pytest.param("POST", "/__mock__/orders/1", "[]", 422, id="order-array"),
        pytest.param("POST", "/__mock__/orders/1", '{"status": "paid", "project_id": "x"}', 422, id="order-project"),
        pytest.param("GET", "/__mock__/users/u?project_id=abc", None, 422, id="user-project-abc"),
        pytest.param("GET", "/__mock__/users/u?project_id=044056", None, 422, id="user-project-zero"),
        pytest.param("POST", "/__mock__/state", '{"records": [[1, "item", "x"]]}', 422, id="state-short-record"),
        pytest.param("POST", "/__mock__/reset", '"now"', 422, id="reset-string"),
    ],
)
def test_control_calls_check_their_input(app_api: ContractClient, method: str, path: str, body, status: int) -> None:
    app_api.grant("u", "gold", 2)
    path, _, query = path.partition("?")
    params = [tuple(query.split("=", 1))] if query else None
    answer = app_api.call(method, path, data=body, content_type="application/json" if body else None, params=params)
    assert answer.status == status, answer.body[:300]
    assert answer.headers["content-type"] == "application/json"
    assert answer.data["statusCode"] == status and answer.data["errorCode"] == 1102
    if status == 422:
        assert answer.data["errorMessageExtended"][0]["property"].split("/")[0].split(".")[0] in ("body", "query")
    assert app_api.control("GET", "users/u")["inventory"] == {"gold": 2}  # nothing changed


def test_a_state_the_mock_cannot_serve_is_not_imported(app_api: ContractClient) -> None:
    app_api.post(app_api.path(ITEMS), json={"sku": "kept", "name": {"en": "Kept"}}, headers=app_api.admin())
    for records in (
        [[app_api.project_id, "item", "broken", "not a record"]],
        [[0, "__mock__", "clock", {"offset": 1e17}]],
    ):
        answer = app_api.call("POST", "/__mock__/state", json_body={"records": records})
        assert answer.status == 422 and "not imported" in answer.data["errorMessage"]
    assert app_api.get(app_api.path(ITEMS + "/sku/kept"), headers=app_api.admin()).status == 200  # nothing changed
    assert app_api.get(app_api.path(CATALOG), headers=app_api.user()).status == 200


@pytest.mark.parametrize("exp", ["NaN", "Infinity", "-Infinity", "1e400", '"never"', "true", "null"])
def test_tokens_without_a_finite_expiry_are_refused(app_api: ContractClient, exp: str) -> None:
    token = token_with(f'{{"sub": "player", "exp": {exp}}}')
    with pytest.raises(AuthError):
        decode_token(token)
    answer = app_api.get(app_api.path("/v2/project/{project_id}/cart"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 401 and answer.data["errorCode"] == 1501


@pytest.mark.parametrize("ident", ["٤٤٠٥٦", "044056", "44056 ", "+44056", "４４０５６", "0", "99999999999999999999"])
def test_basic_credentials_need_plain_ascii_project_ids(app_api: ContractClient, ident: str) -> None:
    credential = base64.b64encode(f"{ident}:key".encode()).decode()
    answer = app_api.get(app_api.path(ITEMS), headers={"Authorization": f"Basic {credential}"})
    assert answer.status == 401 and answer.data["errorCode"] == 1020
    with pytest.raises(AuthError):
        authenticate(({"basicAuth": []},), {"authorization": f"Basic {credential}"}, 44056, AuthConfig())
    assert app_api.get(app_api.path(ITEMS), headers=app_api.admin()).status == 200


def test_reset_releases_caches_and_the_journal(app_api: ContractClient) -> None:
    engine = engine_of(app_api.app)
    for n in range(20):
        app_api.post(app_api.path(ITEMS), json={"sku": f"i{n}", "name": {"en": "I"}}, headers=app_api.admin())
        app_api.get(app_api.path(CATALOG), headers=app_api.user(f"user-{n}"))
        app_api.get(app_api.path(ITEMS), params={"offset": n}, headers=app_api.admin())
    assert engine.cache and engine._responses._data and engine.journal.entries() and engine.spec._router._seen
    app_api.reset()
    assert not engine.cache and not engine._responses._data
    assert [e["path"] for e in engine.journal.entries()] == []
    assert not engine.validator.core.request_validator._accepted
    assert not engine.spec._router._seen


def test_derived_views_keep_one_version_each(app_api: ContractClient) -> None:
    """A write makes the cached views of the kinds it touches stale; the stale ones go at once
    instead of filling the cache (its memory grew with every write times the store's size)."""
    engine = engine_of(app_api.app)
    for n in range(40):
        app_api.post(app_api.path(ITEMS), json={"sku": f"v{n}", "name": {"en": "V"}}, headers=app_api.admin())
        app_api.get(app_api.path(CATALOG), headers=app_api.user())
    keys = [key for _version, key in engine.cache]
    assert len(keys) == len(set(keys)) and len(keys) < 20


def test_error_messages_stay_short_whatever_the_input(app_api: ContractClient) -> None:
    answer = app_api.post(
        app_api.path(ITEMS), json={"sku": "a b" * 100_000, "name": {"en": "x"}}, headers=app_api.admin()
    )
    assert answer.status == 422 and len(answer.body) < 5000
    entries = app_api.control("GET", "requests")["requests"]
    assert len(json.dumps(entries[-1])) < 5000
