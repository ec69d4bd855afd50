"""A whole purchase in a real browser, with the game's server listening: catalog -> cart ->
payment token -> the payment page -> pay -> the game's return URL; the order is paid through
the API, the game's server got a signed order_paid that the spec describes, and the
dashboard shows that delivery. Then the same dashboard on a mock that has a control token."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.testing import ContractClient, MockServer
from xsolla_contract.toolkit.validation import HttpRequest
from xsolla_contract.toolkit.webhooks import WebhookReceiver, WebhookValidator, verify

from .test_payment_page import api_for, buy, click, no_console_errors, order_status, pay_url, wait_for

SECRET = "game-webhook-secret"
CONTROL_TOKEN = "dashboard-control-token"


@pytest.fixture(scope="module")
def game_server() -> Iterator[WebhookReceiver]:
    """The game's webhook endpoint on a free port: checks signatures, answers 204."""
    with WebhookReceiver(SECRET) as receiver:
        yield receiver
    receiver.raise_errors()


@pytest.fixture(scope="module")
def notifying_mock(spec, game_server: WebhookReceiver) -> Iterator[MockServer]:
    """A seeded mock started as `--webhook-url URL --webhook-secret S` would start it."""
    config = MockConfig(seed=1, webhook_url=game_server.url, webhook_secret=SECRET)
    with MockServer(create_app(spec, config=config)) as server:
        yield server
    server.raise_errors()


def test_a_purchase_in_the_browser_notifies_the_game_and_shows_on_the_dashboard(
    notifying_mock, game_server, game, validator, page, shot
) -> None:
    mock = notifying_mock
    api = api_for(mock, validator)
    purchase = buy(api, settings={"return_url": f"{game.url}/return?from=shop"})
    page.get(pay_url(mock, purchase))
    wait_for(page, ec.element_to_be_clickable((By.CSS_SELECTOR, '[data-action="pay"]')), "the pay button")
    shot("payment-page")
    click(page, "pay")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the return URL")
    returned = {k: v[0] for k, v in parse_qs(urlsplit(page.current_url).query, keep_blank_values=True).items()}
    assert (returned["status"], returned["user_id"], returned["from"]) == ("done", "player-1", "shop")
    shot("returned")
    assert order_status(api, purchase) == "done"

    [received] = game_server.wait_for(event="order_paid", timeout=15)
    assert received.signature_ok and verify(received.body, received.headers["authorization"], SECRET)
    request = HttpRequest("POST", urlsplit(game_server.url).path, [], received.headers, received.body)
    WebhookValidator.bundled().assert_valid(request, {"status": received.status}, secret=SECRET)
    body = received.json()
    assert body["order"]["id"] == purchase["order_id"] and body["order"]["invoice_id"] == returned["invoice_id"]
    assert {(i["sku"], i["quantity"]) for i in body["items"]} == {("frozen_hammer", 2), ("storm_cloak", 1)}
    assert body["user"]["external_id"] == "player-1" and received.status == 204

    page.get(f"{mock.url}/__mock__/")
    row = wait_for(
        page,
        ec.presence_of_element_located((By.CSS_SELECTOR, '#deliveries tr[data-event="order_paid"]')),
        "the delivery on the dashboard",
    )
    assert row.get_attribute("data-outcome") == "delivered"
    field = {
        name: row.find_element(By.CSS_SELECTOR, f'[data-field="{name}"]').text
        for name in ("order", "attempt", "answer", "outcome", "next", "time")
    }
    assert (field["order"], field["attempt"], field["answer"], field["outcome"]) == (
        str(purchase["order_id"]),
        "1",
        "204",
        "delivered",
    )
    assert field["next"] == "—" and field["time"][:4].isdigit()
    page.execute_script("document.getElementById('webhooks').scrollIntoView()")
    shot("dashboard-webhooks")
    no_console_errors(page)


def test_the_dashboard_shows_retries_as_the_game_fails(notifying_mock, game_server, validator, page, shot) -> None:
    """A 500 from the game: the attempt, its answer and when the next one is due; the retry
    after the clock moves, and its success."""
    api = api_for(notifying_mock, validator)
    api.reset()
    purchase = buy(api)
    game_server.answer_with((500, {"error": {"code": "BUSY", "message": "try later"}}))
    done = api.call("POST", f"/__mock__/orders/{purchase['order_id']}/payment", json_body={"action": "pay"})
    assert done.data["accepted"] is True
    page.get(f"{notifying_mock.url}/__mock__/")
    waiting = wait_for(
        page, ec.presence_of_element_located((By.CSS_SELECTOR, '#deliveries tr[data-outcome="waiting"]')), "a retry"
    )
    assert waiting.find_element(By.CSS_SELECTOR, '[data-field="attempt"]').text == "2"
    failed = page.find_element(By.CSS_SELECTOR, '#deliveries tr[data-outcome="retry"]')
    assert failed.find_element(By.CSS_SELECTOR, '[data-field="answer"]').text.startswith("500")
    assert failed.find_element(By.CSS_SELECTOR, '[data-field="next"]').text  # when the next attempt is due
    shot("retry-due")
    api.advance(5 * 60)
    wait_for(
        page,
        ec.presence_of_element_located((By.CSS_SELECTOR, '#deliveries tr[data-outcome="delivered"]')),
        "the retried delivery",
    )
    assert not page.find_elements(By.CSS_SELECTOR, '#deliveries tr[data-outcome="waiting"]')
    no_console_errors(page)


@pytest.fixture(scope="module")
def guarded_mock(spec) -> Iterator[MockServer]:
    """A seeded mock started with `--control-token`."""
    with MockServer(create_app(spec, config=MockConfig(seed=1, control_token=CONTROL_TOKEN))) as server:
        yield server
    server.raise_errors()


def test_the_dashboard_with_a_control_token(guarded_mock, validator, page, shot) -> None:
    mock = guarded_mock
    api = ContractClient(validator, base_url=mock.url, project_id=44056, control_token=CONTROL_TOKEN)
    purchase = buy(api)
    assert api.call("GET", "/__mock__/requests", headers={"Authorization": "Bearer wrong"}).status == 401

    page.get(f"{mock.url}/__mock__/")  # without the token: the page loads, its data does not
    error = wait_for(page, ec.visibility_of_element_located((By.ID, "error")), "the refusal")
    assert error.text.startswith("401")
    assert not page.find_elements(By.CSS_SELECTOR, "#orders tr[data-order]")
    shot("without-token")

    page.get(f"{mock.url}/__mock__/#token={CONTROL_TOKEN}")
    wait_for(
        page,
        ec.presence_of_element_located((By.CSS_SELECTOR, f'#orders tr[data-order="{purchase["order_id"]}"]')),
        "the store with the token",
    )
    assert CONTROL_TOKEN not in page.current_url  # the page drops the token from its address
    wait_for(
        page,
        ec.presence_of_element_located((By.CSS_SELECTOR, '#requests tr[data-operation="create-order"]')),
        "the journal with the token",
    )
    assert not page.find_element(By.ID, "error").is_displayed()
    page.refresh()  # the tab keeps the token
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, "#orders tr[data-order]")), "the store again")
    shot("with-token")
    sent = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert all("401" in e["message"] for e in sent), sent  # only the first visit's refusals
