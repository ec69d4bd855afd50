"""The dashboard at /__mock__/ in a real browser: the store at a glance, the request journal
live (a request made just before, a violation highlighted), the clock and reset."""

from __future__ import annotations

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from .test_payment_page import PROJECT, api_for, buy, no_console_errors, wait_for


def rows(driver, table: str) -> list:
    return driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")


def test_the_dashboard_shows_the_store_and_the_requests_live(mock, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api)  # requests made just before the page opens
    page.get(f"{mock.url}/__mock__/")
    assert page.title.startswith("Mock dashboard")
    order = wait_for(
        page,
        ec.presence_of_element_located((By.CSS_SELECTOR, f'#orders tr[data-order="{purchase["order_id"]}"]')),
        "the order in the store panel",
    )
    assert order.get_attribute("data-status") == "new"
    payment_link = order.find_element(By.LINK_TEXT, "Open").get_attribute("href")
    assert payment_link == f"{mock.url}/paystation4/?token={purchase['token']}"
    skus = {row.find_element(By.TAG_NAME, "th").text for row in rows(page, "items")}
    assert {"gold", "frozen_hammer", "bundle_1"} <= skus
    codes = {row.find_element(By.TAG_NAME, "th").text for row in rows(page, "codes")}
    assert {"WELCOME2026", "SPRING10", "VIPARMORY"} <= codes
    assert len(rows(page, "promotions")) == 5 and len(rows(page, "chains")) == 3
    operations = [r.get_attribute("data-operation") for r in rows(page, "requests")]
    assert operations[:3] == ["create-order", "cart-fill", "get-virtual-items"]  # newest first

    # a request with a violation, made while the page is open, shows up highlighted
    bad = requests.post(
        f"{mock.url}/api/v2/project/{PROJECT}/payment/cart",
        json={"sandbox": "yes"},
        headers=purchase["headers"],
        timeout=10,
    )
    assert bad.status_code == 422
    flagged = wait_for(
        page, ec.presence_of_element_located((By.CSS_SELECTOR, "#requests tr.violation")), "the violation"
    )
    assert flagged.get_attribute("data-operation") == "create-order" and flagged.get_attribute("data-status") == "422"
    flagged.find_element(By.TAG_NAME, "summary").click()
    assert "sandbox" in flagged.find_element(By.TAG_NAME, "ul").text
    background = page.execute_script("return getComputedStyle(arguments[0]).backgroundColor", flagged)
    plain = page.execute_script(
        "return getComputedStyle(document.querySelector('#requests tr:not(.violation)')).backgroundColor"
    )
    assert background != plain
    shot("journal")

    # the order's payment page opens in a new tab; paying there moves the order in the store panel
    dashboard = page.current_window_handle
    page.find_element(By.CSS_SELECTOR, f'#orders tr[data-order="{purchase["order_id"]}"] a').click()
    wait_for(page, ec.number_of_windows_to_be(2), "the new tab")
    page.switch_to.window(next(h for h in page.window_handles if h != dashboard))
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, '[data-action="pay"]')), "the payment page")
    page.find_element(By.CSS_SELECTOR, '[data-action="pay"]').click()
    wait_for(page, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Payment successful"), "the result")
    shot("paid-in-new-tab")
    page.close()
    page.switch_to.window(dashboard)
    wait_for(
        page,
        ec.presence_of_element_located(
            (By.CSS_SELECTOR, f'#orders tr[data-order="{purchase["order_id"]}"][data-status="done"]')
        ),
        "the paid order",
    )
    shot("store")
    no_console_errors(page)


def test_only_violations_and_pause(mock, validator, page) -> None:
    api = api_for(mock, validator)
    buy(api)
    requests.get(f"{mock.url}/api/v2/project/{PROJECT}/items/virtual_items?limit=0", timeout=10)  # limit < 1
    page.get(f"{mock.url}/__mock__/")
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, "#requests tr.violation")), "the violation")
    page.find_element(By.ID, "only-violations").click()
    shown = rows(page, "requests")
    assert shown and all("violation" in r.get_attribute("class") for r in shown)
    pause = page.find_element(By.ID, "pause")
    pause.click()
    assert pause.get_attribute("aria-pressed") == "true"
    count = len(rows(page, "requests"))
    requests.get(f"{mock.url}/api/v2/project/{PROJECT}/items/virtual_items?limit=0", timeout=10)
    page.implicitly_wait(0)
    WebDriverWait(page, 2.5).until_not(lambda d: len(rows(d, "requests")) != count, "paused: no new rows")
    pause.click()
    wait_for(page, lambda d: len(rows(d, "requests")) == count + 1, "the resumed journal")


def test_clock_and_reset_from_the_dashboard(mock, validator, page, shot) -> None:
    api = api_for(mock, validator)
    purchase = buy(api)
    page.get(f"{mock.url}/__mock__/")
    wait_for(page, ec.presence_of_element_located((By.CSS_SELECTOR, "#orders tr[data-order]")), "the store")
    advance = page.find_element(By.ID, "advance")
    advance.clear()
    advance.send_keys("P2D")
    page.find_element(By.CSS_SELECTOR, '[data-action="advance"]').click()
    wait_for(page, ec.text_to_be_present_in_element((By.ID, "clock-offset"), "+2d 0h"), "the moved clock")
    assert api.control("GET", "clock")["offset_seconds"] >= 2 * 86400 - 5
    shot("clock")

    page.execute_script("document.getElementById('set').value = '2030-01-02T03:04:05'")
    page.find_element(By.CSS_SELECTOR, '[data-action="set-clock"]').click()
    wait_for(page, ec.text_to_be_present_in_element((By.ID, "clock-now"), "2030-01-02 03:04"), "the set clock")
    assert api.control("GET", "clock")["now"].startswith("2030-01-02T03:04")

    advance.clear()
    advance.send_keys("tomorrow")
    page.find_element(By.CSS_SELECTOR, '[data-action="advance"]').click()
    error = wait_for(page, ec.visibility_of_element_located((By.ID, "error")), "the refusal")
    assert error.text.startswith("422") and "not a duration" in error.text
    assert [e["message"] for e in page.get_log("browser") if e["level"] == "SEVERE"] == [
        f"{mock.url}/__mock__/clock - Failed to load resource: the server responded with a status of 422 "
        "(UNPROCESSABLE ENTITY)"
    ]  # the refusal, and nothing else

    page.find_element(By.ID, "reset").click()
    page.switch_to.alert.accept()
    wait_for(page, ec.text_to_be_present_in_element((By.ID, "status"), "The mock was reset"), "the reset")
    wait_for(page, lambda d: not d.find_elements(By.CSS_SELECTOR, "#orders tr[data-order]"), "the empty order list")
    assert requests.get(f"{mock.url}/paystation4/?token={purchase['token']}", timeout=10).status_code == 404
    assert "real time" in page.find_element(By.ID, "clock-offset").text
    no_console_errors(page)


def test_the_dashboard_cannot_be_framed_by_another_site(mock, game, page) -> None:
    page.get(f"{game.url}/shop?mode=iframe&pay={requests.utils.quote(mock.url + '/__mock__/', safe='')}")
    page.switch_to.frame(page.find_element(By.ID, "paystation"))
    assert not page.find_elements(By.ID, "requests")  # the browser refused to render it in the frame
    page.switch_to.default_content()
    page.get_log("browser")
