"""Webhooks from the mock: what the game's server hears about orders, signed, journaled,
retried on the mock's clock, and configured per project without writing secrets down."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from xsolla_contract.mocks import MockConfig, create_app, engine_of
from xsolla_contract.toolkit.testing import ContractClient, MockServer
from xsolla_contract.toolkit.validation import HttpRequest, Validator
from xsolla_contract.toolkit.webhooks import WebhookReceiver, WebhookValidator, signed_request, verify

SECRET = "shh-webhooks"
P2 = "/v2/project/{project_id}"
ITEMS = P2 + "/admin/items/virtual_items"
CURRENCIES = P2 + "/admin/items/virtual_currency"
PAY_ITEM = P2 + "/payment/item/{sku}"
PAY_VC = P2 + "/payment/item/{sku}/virtual/{currency}"
FREE_ITEM = P2 + "/free/item/{sku}"
ORDER = P2 + "/order/{order_id}"
OFFER_CHAINS = P2 + "/admin/offer_chain"
OFFER_STEP = P2 + "/user/offer_chain/{offer_chain_id}/step/number/{step_number}/{action}"


@pytest.fixture
def receiver():
    with WebhookReceiver(SECRET) as rx:
        yield rx
    rx.raise_errors()


def point(api: ContractClient, receiver: WebhookReceiver, **settings: object) -> dict:
    return api.control("PUT", "webhooks/settings", {"url": receiver.url, "secret": SECRET, **settings})


def journal(api: ContractClient, **filters: object) -> dict:
    """The webhook journal, once every delivery due now was attempted."""
    answer = api.call("GET", "/__mock__/webhooks", params={"settle": "true", **filters})
    assert answer.status == 200, answer.body
    return answer.data


def item(api: ContractClient, sku: str, price: float | None = 4.99, **extra: object) -> None:
    body = {"sku": sku, "name": {"en": sku.title()}, **extra}
    if price is not None:
        body["prices"] = [{"amount": price, "currency": "USD", "is_default": True}]
    assert api.post(api.path(ITEMS), json=body, headers=api.admin()).status == 201


def purchase(api: ContractClient, sku: str, user: str = "player-1", **body: object) -> dict:
    """A sandbox order of one item: its payment call's answer (order_id, token)."""
    answer = api.post(api.path(PAY_ITEM, sku=sku), json={"sandbox": True, **body}, headers=api.user(user))
    assert answer.status == 200, answer.data
    return answer.data


def buy(api: ContractClient, sku: str, user: str = "player-1", **body: object) -> int:
    return purchase(api, sku, user, **body)["order_id"]


def status(api: ContractClient, order_id: int, user: str = "player-1") -> str:
    return api.get(api.path(ORDER, order_id=order_id), headers=api.user(user)).data["status"]


def advance(api: ContractClient, seconds: float) -> None:
    api.advance(seconds)


def check_against_spec(received) -> None:
    """The notification is signed with the project's secret and its body is what the spec describes."""
    assert verify(received.body, received.headers["authorization"], SECRET)
    request = HttpRequest("POST", "/xsolla/webhook", [], received.headers, received.body)
    WebhookValidator.bundled().assert_valid(request, {"status": received.status}, secret=SECRET)


# ------------------------------------------------------------------ what is sent


def test_a_paid_purchase_ends_with_a_signed_order_paid(api: ContractClient, receiver: WebhookReceiver) -> None:
    point(api, receiver)
    item(api, "flame_sword", 4.99)
    order_id = buy(api, "flame_sword", quantity=2, custom_parameters={"character_id": "aria"})
    assert journal(api)["webhooks"] == []  # nothing before the payment
    api.set_order_status(order_id, "paid")  # the payment arrives
    [received] = receiver.wait_for(event="order_paid")
    check_against_spec(received)
    body = received.json()
    assert [(i["sku"], i["quantity"], i["amount"], i["type"]) for i in body["items"]] == [
        ("flame_sword", 2, "9.98", "virtual_good")
    ]
    assert body["order"]["id"] == order_id and body["order"]["status"] == "paid"
    order = body["order"]
    assert (order["mode"], order["currency_type"], order["amount"]) == ("sandbox", "real", "9.98")
    assert body["user"]["external_id"] == "player-1" and body["custom_parameters"] == {"character_id": "aria"}
    billing = body["billing"]  # combined mode: the payment and the transaction travel along
    assert billing["transaction"]["id"] == int(body["order"]["invoice_id"]) and billing["transaction"]["dry_run"] == 1
    assert billing["payment_details"]["payment"] == {"currency": "USD", "amount": 9.98}
    [entry] = journal(api)["webhooks"]
    assert (entry["event"], entry["attempt"], entry["answer"]["status"], entry["outcome"]) == (
        "order_paid",
        1,
        204,
        "delivered",
    )
    assert entry["body"] == body and entry["time"] and entry["violations"] == []


