"""The retrying client against a store that fails on purpose: the mock's fault rules."""

import time

import pytest
import requests
from retry_client import OutcomeUnknown, RetryingClient


@pytest.fixture
def client(xsolla_mock):
    return RetryingClient(xsolla_mock.url, xsolla_mock.project_id, xsolla_mock.user_token("player-1"), backoff=0.01)


def statuses(xsolla_mock, operation):
    return [entry["status"] for entry in xsolla_mock.requests if entry["operation"] == operation]


@pytest.mark.xsolla_contract  # answers a fault rule makes are not held against the contract
def test_redeem_is_retried_after_too_many_requests(xsolla_mock, client):
    with xsolla_mock.fault("redeem-coupon", status=429, times=1) as busy:
        assert "gold" in client.redeem_coupon("WELCOME2026")
    assert busy.fired == 1
    assert statuses(xsolla_mock, "redeem-coupon") == [429, 200]


@pytest.mark.xsolla_contract
def test_catalog_survives_an_outage(xsolla_mock, client):
    xsolla_mock.fault("get-virtual-items", status=503, times=2)  # lasts until used up or the test ends
    assert client.catalog()
    assert statuses(xsolla_mock, "get-virtual-items") == [503, 503, 200]


def test_the_client_gives_up_after_its_last_attempt(xsolla_mock, client):
    with xsolla_mock.fault("get-virtual-items", status=503) as outage:
        with pytest.raises(requests.HTTPError) as error:
            client.catalog()
    assert outage.fired == client.attempts
    assert error.value.response.json()["statusCode"] == 503  # in the API's error format
    assert client.catalog()  # the rule is gone with the block


def test_catalog_survives_a_dropped_connection(xsolla_mock, client):
    with xsolla_mock.fault("get-virtual-items", disconnect=True, times=1):
        assert client.catalog()
    assert statuses(xsolla_mock, "get-virtual-items") == [None, 200]  # no answer, then one


def test_catalog_read_is_retried_after_a_timeout(xsolla_mock, client):
    client.timeout = 0.5
    with xsolla_mock.fault("get-virtual-items", latency_ms=1500, times=1):
        assert client.catalog()  # the retry's answer
    deadline = time.monotonic() + 10
    while len(statuses(xsolla_mock, "get-virtual-items")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert statuses(xsolla_mock, "get-virtual-items") == [200, 200]  # the slow one was answered after all


def test_a_redeem_whose_answer_was_lost_is_not_repeated(xsolla_mock, client):
    with xsolla_mock.fault("redeem-coupon", disconnect="after", times=1):  # processed, answer lost
        with pytest.raises(OutcomeUnknown):
            client.redeem_coupon("WELCOME2026")
    assert statuses(xsolla_mock, "redeem-coupon") == [None]  # one attempt only
    with pytest.raises(requests.HTTPError) as again:  # the store had redeemed it: a retry would be refused
        client.redeem_coupon("WELCOME2026")
    assert again.value.response.json()["errorCode"] == 9804
