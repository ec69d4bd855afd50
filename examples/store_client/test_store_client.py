"""The store client's tests, using the xsolla-contract pytest plugin's fixtures."""

from datetime import datetime

import pytest
import requests
from store_client import StoreClient


@pytest.mark.xsolla_contract  # every HTTP exchange of the test is checked against the spec
def test_checkout(xsolla_mock):
    # The shop manager adds an item with the admin API ...
    requests.post(
        f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/admin/items/virtual_items",
        json={
            "sku": "laser_sword",
            "name": {"en": "Laser sword"},
            "prices": [{"amount": 4.99, "currency": "USD", "is_default": True}],
        },
        auth=xsolla_mock.admin_auth,
        timeout=10,
    ).raise_for_status()
    # ... and the player's client sees it, buys it and follows the order.
    client = StoreClient(xsolla_mock.url, xsolla_mock.project_id, xsolla_mock.user_token("player-1"))
    assert "laser_sword" in [item["sku"] for item in client.catalog()]
    order = client.buy({"laser_sword": 1})
    assert client.order_status(order["order_id"]) == "new"
    xsolla_mock.set_order_status(order["order_id"], "paid")  # the payment arrives
    assert client.order_status(order["order_id"]) == "paid"


@pytest.mark.xsolla_contract
def test_welcome_coupon_once_per_player(xsolla_mock):
    client = StoreClient(xsolla_mock.url, xsolla_mock.project_id, xsolla_mock.user_token("player-2"))
    assert "gold" in client.redeem_coupon("WELCOME2026")  # a coupon of the seeded store
    with pytest.raises(requests.HTTPError) as refused:
        client.redeem_coupon("WELCOME2026")
    assert refused.value.response.json()["errorCode"] == 9804


def test_localized_catalog(xsolla_mock):
    client = StoreClient(xsolla_mock.url, xsolla_mock.project_id, xsolla_mock.user_token())
    german = {item["sku"]: item["name"] for item in client.catalog(locale="de")}
    english = {item["sku"]: item["name"] for item in client.catalog(locale="en")}
    assert german.keys() == english.keys() and german != english


def test_seasonal_item_by_the_mock_clock(xsolla_mock):
    requests.post(
        f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/admin/items/virtual_items",
        json={
            "sku": "snowball",
            "name": {"en": "Snowball"},
            "prices": [{"amount": 0.99, "currency": "USD", "is_default": True}],
            "periods": [{"date_from": "2030-12-01T00:00:00+00:00", "date_until": "2030-12-31T23:59:59+00:00"}],
        },
        auth=xsolla_mock.admin_auth,
        timeout=10,
    ).raise_for_status()
    client = StoreClient(xsolla_mock.url, xsolla_mock.project_id, xsolla_mock.user_token())
    assert "snowball" not in [i["sku"] for i in client.catalog()]
    xsolla_mock.clock.set(datetime.fromisoformat("2030-12-24T12:00:00+00:00"))
    assert "snowball" in [i["sku"] for i in client.catalog()]