def test_a_cancel_gives_order_canceled(api: ContractClient, receiver: WebhookReceiver) -> None:
    point(api, receiver)
    item(api, "helm")
    unpaid = buy(api, "helm")
    api.set_order_status(unpaid, "canceled")  # nothing was paid: nothing to tell
    paid = buy(api, "helm")
    api.set_order_status(paid, "paid")
    api.set_order_status(paid, "canceled")  # refunded
    assert [(w["event"], w["order_id"]) for w in journal(api)["webhooks"]] == [
        ("order_paid", paid),
        ("order_canceled", paid),
    ]
    canceled = receiver.wait_for(event="order_canceled")[0]
    check_against_spec(canceled)
    body = canceled.json()
    assert body["order"]["status"] == "canceled" and body["billing"]["notification_type"] == "refund"
    assert body["billing"]["refund_details"]["code"] == 1 and [i["sku"] for i in body["items"]] == ["helm"]


def test_free_virtual_currency_and_offer_chain_purchases_notify(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver)
    item(api, "daily_gift", None, is_free=True)
    gold = {"sku": "gold", "name": {"en": "Gold"}, "prices": [{"amount": 0.99, "currency": "USD", "is_default": True}]}
    assert api.post(api.path(CURRENCIES), json=gold, headers=api.admin()).status == 201
    item(api, "axe", None, vc_prices=[{"sku": "gold", "amount": 100, "is_default": True, "is_enabled": True}])
    item(api, "potion", 1.99)
    item(api, "cape", 7.50)
    api.grant("player-1", "gold", 150)
    user = api.user("player-1")
    free = api.post(api.path(FREE_ITEM, sku="daily_gift"), headers=user).data["order_id"]
    virtual = api.post(api.path(PAY_VC, sku="axe", currency="gold"), headers=user).data["order_id"]
    chain = {
        "name": {"en": "Starter path"},
        "date_start": "2020-01-01T00:00:00+00:00",
        "is_enabled": True,
        "steps": [
            {"step_number": 1, "is_free": True, "items": [{"sku": "potion", "quantity": 1}]},
            {"step_number": 2, "is_free": False, "items": [{"sku": "cape", "quantity": 1}]},
        ],
    }
    chain_id = api.post(api.path(OFFER_CHAINS), json=chain, headers=api.admin()).data["offer_chain_id"]
    claim = api.path(OFFER_STEP, offer_chain_id=chain_id, step_number=1, action="claim")
    assert api.post(claim, headers=user).status == 200  # a free step is a reward: no webhook
    step = api.post(api.path(OFFER_STEP, offer_chain_id=chain_id, step_number=2, action="order"), headers=user)
    api.set_order_status(step.data["order_id"], "paid")
    sent = {w["order_id"]: w["body"] for w in journal(api, event="order_paid")["webhooks"]}
    assert list(sent) == [free, virtual, step.data["order_id"]]
    assert sent[free]["order"]["currency_type"] == "unknown" and sent[free]["items"][0]["is_free"] is True
    assert (sent[virtual]["order"]["currency_type"], sent[virtual]["order"]["currency"]) == ("virtual", "gold")
    assert sent[virtual]["order"]["amount"] == "100" and "billing" not in sent[virtual]  # no money, no payment
    assert [i["sku"] for i in sent[step.data["order_id"]]["items"]] == ["cape"]
    for received in receiver.received:
        check_against_spec(received)


