"""The payment page and the dashboard's endpoints, in process (the browser tests are in
tests/browser/): tokens, outcomes, redirect policies, return parameters, error pages,
headers, the index of control endpoints and the store overview."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from xsolla_contract.mocks import MockConfig, SqliteStore, create_app, engine_of
from xsolla_contract.mocks.pages import paystation
from xsolla_contract.mocks.store import MemoryStore
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient
from xsolla_contract.toolkit.validation import Validator

P2 = "/v2/project/{project_id}"
ITEMS = P2 + "/admin/items/virtual_items"
RETURN = "https://game.example/back?from=shop"


@pytest.fixture
def api(spec: Spec, validator: Validator) -> ContractClient:
    app = create_app(spec, config=MockConfig(seed=None, empty=True))
    client = ContractClient(validator, app=app)
    for sku, price in (("sword", 10.0), ("potion", 2.0)):
        body = {
            "sku": sku,
            "name": {"en": sku.title()},
            "prices": [{"amount": price, "currency": "USD", "is_default": True}],
        }
        assert client.post(client.path(ITEMS), json=body, headers=client.admin()).status == 201
    return client


def order(api: ContractClient, settings: dict | None = None, user: str = "u1", **fill: int) -> dict:
    headers = api.user(user)
    lines = [{"sku": sku, "quantity": n} for sku, n in (fill or {"sword": 1}).items()]
    assert api.put(api.path(P2 + "/cart/fill"), json={"items": lines}, headers=headers).status == 200
    body = {"settings": settings} if settings is not None else {}
    created = api.post(api.path(P2 + "/payment/cart"), json=body, headers=headers)
    assert created.status == 200, created.body
    return created.data


def page(api: ContractClient, token: str):
    return api.app.test_client().get("/paystation4/", query_string={"token": token})


def act(api: ContractClient, token: str, action: str):
    return api.app.test_client().post("/paystation4/", data={"token": token, "action": action})


def status_of(api: ContractClient, order_id: int, user: str = "u1") -> str:
    return api.get(api.path(P2 + "/order/{order_id}", order_id=order_id), headers=api.user(user)).data["status"]


def control(api: ContractClient, path: str, **params: str) -> dict:
    answer = api.call("GET", f"/__mock__/{path}", params=params)
    assert answer.status == 200, answer.body
    return answer.data


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# ------------------------------------------------------------ the payment page


def test_the_page_shows_the_order_with_its_discount(api: ContractClient) -> None:
    promo = {"name": {"en": "Sale"}, "discount": {"percent": "20.00"}, "items": [{"sku": "sword"}]}
    promotion = api.post(api.path("/v3/project/{project_id}/admin/promotion/item"), json=promo, headers=api.admin())
    api.put(api.path(P2 + "/admin/promotion/{p}/activate", p=promotion.data["promotion_id"]), headers=api.admin())
    created = order(api, sword=2, potion=3)
    answer = page(api, created["token"])
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert '<del><span class="visually-hidden">Before discount: </span>10.00</del>' in html
    assert "8.00 USD" in html and "16.00 USD" in html and "6.00 USD" in html  # unit, line, line
    assert 'data-field="total">22.00 USD' in html and 'data-field="discount">−4.00 USD' in html
    assert 'data-action="pay">Pay 22.00 USD' in html


def test_the_page_escapes_what_the_store_holds(api: ContractClient) -> None:
    body = {
        "sku": "evil",
        "name": {"en": "<script>alert(1)</script>"},
        "prices": [{"amount": 1.0, "currency": "USD", "is_default": True}],
    }
    assert api.post(api.path(ITEMS), json=body, headers=api.admin()).status == 201
    html = page(api, order(api, evil=1)["token"]).get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pay_moves_the_order_to_done_once(api: ContractClient) -> None:
    created = order(api, {"return_url": RETURN}, sword=2)
    answer = act(api, created["token"], "pay")
    assert answer.status_code == 303
    params = query_of(answer.headers["Location"])
    assert params[0] == ("from", "shop") and dict(params)["status"] == "done" and dict(params)["user_id"] == "u1"
    assert status_of(api, created["order_id"]) == "done"
    again = act(api, created["token"], "pay")  # a second submission pays nothing twice
    assert dict(query_of(again.headers["Location"]))["invoice_id"] == dict(params)["invoice_id"]
    assert api.control("GET", "users/u1")["inventory"]["sword"] == 2
    reopened = page(api, created["token"])  # a paid order's page shows the result, with the way back
    assert reopened.status_code == 200 and "Payment successful" in reopened.get_data(as_text=True)
    assert 'data-action="return"' in reopened.get_data(as_text=True)


def test_decline_leaves_the_order_new_and_cancel_cancels_it(api: ContractClient) -> None:
    created = order(api)
    declined = act(api, created["token"], "decline")
    assert declined.status_code == 200 and 'data-outcome="troubled"' in declined.get_data(as_text=True)
    assert status_of(api, created["order_id"]) == "new"
    canceled = act(api, created["token"], "cancel")
    assert 'data-outcome="canceled"' in canceled.get_data(as_text=True)
    assert status_of(api, created["order_id"]) == "canceled"
    assert act(api, created["token"], "pay").status_code == 410
    assert api.control("GET", "users/u1")["inventory"] == {}


@pytest.mark.parametrize(
    "policy, outcome, automatic, button",
    [
        (None, "pay", True, "Back to the game"),
        (None, "decline", False, "Back to the game"),
        (None, "cancel", False, "Back to the game"),
        ({"redirect_conditions": "none", "status_for_manual_redirection": "none"}, "pay", False, None),
        ({"redirect_conditions": "successful_or_canceled"}, "cancel", True, None),
        ({"redirect_conditions": "successful_or_canceled"}, "decline", False, None),
        ({"redirect_conditions": "any", "delay": 3}, "decline", True, None),
        ({"status_for_manual_redirection": "successful", "redirect_button_caption": "Home"}, "pay", False, "Home"),
        ({"status_for_manual_redirection": "vc"}, "pay", False, None),
    ],
)
def test_the_redirect_policy_decides_how_the_page_returns(policy, outcome, automatic, button) -> None:
    settings = {"return_url": RETURN, **({"redirect_policy": policy} if policy is not None else {})}
    found = paystation.Found(1, {"user": "u1", "source": {"settings": settings}})
    status = {"pay": "done", "decline": "troubled", "cancel": "canceled"}[outcome]
    back = paystation.return_for(found, paystation.Outcome(outcome, status, "x", "7", ""))
    assert (back.automatic, back.button) == (automatic, button)
    assert back.delay == (policy or {}).get("delay", 0)


def test_the_return_parameters_are_the_services() -> None:
    settings = {"return_url": "https://game.example/back?status=keep&x=1", "external_id": "EK-7"}
    found = paystation.Found(1, {"user": "u9", "source": {"settings": settings}})
    paid = paystation.return_for(found, paystation.Outcome("pay", "done", "done", "42", ""))
    assert query_of(paid.url) == [
        ("x", "1"),
        ("user_id", "u9"),
        ("foreigninvoice", "EK-7"),
        ("invoice_id", "42"),
        ("status", "done"),
    ]
    closed = paystation.return_for(found, paystation.Outcome("cancel", "canceled", "canceled", None, ""))
    assert query_of(closed.url) == [("status", "keep"), ("x", "1"), ("user_id", "u9"), ("invoice_id", "")]


@pytest.mark.parametrize("target", ["javascript:alert(document.domain)", "data:text/html,hi", "JavaScript:x"])
def test_a_return_url_that_would_run_code_is_not_followed(api: ContractClient, target: str) -> None:
    found = paystation.Found(1, {"user": "u1", "source": {"settings": {"return_url": target}}})
    back = paystation.return_for(found, paystation.Outcome("pay", "done", "done", "1", ""))
    assert back.url is None and "does not follow" in back.refused


def test_custom_scheme_return_urls_of_apps_are_followed() -> None:
    found = paystation.Found(1, {"user": "u1", "source": {"settings": {"return_url": "app://xpayment.com.game"}}})
    back = paystation.return_for(found, paystation.Outcome("pay", "done", "done", "1", ""))
    assert back.url.startswith("app://xpayment.com.game?user_id=u1") and back.automatic


@pytest.mark.parametrize(
    "query, form, status, title",
    [
        ({}, None, 400, "No payment token"),
        ({"token": "0" * 32}, None, 404, "Unknown payment token"),
        ({}, {"token": "0" * 32, "action": "pay"}, 404, "Unknown payment token"),
        ({}, {"action": "pay"}, 400, "No payment token"),
    ],
)
def test_bad_tokens_get_error_pages(
    api: ContractClient, query: dict, form: dict | None, status: int, title: str
) -> None:
    client = api.app.test_client()
    answer = client.post("/paystation4/", data=form) if form else client.get("/paystation4/", query_string=query)
    html = answer.get_data(as_text=True)
    assert answer.status_code == status and answer.mimetype == "text/html"
    assert f'<h1 id="error-title" class="bad">{title}</h1>' in html and 'role="alert"' in html


def test_an_unknown_action_is_an_error_page(api: ContractClient) -> None:
    answer = act(api, order(api)["token"], "refund")
    assert answer.status_code == 400 and "Unknown action" in answer.get_data(as_text=True)


def test_tokens_expire_with_the_mocks_clock(spec: Spec, validator: Validator, monkeypatch) -> None:
    monkeypatch.setenv("XSOLLA_MOCK_PAYMENT_TOKEN_TTL", "3600")
    api = ContractClient(validator, app=create_app(spec, config=MockConfig(seed=None, empty=True)))
    body = {"sku": "sword", "name": {"en": "Sword"}, "prices": [{"amount": 1.0, "currency": "USD", "is_default": True}]}
    api.post(api.path(ITEMS), json=body, headers=api.admin())
    created = order(api)
    api.advance(3500)
    assert page(api, created["token"]).status_code == 200
    api.advance(200)
    assert page(api, created["token"]).status_code == 410
    assert act(api, created["token"], "pay").status_code == 410
    assert status_of(api, created["order_id"]) == "new"


def test_tokens_of_every_project_open_their_order(api: ContractClient) -> None:
    other = 777
    body = {"sku": "axe", "name": {"en": "Axe"}, "prices": [{"amount": 3.0, "currency": "EUR", "is_default": True}]}
    assert api.post(api.path(ITEMS, project_id=other), json=body, headers=api.admin(other)).status == 201
    token_body = {
        "user": {"id": {"value": "p7"}, "country": {"value": "DE"}},
        "purchase": {"items": [{"sku": "axe", "quantity": 2}]},
    }
    created = api.post(
        api.path("/v3/project/{project_id}/admin/payment/token", project_id=other),
        json=token_body,
        headers=api.admin(other),
    )
    html = page(api, created.data["token"]).get_data(as_text=True)
    assert "Project 777" in html and 'data-field="total">6.00 EUR' in html
    assert act(api, created.data["token"], "pay").status_code == 200  # no return URL: the result page


def test_the_page_may_be_framed_and_keeps_the_token_out_of_referers(api: ContractClient) -> None:
    answer = page(api, order(api)["token"])
    assert (
        "X-Frame-Options" not in answer.headers and "frame-ancestors" not in answer.headers["Content-Security-Policy"]
    )
    assert answer.headers["Referrer-Policy"] == "same-origin" and answer.headers["Cache-Control"] == "no-store"
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # default-src 'none': no script runs


def test_a_dark_theme_asked_for_is_shown(api: ContractClient) -> None:
    created = order(api, {"ui": {"theme": paystation.DARK_THEME}})
    assert '<body class="theme-dark">' in page(api, created["token"]).get_data(as_text=True)


# ---------------------------------------------------------------- the dashboard


def test_the_dashboard_is_html_for_browsers_and_an_index_for_tools(api: ContractClient) -> None:
    client = api.app.test_client()
    html = client.get("/__mock__/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.status_code == 200 and html.mimetype == "text/html" and "dashboard.js" in html.get_data(as_text=True)
    assert (
        html.headers["X-Frame-Options"] == "DENY"
        and "frame-ancestors 'none'" in html.headers["Content-Security-Policy"]
    )
    index = client.get("/__mock__/", headers={"Accept": "application/json"}).get_json()
    assert index == client.get("/__mock__/index.json").get_json()
    rows = {(row["path"], tuple(row["methods"])): row for row in index["endpoints"]}
    assert rows[("/paystation4/", ("GET",))]["kind"] == "page"
    assert rows[("/paystation4/", ("POST",))]["summary"].startswith("Pay, decline or cancel")
    assert rows[("/__mock__/projects/<int:project_id>", ("GET",))]["summary"].startswith("A project's store")
    assert ("/__mock__/reset", ("POST",)) in rows and ("/__mock__/clock", ("POST",)) in rows
    static = client.get("/__mock__/static/dashboard.js")
    assert static.status_code == 200 and b"ControlError" in static.data


def test_the_overview_shows_the_store_and_answers_unchanged_cheaply(api: ContractClient) -> None:
    created = order(api, sword=2)
    data = api.control("GET", "projects/44056")
    assert data["changed"] and data["items_total"] == 2
    assert data["orders"] == [
        {
            "order_id": created["order_id"],
            "user": "u1",
            "status": "new",
            "mode": "real",
            "sandbox": False,
            "total": "20.00 USD",
            "items": ["2 × sword"],
            "created": data["orders"][0]["created"],
            "invoice_id": None,
            "token": created["token"],
        }
    ]
    assert control(api, "projects/44056", generation=str(data["generation"])) == {
        "project_id": 44056,
        "generation": data["generation"],
        "changed": False,
    }
    act(api, created["token"], "pay")
    after = control(api, "projects/44056", generation=str(data["generation"]))
    assert after["changed"] and after["orders"][0]["status"] == "done" and after["orders"][0]["token"] is None
    bad = api.call("GET", "/__mock__/projects/44056", params={"generation": "x"})
    assert bad.status == 422 and bad.data["errorCode"] == 1102
    assert api.control("GET", "projects") == {"default": 44056, "projects": [44056]}


def test_the_seeded_overview_lists_codes_with_their_limits(spec: Spec, validator: Validator) -> None:
    api = ContractClient(validator, app=create_app(spec, config=MockConfig(seed=1)))
    data = api.control("GET", "projects/44056")
    codes = {c["code"]: c for c in data["codes"]}
    assert codes["WELCOME2026"] == {
        "code": "WELCOME2026",
        "kind": "coupon",
        "promotion": "welcome",
        "used": 0,
        "code_limit": 100,
        "user_limit": 1,
        "total_limit": 1000,
        "is_enabled": True,
    }
    kinds = {(c["kind"], c["name"]) for c in data["chains"]}
    assert {"reward_chain", "daily_chain", "offer_chain"} == {k for k, _ in kinds}
    assert {p["kind"] for p in data["promotions"]} == {"coupon", "promo_code", "unique_offer", "discount", "bonus"}


def test_the_journal_answers_entries_after_a_time(api: ContractClient) -> None:
    api.get(api.path(P2 + "/items/virtual_items"), headers=api.user())
    first = api.control("GET", "requests")["requests"]
    assert control(api, "requests", since=str(first[-1]["time"]))["requests"] == []
    api.get(api.path(P2 + "/cart"), headers=api.user())
    newer = control(api, "requests", since=str(first[-1]["time"]))["requests"]
    assert [e["operation"] for e in newer] == ["get-user-cart"]
    bad = api.call("GET", "/__mock__/requests", params={"since": "yesterday"})
    assert bad.status == 422 and bad.data["errorCode"] == 1102


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_stores_list_their_projects(tmp_path: Path, backend: str) -> None:
    store = MemoryStore() if backend == "memory" else SqliteStore(tmp_path / "s.sqlite")
    assert store.projects() == []
    with store.transaction() as tx:
        tx.put(9, "item", "a", {})
        tx.put(3, "item", "b", {})
    assert store.projects() == [3, 9]
    with store.transaction() as tx:
        tx.delete(9, "item", "a")
    assert store.projects() == [3]


def test_each_order_has_its_own_token_across_restarts(tmp_path: Path, spec: Spec, validator: Validator) -> None:
    state = f"sqlite:{tmp_path / 'mock.sqlite'}"
    tokens = []
    for run in range(2):  # the same store, restarted: the second order's token is another
        app = create_app(spec, store=state, config=MockConfig(seed=None, empty=True))
        api = ContractClient(validator, app=app)
        if run == 0:
            body = {
                "sku": "gold",
                "name": {"en": "Gold"},
                "prices": [{"amount": 1, "currency": "USD", "is_default": True}],
            }
            assert api.post(api.path(ITEMS), json=body, headers=api.admin()).status == 201
        fill = {"items": [{"sku": "gold", "quantity": 1}]}
        assert api.put(api.path(P2 + "/cart/fill"), json=fill, headers=api.user("u1")).status == 200
        tokens.append(api.post(api.path(P2 + "/payment/cart"), json={}, headers=api.user("u1")).data)
        engine_of(app).store.close()
    assert tokens[0]["token"] != tokens[1]["token"] and tokens[0]["order_id"] != tokens[1]["order_id"]
    api = ContractClient(validator, app=create_app(spec, store=state, config=MockConfig(seed=None, empty=True)))
    for created in tokens:
        assert f"Order {created['order_id']}<" in page(api, created["token"]).get_data(as_text=True)
