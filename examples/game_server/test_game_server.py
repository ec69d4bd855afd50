"""The game server's webhook handler, tested in process and with the mock delivering to it."""

import pytest
import requests
from game_server import create_app

from xsolla_contract.toolkit.webhooks import check_handler, example_body, send_to

SECRET = "game-secret"


@pytest.fixture
def game():
    return create_app(SECRET)


# -- in process: the handler through Flask's test client, with signed example bodies


def test_a_paid_order_grants_its_items_once(game):
    client = game.test_client()
    paid = example_body("order_paid")  # the spec's example, signed like Xsolla signs it
    paid["user"]["external_id"] = "player-1"
    assert send_to(client, "/xsolla/webhook", paid, SECRET).status_code == 204
    assert send_to(client, "/xsolla/webhook", paid, SECRET).status_code == 204  # a duplicate: same answer
    assert client.get("/players/player-1/inventory").get_json() == {"flame_sword": 2}  # granted once


def test_a_wrong_signature_is_refused(game):
    answer = send_to(game.test_client(), "/xsolla/webhook", example_body("order_paid"), "not-the-secret")
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "INVALID_SIGNATURE"


def test_xsollas_test_user_is_not_a_player(game):
    check = example_body("user_validation")
    check["user"]["id"] = "test_xsolla_user"
    answer = send_to(game.test_client(), "/xsolla/webhook", check, SECRET)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "INVALID_USER"


# -- end to end: the mock sells, pays and notifies the game's server


@pytest.fixture
def xsolla_webhook_app(game):
    return game  # the receiver of `xsolla_webhooks` serves the game's own handler


@pytest.fixture
def xsolla_webhook_secret():
    return SECRET


def buy(xsolla_mock, player, sku):
    """The player orders one item through the mock's API (status new)."""
    headers = {"Authorization": f"Bearer {xsolla_mock.user_token(player)}"}
    base = f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}"
    order = requests.post(f"{base}/payment/item/{sku}", json={"sandbox": True}, headers=headers, timeout=10)
    order.raise_for_status()
    return order.json()["order_id"]


def test_a_purchase_through_the_mock_reaches_the_game(xsolla_mock, xsolla_webhooks, game):
    order_id = buy(xsolla_mock, "player-2", "frozen_hammer")  # an item of the seeded store
    xsolla_mock.set_order_status(order_id, "paid")  # the payment arrives
    delivered = xsolla_webhooks.wait_for(event="order_paid")[0]
    assert delivered.signature_ok and delivered.status == 204
    assert game.test_client().get("/players/player-2/inventory").get_json() == {"frozen_hammer": 1}

    xsolla_mock.set_order_status(order_id, "canceled")  # refunded: the game takes the item back
    xsolla_webhooks.wait_for(event="order_canceled")
    assert game.test_client().get("/players/player-2/inventory").get_json() == {"frozen_hammer": 0}
    assert [(w["event"], w["outcome"]) for w in xsolla_mock.webhooks] == [
        ("order_paid", "delivered"),
        ("order_canceled", "delivered"),
    ]


def test_the_handler_passes_the_webhook_battery(xsolla_webhooks):
    report = check_handler(xsolla_webhooks.url, SECRET, user="player-1")
    assert report.ok, report.text()