def test_separate_mode_sends_payment_then_order_paid(app_api: ContractClient, receiver: WebhookReceiver) -> None:
    api = app_api
    point(api, receiver, mode="separate")
    item(api, "shield", 3.00)
    order_id = buy(api, "shield")
    receiver.answer_with(500)  # the payment notification fails once ...
    api.set_order_status(order_id, "paid")
    assert [(w["event"], w["outcome"]) for w in journal(api)["webhooks"]] == [("payment", "retry")]
    advance(api, 300)  # ... is retried 5 minutes later, and only then comes order_paid
    assert [(w["event"], w["outcome"]) for w in journal(api)["webhooks"]] == [
        ("payment", "retry"),
        ("payment", "delivered"),
        ("order_paid", "delivered"),
    ]
    payment, order_paid = receiver.received[1], receiver.received[2]
    assert payment.json()["transaction"]["external_id"] == str(order_id) and "billing" not in order_paid.json()
    api.set_order_status(order_id, "canceled")
    assert [w["event"] for w in journal(api)["webhooks"]][-2:] == ["refund", "order_canceled"]
    for received in receiver.received:
        check_against_spec(received)


def test_user_validation_comes_first_and_can_stop_the_payment(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver, user_validation=True)
    item(api, "bow")
    order_id = buy(api, "bow", user="test_xsolla_user")
    receiver.answer_with((400, {"error": {"code": "INVALID_USER", "message": "Invalid user"}}))
    refused = api.call("POST", f"/__mock__/orders/{order_id}", json_body={"status": "paid"})
    assert refused.status == 422 and "INVALID_USER" in refused.data["errorMessage"]
    assert status(api, order_id, "test_xsolla_user") == "new"  # the payment did not go through
    paid = api.call("POST", f"/__mock__/orders/{order_id}/payment", json_body={"action": "pay"})
    assert paid.data["accepted"] is True and paid.data["status"] == "paid"
    assert [(w["event"], w["outcome"]) for w in journal(api)["webhooks"]] == [
        ("user_validation", "refused"),
        ("user_validation", "delivered"),
        ("order_paid", "delivered"),
    ]
    assert receiver.received[0].json()["user"]["id"] == "test_xsolla_user"


# ------------------------------------------------------------------ retries on the mock's clock


def test_a_500_is_retried_on_the_schedule_as_the_clock_advances(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver)
    item(api, "lance")
    receiver.answer_with(500, 502, 500)
    api.set_order_status(buy(api, "lance"), "paid")
    attempts = journal(api)["webhooks"]
    assert [(a["attempt"], a["answer"]["status"], a["outcome"]) for a in attempts] == [(1, 500, "retry")]
    first_at = datetime.fromisoformat(attempts[0]["time"])
    assert datetime.fromisoformat(attempts[0]["next_attempt_at"]) - first_at == timedelta(minutes=5)
    advance(api, 4 * 60)
    assert len(journal(api)["webhooks"]) == 1  # not due yet
    advance(api, 60)
    assert [a["answer"]["status"] for a in journal(api)["webhooks"]] == [500, 502]
    advance(api, 5 * 60)
    attempts = journal(api)["webhooks"]
    assert [a["answer"]["status"] for a in attempts] == [500, 502, 500]  # 2 retries 5 minutes apart ...
    third_at = datetime.fromisoformat(attempts[-1]["time"])
    assert datetime.fromisoformat(attempts[-1]["next_attempt_at"]) - third_at == timedelta(minutes=15)  # ... then 15
    advance(api, 15 * 60)
    attempts = journal(api)["webhooks"]
    assert [(a["attempt"], a["answer"]["status"], a["outcome"]) for a in attempts][-1] == (4, 204, "delivered")
    assert len(receiver.received) == 4 and len({r.body for r in receiver.received}) == 1  # the same bytes each time
    assert journal(api)["pending"] == []


def test_retries_stop_after_the_schedule(app_api: ContractClient, receiver: WebhookReceiver) -> None:
    api = app_api
    point(api, receiver)
    item(api, "mace")
    receiver.answer_with(*[503] * 25)
    api.set_order_status(buy(api, "mace"), "paid")
    while journal(api)["pending"]:
        due = datetime.fromisoformat(journal(api)["pending"][0]["due"])  # in whole seconds
        api.control("POST", "clock", {"set": (due + timedelta(seconds=1)).isoformat()})
    attempts = journal(api)["webhooks"]
    times = [datetime.fromisoformat(a["time"]) for a in attempts]
    gaps = [round((b - a).total_seconds() / 60) for a, b in zip(times, times[1:], strict=False)]
    assert gaps == [5] * 2 + [15] * 7 + [60] * 10  # minutes: the spec's x-delivery schedule
    assert attempts[-1]["outcome"] == "given up" and len(receiver.received) == 20


