"""The payment page in a real browser: an order made through the API (catalog -> cart ->
payment token) is opened at /paystation4/?token=..., paid, declined or canceled, and the
browser lands on the game's return URL with the parameters the service adds."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from xsolla_contract.toolkit.testing import ContractClient

P2 = "/v2/project/{project_id}"
PROJECT = 44056
WAIT = 15


def api_for(mock, validator) -> ContractClient:
    return ContractClient(validator, base_url=mock.url, project_id=PROJECT)


def buy(api: ContractClient, *, user: str = "player-1", settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """catalog -> cart -> payment token, as a game's frontend does it; the cart's view of the order."""
    headers = api.user(user)
    catalog = api.get(api.path(P2 + "/items/virtual_items"), headers=headers, params={"limit": 50}).data["items"]
    prices = {item["sku"]: item["price"] for item in catalog}
    assert prices["frozen_hammer"]["amount"] != prices["frozen_hammer"]["amount_without_discount"]  # on sale
    fill = {"items": [{"sku": "frozen_hammer", "quantity": 2}, {"sku": "storm_cloak", "quantity": 1}]}
    cart = api.put(api.path(P2 + "/cart/fill"), json=fill, headers=headers)
    assert cart.status == 200, cart.body
    body: dict[str, Any] = {"sandbox": True}
    if settings is not None:
        body["settings"] = settings
    created = api.post(api.path(P2 + "/payment/cart"), json=body, headers=headers)
    assert created.status == 200, created.body
    return {**created.data, "cart": cart.data, "headers": headers, "catalog": prices}


def order_status(api: ContractClient, purchase: dict[str, Any]) -> str:
    answer = api.get(api.path(P2 + "/order/{order_id}", order_id=purchase["order_id"]), headers=purchase["headers"])
    assert answer.status == 200
    return answer.data["status"]


def pay_url(mock, purchase: dict[str, Any]) -> str:
    return f"{mock.url}/paystation4/?token={purchase['token']}"


def wait_for(driver, condition, what: str):
    return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(condition, message=f"waiting for {what}")


def click(driver, action: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'[data-action="{action}"]').click()


def no_console_errors(driver) -> None:
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_pay_shows_the_order_and_returns_to_the_game(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api, settings={"return_url": f"{game.url}/return?from=shop"})
    page.get(pay_url(mock, purchase))
    assert page.title.startswith(f"Pay for order {purchase['order_id']}")
    rows = {row.get_attribute("data-sku"): row for row in page.find_elements(By.CSS_SELECTOR, "tbody tr[data-sku]")}
    assert set(rows) == {"frozen_hammer", "storm_cloak"}
    hammer = rows["frozen_hammer"]
    assert hammer.find_element(By.CSS_SELECTOR, '[data-field="quantity"]').text == "2"
    sale = purchase["catalog"]["frozen_hammer"]
    price = hammer.find_element(By.CSS_SELECTOR, '[data-field="price"]').text
    assert sale["amount_without_discount"] in price and f"{sale['amount']} USD" in price  # struck out, then paid
    total = purchase["cart"]["price"]
    assert page.find_element(By.CSS_SELECTOR, '[data-field="total"]').text == f"{total['amount']} {total['currency']}"
    assert page.find_element(By.CSS_SELECTOR, '[data-action="pay"]').text == f"Pay {total['amount']} USD"
    shot("order")

    click(page, "pay")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the return URL")
    shot("returned")
    query = parse_qs(urlsplit(page.current_url).query, keep_blank_values=True)
    assert query["from"] == ["shop"]  # the game's own parameter is kept
    assert query["status"] == ["done"] and query["user_id"] == ["player-1"]
    assert query["invoice_id"][0].isdigit() and "foreigninvoice" not in query  # no external_id was given
    assert page.find_element(By.CSS_SELECTOR, '[data-param="status"]').text == "done"
    assert order_status(api, purchase) == "done"
    search = api.post(api.path("/v3/project/{project_id}/admin/order/search"), json={}, headers=api.admin())
    found = next(o for o in search.data["orders"] if o["order_id"] == purchase["order_id"])
    assert found["invoice_id"] == query["invoice_id"][0]
    inventory = api.control("GET", "users/player-1")["inventory"]
    assert inventory["frozen_hammer"] == 2 and inventory["storm_cloak"] == 1  # delivered
    no_console_errors(page)


def test_a_server_side_token_returns_the_projects_transaction_id(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    body = {
        "sandbox": True,
        "user": {"id": {"value": "player-7"}, "country": {"value": "US"}, "email": {"value": "p7@example.com"}},
        "purchase": {"items": [{"sku": "gold_550", "quantity": 1}]},
        "settings": {"return_url": f"{game.url}/return", "external_id": "EK-1001"},
    }
    created = api.post(api.path("/v3/project/{project_id}/admin/payment/token"), json=body, headers=api.admin())
    assert created.status == 201, created.body
    page.get(f"{mock.url}/paystation4/?token={created.data['token']}")
    assert page.find_element(By.CSS_SELECTOR, '[data-field="user"]').text == "player-7"
    assert page.find_element(By.CSS_SELECTOR, '[data-field="total"]').text == "4.99 USD"
    click(page, "pay")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the return URL")
    returned = dict(game.returns[-1])
    assert returned["foreigninvoice"] == "EK-1001" and returned["user_id"] == "player-7"
    assert returned["status"] == "done" and returned["invoice_id"].isdigit()
    assert api.control("GET", "users/player-7")["inventory"]["gold"] == 550


def test_decline_keeps_the_order_payable_and_it_can_be_paid_later(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    policy = {
        "redirect_conditions": "successful",
        "status_for_manual_redirection": "any",
        "redirect_button_caption": "Back to Ember Keep",
    }
    purchase = buy(api, settings={"return_url": f"{game.url}/return", "redirect_policy": policy})
    page.get(pay_url(mock, purchase))
    click(page, "decline")
    status = wait_for(
        page, ec.presence_of_element_located((By.CSS_SELECTOR, "[role=status][data-outcome]")), "the result"
    )
    assert status.get_attribute("data-outcome") == "troubled"
    assert page.find_element(By.TAG_NAME, "h1").text == "Payment declined"
    back = page.find_element(By.CSS_SELECTOR, '[data-action="return"]')
    assert back.text == "Back to Ember Keep"
    back_query = parse_qs(urlsplit(back.get_attribute("href")).query, keep_blank_values=True)
    assert back_query["status"] == ["troubled"] and back_query["invoice_id"][0].isdigit()
    shot("declined")
    assert order_status(api, purchase) == "new"
    assert game.returns == []  # no automatic return after a failure with this policy

    click(page, "retry")  # the same token, later
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, '[data-action="pay"]')), "the payment page")
    click(page, "pay")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the return URL")
    assert dict(game.returns[-1])["status"] == "done"
    assert dict(game.returns[-1])["invoice_id"] != back_query["invoice_id"][0]  # a new invoice for the new attempt
    assert order_status(api, purchase) == "done"


def test_cancel_cancels_the_order_and_shows_the_result_without_a_return_url(mock, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api)
    page.get(pay_url(mock, purchase))
    click(page, "cancel")
    wait_for(page, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Order canceled"), "the result")
    assert page.find_element(By.CSS_SELECTOR, '[data-field="order_status"]').text == "canceled"
    assert "You can close this window." in page.page_source
    shot("canceled")
    assert order_status(api, purchase) == "canceled"
    page.get(pay_url(mock, purchase))  # the token is spent
    assert page.find_element(By.TAG_NAME, "h1").text == "This order was canceled"
    assert page.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert requests.get(pay_url(mock, purchase), timeout=10).status_code == 410


def test_cancel_returns_as_a_closed_payment_ui(mock, game, validator, page) -> None:
    api = api_for(mock, validator)
    policy = {"redirect_conditions": "successful_or_canceled"}
    purchase = buy(api, settings={"return_url": f"{game.url}/return", "redirect_policy": policy})
    page.get(pay_url(mock, purchase))
    click(page, "cancel")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the return URL")
    assert game.returns[-1] == [("user_id", "player-1"), ("invoice_id", "")]
    assert order_status(api, purchase) == "canceled"


def test_keyboard_only_payment(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api, settings={"return_url": f"{game.url}/return"})
    page.get(pay_url(mock, purchase))
    reached = []
    body = page.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(10):  # Tab moves through the actions in reading order
        action = page.switch_to.active_element.get_attribute("data-action")
        reached.append(action)
        if action == "cancel":
            break
        page.switch_to.active_element.send_keys(Keys.TAB)
    assert reached == ["pay", "decline", "cancel"]
    page.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    page.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    focused = page.switch_to.active_element
    assert focused.get_attribute("data-action") == "pay"
    outline = page.execute_script("return getComputedStyle(arguments[0]).outlineStyle", focused)
    assert outline != "none"  # the focus is visible
    shot("focused")
    focused.send_keys(Keys.ENTER)
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the return URL")
    assert dict(game.returns[-1])["status"] == "done"
    assert order_status(api, purchase) == "done"


def test_the_page_is_labelled_for_screen_readers(mock, validator, page) -> None:
    api = api_for(mock, validator)
    purchase = buy(api)
    page.get(pay_url(mock, purchase))
    assert page.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    table = page.find_element(By.TAG_NAME, "table")
    assert table.find_element(By.TAG_NAME, "caption").text == "Your order"
    assert len(table.find_elements(By.CSS_SELECTOR, "th[scope=col]")) == 4
    assert page.find_element(By.TAG_NAME, "form").get_attribute("aria-label").startswith("Payment of order")
    for action in ("pay", "decline", "cancel"):
        button = page.find_element(By.CSS_SELECTOR, f'[data-action="{action}"]')
        assert button.tag_name == "button" and button.accessible_name, action
    # the struck-out price is announced as such
    hidden = page.find_element(By.CSS_SELECTOR, "tr[data-sku=frozen_hammer] del .visually-hidden")
    assert hidden.get_attribute("textContent") == "Before discount: "


def test_the_page_in_an_iframe_of_the_game(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api, settings={"return_url": f"{game.url}/return"})
    page.get(f"{game.url}/shop?mode=iframe&pay={requests.utils.quote(pay_url(mock, purchase), safe='')}")
    frame = page.find_element(By.ID, "paystation")
    page.switch_to.frame(frame)
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, '[data-action="pay"]')), "the framed page")
    shot("framed-order")
    click(page, "pay")
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, '[data-param="status"]')), "the framed return")
    page.switch_to.default_content()
    message = wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, "#messages li")), "the message")
    assert '"status":"done"' in message.text
    shot("framed-returned")
    assert order_status(api, purchase) == "done"


def test_the_page_in_a_popup(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api, settings={"return_url": f"{game.url}/return"})
    page.get(f"{game.url}/shop?mode=popup&pay={requests.utils.quote(pay_url(mock, purchase), safe='')}")
    shop = page.current_window_handle
    page.find_element(By.ID, "buy").click()
    wait_for(page, ec.number_of_windows_to_be(2), "the popup")
    popup = next(h for h in page.window_handles if h != shop)
    page.switch_to.window(popup)
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, '[data-action="pay"]')), "the popup's page")
    shot("popup-order")
    click(page, "pay")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the popup's return")
    page.switch_to.window(shop)
    message = wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, "#messages li")), "the message")
    assert '"status":"done"' in message.text
    assert order_status(api, purchase) == "done"


def test_a_delayed_return_counts_down_and_offers_the_way_back(mock, game, validator, page, shot) -> None:
    api = api_for(mock, validator)
    policy = {"redirect_conditions": "any", "delay": 2, "status_for_manual_redirection": "none"}
    purchase = buy(api, settings={"return_url": f"{game.url}/return", "redirect_policy": policy})
    page.get(pay_url(mock, purchase))
    click(page, "pay")
    wait_for(page, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Payment successful"), "the result")
    assert "You will return to the game in 2 seconds." in page.page_source
    shot("countdown")
    wait_for(page, ec.url_contains(f"{game.url}/return"), "the automatic return")
    assert dict(game.returns[-1])["status"] == "done"


@pytest.mark.parametrize("token", ["unknown-token", ""])
def test_unknown_tokens_get_an_error_page(mock, page, shot, token: str) -> None:
    url = f"{mock.url}/paystation4/?token={token}"
    page.get(url)
    alert = page.find_element(By.CSS_SELECTOR, "[role=alert] h1")
    assert alert.text == ("Unknown payment token" if token else "No payment token")
    assert "Traceback" not in page.page_source
    shot("error")
    assert requests.get(url, timeout=10).status_code == (404 if token else 400)


def test_an_expired_token_gets_an_error_page(mock, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api)
    api.advance("PT25H")  # the token lives 24 hours of the mock's clock
    page.get(pay_url(mock, purchase))
    assert page.find_element(By.CSS_SELECTOR, "[role=alert] h1").text == "This payment link has expired"
    shot("expired")
    assert (
        requests.post(
            f"{mock.url}/paystation4/", data={"token": purchase["token"], "action": "pay"}, timeout=10
        ).status_code
        == 410
    )
    assert order_status(api, purchase) == "new"