def test_a_400_is_not_retried(app_api: ContractClient, receiver: WebhookReceiver) -> None:
    api = app_api
    point(api, receiver)
    item(api, "dagger")
    receiver.answer_with((400, {"error": {"code": "INCORRECT_AMOUNT", "message": "Incorrect amount"}}))
    api.set_order_status(buy(api, "dagger"), "paid")
    advance(api, 2 * 3600)
    data = journal(api)
    assert [(a["answer"]["status"], a["outcome"], a["next_attempt_at"]) for a in data["webhooks"]] == [
        (400, "refused", None)
    ]
    assert data["pending"] == [] and len(receiver.received) == 1


# ------------------------------------------------------------------ the sender never blocks the API


def test_the_api_answers_while_the_game_is_still_busy(app_api: ContractClient) -> None:
    api, release, arrived = app_api, threading.Event(), threading.Event()

    def slow_game(environ, start_response):
        arrived.set()
        release.wait(10)
        start_response("204 No Content", [])
        return [b""]

    with WebhookReceiver(SECRET, app=slow_game) as receiver:
        point(api, receiver)
        item(api, "gift", None, is_free=True)
        created = api.post(api.path(FREE_ITEM, sku="gift"), headers=api.user("player-1"))
        assert created.status == 200  # answered ...
        assert arrived.wait(10) and not release.is_set()  # ... while the game's server still holds the webhook
        assert api.get(api.path(ORDER, order_id=created.data["order_id"]), headers=api.user("player-1")).status == 200
        release.set()
        assert [a["outcome"] for a in journal(api)["webhooks"]] == ["delivered"]


# ------------------------------------------------------------------ the payment side


def test_payment_actions_pay_decline_refund_and_partial_refund(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver)
    item(api, "tome", 10.00)

    def act(order_id: int, **body: object):
        return api.call("POST", f"/__mock__/orders/{order_id}/payment", json_body=body)

    order_id = buy(api, "tome")
    declined = act(order_id, action="decline")
    assert (declined.data["accepted"], declined.data["status"]) == (False, "new")
    assert act(order_id, action="refund").status == 422  # nothing paid yet
    assert act(order_id, action="pay").data["status"] == "paid"
    assert act(order_id, action="pay").status == 422  # paid once
    partial = act(order_id, action="partial_refund", amount="4.00")
    assert (partial.data["accepted"], partial.data["status"]) == (True, "paid")
    assert act(order_id, action="partial_refund", amount="10.00").status == 422  # not a part
    assert act(order_id, action="refund", code=42).status == 422  # no such refund code
    assert act(order_id, action="refund", code=9).data["status"] == "canceled"
    events = [(w["event"], w["body"]) for w in journal(api)["webhooks"]]
    assert [e for e, _ in events] == ["order_paid", "partial_refund", "order_canceled"]
    assert events[1][1]["payment_details"]["payment"] == {"currency": "USD", "amount": 4.0}
    assert events[2][1]["billing"]["refund_details"]["code"] == 9
    assert act(order_id, action="fly").status == 422 and act(999, action="pay").status == 404
    for received in receiver.received:
        check_against_spec(received)


# ------------------------------------------------------------------ the payment page plays the same payment


def page_action(api: ContractClient, token: str, action: str):
    """What the payment page's form posts (`/paystation4/`), as the browser sends it."""
    return api.app.test_client().post("/paystation4/", data={"token": token, "action": action})


def test_paying_on_the_payment_page_sends_a_signed_order_paid(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver)
    item(api, "frost_bow", 7.50)
    bought = purchase(api, "frost_bow", settings={"return_url": "https://game.example/back"})
    answer = page_action(api, bought["token"], "pay")
    assert answer.status_code == 303
    returned = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    assert status(api, bought["order_id"]) == "done"  # paid, then done, as the service moves it
    [received] = receiver.wait_for(event="order_paid")
    check_against_spec(received)
    body = received.json()
    assert body["order"]["id"] == bought["order_id"] and body["order"]["invoice_id"] == returned["invoice_id"]
    assert [(w["event"], w["outcome"]) for w in journal(api)["webhooks"]] == [("order_paid", "delivered")]
    assert page_action(api, bought["token"], "pay").status_code == 303  # a second submit pays nothing twice
    refunded = api.call("POST", f"/__mock__/orders/{bought['order_id']}/payment", json_body={"action": "cancel"})
    assert refunded.data["status"] == "canceled"
    assert [w["event"] for w in journal(api)["webhooks"]] == ["order_paid", "order_canceled"]
    check_against_spec(receiver.wait_for(event="order_canceled")[0])


def test_decline_and_cancel_on_the_payment_page_send_no_webhook(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver, mode="separate")
    item(api, "shield", 3.00)
    bought = purchase(api, "shield")
    declined = page_action(api, bought["token"], "decline")
    assert 'data-outcome="troubled"' in declined.get_data(as_text=True)
    assert status(api, bought["order_id"]) == "new" and journal(api)["webhooks"] == []  # still payable
    assert page_action(api, bought["token"], "pay").status_code == 200
    assert [w["event"] for w in journal(api)["webhooks"]] == ["payment", "order_paid"]  # separate notifications
    unpaid = purchase(api, "shield")
    canceled = page_action(api, unpaid["token"], "cancel")
    assert 'data-outcome="canceled"' in canceled.get_data(as_text=True)
    assert status(api, unpaid["order_id"]) == "canceled"
    assert {w["order_id"] for w in journal(api)["webhooks"]} == {bought["order_id"]}  # nothing paid, nothing told


def test_pay_submitted_twice_at_once_pays_and_notifies_once(app_api: ContractClient, receiver: WebhookReceiver) -> None:
    api = app_api
    point(api, receiver)
    item(api, "relic", 9.00)
    bought = purchase(api, "relic", settings={"return_url": "https://game.example/back"})
    start, answers = threading.Barrier(6), []

    def submit() -> None:
        start.wait()
        answers.append(page_action(api, bought["token"], "pay"))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    locations = {dict(parse_qsl(urlsplit(a.headers["Location"]).query))["invoice_id"] for a in answers}
    assert [a.status_code for a in answers] == [303] * 6 and len(locations) == 1  # every submit sees the one payment
    assert [w["event"] for w in journal(api)["webhooks"]] == ["order_paid"]
    assert api.control("GET", "users/player-1")["inventory"]["relic"] == 1


def test_the_payment_page_asks_the_game_to_validate_the_user_first(
    app_api: ContractClient, receiver: WebhookReceiver
) -> None:
    api = app_api
    point(api, receiver, user_validation=True)
    item(api, "crown", 20.00)
    bought = purchase(api, "crown", user="test_xsolla_1")
    receiver.answer_with((400, {"error": {"code": "INVALID_USER", "message": "Invalid user"}}))
    refused = page_action(api, bought["token"], "pay")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'data-outcome="troubled"' in html and "does not know this player" in html
    assert status(api, bought["order_id"], "test_xsolla_1") == "new"
    assert page_action(api, bought["token"], "pay").status_code == 200  # the game accepts the user now
    assert status(api, bought["order_id"], "test_xsolla_1") == "done"
    assert [(w["event"], w["outcome"]) for w in journal(api)["webhooks"]] == [
        ("user_validation", "refused"),
        ("user_validation", "delivered"),
        ("order_paid", "delivered"),
    ]
    assert receiver.received[0].json()["user"]["id"] == "test_xsolla_1"


def test_the_body_of_any_webhook_about_an_order(app_api: ContractClient) -> None:
    api = app_api
    item(api, "ring", 2.50)
    order_id = buy(api, "ring")
    api.set_order_status(order_id, "paid")
    validator = WebhookValidator.bundled()
    for event in validator.spec.webhooks:
        body = api.call("GET", f"/__mock__/orders/{order_id}/webhooks/{event}", params={"mode": "separate"}).data
        raw, headers = signed_request(body, SECRET)
        request = HttpRequest("POST", "/", [], {k.lower(): v for k, v in headers.items()}, raw)
        assert validator.validate(request, event=event, secret=SECRET).violations == []
        assert body["notification_type"] == event
    assert api.call("GET", f"/__mock__/orders/{order_id}/webhooks/order_shipped").status == 422
    assert api.call("GET", "/__mock__/orders/999/webhooks/order_paid").status == 404


# ------------------------------------------------------------------ settings and secrets


def test_settings_are_checked_and_the_secret_is_never_shown(app_api: ContractClient, receiver: WebhookReceiver) -> None:
    api = app_api
    shown = point(api, receiver, mode="separate")
    assert shown == {
        "project_id": api.project_id,
        "url": receiver.url,
        "mode": "separate",
        "user_validation": False,
        "secret_set": True,
        "source": "project",
    }
    assert api.control("GET", "webhooks/settings") == shown
    for bad in ({"url": "ftp://x"}, {"mode": "both"}, {"secret": ""}, {"user_validation": "yes"}, {"colour": 1}):
        answer = api.call("PUT", "/__mock__/webhooks/settings", json_body=bad)
        assert answer.status == 422 and answer.data["errorCode"] == 1102 and answer.data["statusCode"] == 422
    item(api, "orb")
    api.set_order_status(buy(api, "orb"), "paid")
    journal(api)
    assert SECRET not in json.dumps(api.control("GET", "state")) and SECRET not in json.dumps(journal(api))


def test_no_url_no_webhooks_and_reset_forgets_them(app_api: ContractClient, receiver: WebhookReceiver) -> None:
    api = app_api
    item(api, "stone")
    api.set_order_status(buy(api, "stone"), "paid")
    assert journal(api) == {"webhooks": [], "pending": []}
    point(api, receiver)
    receiver.answer_with(500)
    api.set_order_status(buy(api, "stone"), "paid")
    assert len(journal(api)["pending"]) == 1
    api.reset()
    assert journal(api) == {"webhooks": [], "pending": []}


def test_state_on_disk_holds_no_secret(tmp_path: Path, spec) -> None:
    state = tmp_path / "mock.sqlite"
    config = MockConfig(seed=1, webhook_url="http://127.0.0.1:9/xsolla/webhook", webhook_secret="config-secret-1")
    app = create_app(spec, store=f"sqlite:{state}", config=config)
    api = ContractClient(Validator(spec), app=app)
    api.control("PUT", "webhooks/settings", {"secret": "project-secret-2", "mode": "separate"})
    order_id = buy(api, "frozen_hammer")
    api.set_order_status(order_id, "paid")
    engine_of(app).webhooks.settle()
    engine_of(app).webhooks.stop()
    engine_of(app).store.close()
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert b"config-secret-1" not in data and b"project-secret-2" not in data, path
    assert b"secret_set" in state.read_bytes()


def test_webhook_settings_from_a_fixtures_file(
    tmp_path: Path, spec, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GAME_WEBHOOK_SECRET", SECRET)
    fixtures = tmp_path / "store.yaml"
    fixtures.write_text(
        "virtual_items:\n"
        "  - {sku: torch, name: {en: Torch}, prices: [{amount: 1.5, currency: USD, is_default: true}]}\n"
        f"webhooks: {{url: '{receiver.url}', secret_env: GAME_WEBHOOK_SECRET, mode: separate}}\n"
    )
    app = create_app(spec, config=MockConfig(fixtures=str(fixtures), project_id=44056))
    api = ContractClient(Validator(spec), app=app)
    assert api.control("GET", "webhooks/settings")["mode"] == "separate"
    api.set_order_status(buy(api, "torch"), "paid")
    assert [w["event"] for w in journal(api)["webhooks"]] == ["payment", "order_paid"]
    check_against_spec(receiver.received[0])
    bad = tmp_path / "bad.yaml"
    bad.write_text("webhooks: {url: 'http://127.0.0.1:9/x', secret_env: NOT_SET_ANYWHERE}\n")
    with pytest.raises(ValueError, match="NOT_SET_ANYWHERE"):
        create_app(spec, config=MockConfig(fixtures=str(bad)))


def test_the_mock_on_a_live_port_delivers_too(spec, receiver: WebhookReceiver) -> None:
    config = MockConfig(seed=1, webhook_url=receiver.url, webhook_secret=SECRET, webhook_mode="separate")
    with MockServer(create_app(spec, config=config)) as server:
        api = ContractClient(Validator(spec), base_url=server.url)
        api.set_order_status(buy(api, "frozen_hammer"), "paid")
        assert [r.event for r in receiver.wait_for(2)] == ["payment", "order_paid"]
        assert all(r.signature_ok for r in receiver.received)
    server.raise_errors()
