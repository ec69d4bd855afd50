"""Promotion codes end to end: adding and generating codes, redemption, rewards,
verification, and the code, user and total redemption limits."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests

from xsolla_contract.mocks.clock import iso, parse_datetime
from xsolla_contract.toolkit.testing import ContractClient

PROJECT = 44056
V2, V3 = "/v2/project/{project_id}", "/v3/project/{project_id}"
ITEMS = V2 + "/admin/items/virtual_items"
CURRENCIES = V2 + "/admin/items/virtual_currency"
GAMES = V2 + "/admin/items/game"
COUPONS = V3 + "/admin/coupon"
COUPON = V3 + "/admin/coupon/{external_id}"
PROMO_CODES = V3 + "/admin/promocode"
OFFERS = V3 + "/admin/unique_catalog_offer"
CODES = {
    "coupon": V2 + "/admin/coupon/{external_id}/code",
    "promo": V2 + "/admin/promocode/{external_id}/code",
    "offer": V2 + "/admin/unique_catalog_offer/{external_id}/code",
}
ACTIVATE = {
    "coupon": V2 + "/admin/coupon/{external_id}/activate",
    "promo": V2 + "/admin/promocode/{external_id}/activate",
    "offer": V2 + "/admin/unique_catalog_offer/{external_id}/activate",
}
DEACTIVATE_COUPON = V2 + "/admin/coupon/{external_id}/deactivate"
REDEEM = V2 + "/coupon/redeem"
COUPON_REWARDS = V2 + "/coupon/code/{code}/rewards"
PROMO_REWARDS = V2 + "/promocode/code/{code}/rewards"
VERIFY = V2 + "/promotion/code/{code}/verify"
CATALOG = V2 + "/items/virtual_items"
REDEEMABLE = V3 + "/admin/promotion/redeemable/code/{code}"
COUPON_CODE_LIMIT = V2 + "/admin/code/limit/coupon/external_id/{external_id}"
PROMO_CODE_LIMIT = V2 + "/admin/code/limit/promocode/external_id/{external_id}"
COUPON_USER_LIMIT = V2 + "/admin/user/limit/coupon/external_id/{external_id}"
PROMO_USER_LIMIT = V2 + "/admin/user/limit/promocode/external_id/{external_id}"


def make_items(api: ContractClient) -> None:
    api.post(
        api.path(ITEMS),
        json={
            "sku": "frost_blade",
            "name": {"en": "Frost Blade"},
            "prices": [{"amount": 4.99, "currency": "USD", "is_default": True}],
        },
        headers=api.admin(),
    )
    api.post(api.path(CURRENCIES), json={"sku": "crystals", "name": {"en": "Crystals"}}, headers=api.admin())


def make_coupon(
    api: ContractClient,
    external_id: str = "frost",
    codes: tuple[str, ...] = ("FROST1",),
    active: bool = True,
    **settings: object,
) -> None:
    bonus = [{"sku": "frost_blade", "quantity": 1}, {"sku": "crystals", "quantity": 100}]
    body = {"external_id": external_id, "name": {"en": "Frost gift"}, "bonus": bonus, **settings}
    assert api.post(api.path(COUPONS), json=body, headers=api.admin()).status == 201
    for code in codes:
        assert add_code(api, "coupon", external_id, code).status == 201
    if active:
        activated = api.put(api.path(ACTIVATE["coupon"], external_id=external_id), headers=api.admin())
        assert activated.status == 204


def add_code(api: ContractClient, kind: str, external_id: str, code: str):
    return api.post(api.path(CODES[kind], external_id=external_id), json={"coupon_code": code}, headers=api.admin())


def redeem(api: ContractClient, code: str, user: str = "u1", **extra: object):
    return api.post(api.path(REDEEM), json={"coupon_code": code, **extra}, headers=api.user(user))


def inventory(api: ContractClient, user: str) -> dict:
    return api.control("GET", f"users/{user}")["inventory"]


def now(api: ContractClient):
    return parse_datetime(api.control("GET", "clock")["now"])


# ------------------------------------------------------------------- codes


def test_codes_are_added_generated_and_listed(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("FROST1",), active=False)
    generated = api.put(
        api.path(CODES["coupon"] + "/generate", external_id="frost"), json={"count": 5}, headers=api.admin()
    )
    assert generated.status == 200 and generated.data == {"count": 5}
    listed = api.get(api.path(CODES["coupon"], external_id="frost"), headers=api.admin())
    codes = [c["code"] for c in listed.data["codes"]]
    assert listed.data["total_count"] == 6 and codes[0] == "FROST1" and len(set(codes)) == 6
    assert all(re.fullmatch(r"[a-zA-Z0-9]+", c) for c in codes)
    page = api.get(
        api.path(CODES["coupon"], external_id="frost"), params={"limit": 2, "offset": 4}, headers=api.admin()
    )
    assert [c["code"] for c in page.data["codes"]] == codes[4:6]
    assert api.get(api.path(COUPON, external_id="frost"), headers=api.admin()).data["total_codes_count"] == 6

    api.post(api.path(PROMO_CODES), json={"external_id": "spring", "name": {"en": "Spring"}}, headers=api.admin())
    api.post(
        api.path(OFFERS),
        json={"external_id": "vip", "name": {"en": "VIP"}, "items": ["frost_blade"]},
        headers=api.admin(),
    )
    for kind, external_id in (("promo", "spring"), ("offer", "vip")):
        assert add_code(api, kind, external_id, f"{external_id.upper()}1").status == 201
        api.put(api.path(CODES[kind] + "/generate", external_id=external_id), json={"count": 2}, headers=api.admin())
        listed = api.get(api.path(CODES[kind], external_id=external_id), headers=api.admin())
        assert listed.data["total_count"] == 3
        assert listed.data["codes"][0] == {"code": f"{external_id.upper()}1"}


def test_codes_are_unique_across_promotion_kinds(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("SHARED1",))
    api.post(api.path(PROMO_CODES), json={"external_id": "spring", "name": {"en": "Spring"}}, headers=api.admin())
    for kind, external_id in (("coupon", "frost"), ("promo", "spring")):
        again = add_code(api, kind, external_id, "SHARED1")
        assert (again.status, again.data["errorCode"]) == (422, 9803)
    assert add_code(api, "promo", "spring", "shared1").status == 201  # codes are case-sensitive
    unknown = add_code(api, "coupon", "nope", "OTHER1")
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9802)
    listed = api.get(api.path(CODES["coupon"], external_id="frost"), headers=api.admin())
    assert listed.data["codes"] == [{"code": "SHARED1"}]
    # a deleted promotion's codes may be added to another one
    assert api.delete(api.path(COUPON, external_id="frost"), headers=api.admin()).status == 204
    assert add_code(api, "promo", "spring", "SHARED1").status == 201


# -------------------------------------------------------------- redemption


def test_redeem_grants_the_bonus_items(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api)
    answer = redeem(api, "FROST1")
    assert answer.status == 200
    granted = [(i["sku"], i["quantity"]) for i in answer.data["items"]]
    assert granted == [("frost_blade", 1), ("crystals", 100)]
    assert answer.data["items"][0]["name"] == "Frost Blade"
    assert answer.data["items"][0]["price"]["amount"] == "4.99"
    assert inventory(api, "u1") == {"frost_blade": 1, "crystals": 100}
    unknown = redeem(api, "NOSUCH1")
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9802)
    assert inventory(api, "u1") == {"frost_blade": 1, "crystals": 100}


def test_disabled_coupon_is_refused_until_activated(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, active=False)
    refused = redeem(api, "FROST1")
    assert (refused.status, refused.data["errorCode"]) == (404, 9802)
    assert inventory(api, "u1") == {}
    api.put(api.path(ACTIVATE["coupon"], external_id="frost"), headers=api.admin())
    assert redeem(api, "FROST1").status == 200
    api.put(api.path(DEACTIVATE_COUPON, external_id="frost"), headers=api.admin())
    assert redeem(api, "FROST1", user="u2").status == 404


def test_code_limit_is_enforced_and_reported(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("CODEA", "CODEB"), redeem_code_limit=1)
    assert redeem(api, "CODEA", "u1").status == 200
    used_up = redeem(api, "CODEA", "u2")
    assert (used_up.status, used_up.data["errorCode"]) == (422, 9804)
    assert redeem(api, "CODEB", "u2").status == 200
    report = api.get(api.path(COUPON_CODE_LIMIT, external_id="frost"), headers=api.admin())
    assert report.data["total_items_count"] == 2 and report.data["promotion_id"] >= 1
    assert report.data["items"][0] == {
        "code": "CODEA",
        "per_code": {"total": 1, "available": 0, "used": 1, "reserved": 0},
    }
    only_b = api.get(api.path(COUPON_CODE_LIMIT, external_id="frost"), params={"codes": ["CODEB"]}, headers=api.admin())
    assert [r["code"] for r in only_b.data["items"]] == ["CODEB"]
    assert only_b.data["items"][0]["per_code"]["used"] == 1


def test_user_limit_is_enforced_and_reported(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("CODEA", "CODEB", "CODEC"), redeem_user_limit=2)
    unknown = api.get(
        api.path(COUPON_USER_LIMIT, external_id="frost"), params={"user_external_id": "u1"}, headers=api.admin()
    )
    assert (unknown.status, unknown.data["errorCode"]) == (404, 5008)
    assert redeem(api, "CODEA").status == 200
    state = api.get(
        api.path(COUPON_USER_LIMIT, external_id="frost"), params={"user_external_id": "u1"}, headers=api.admin()
    )
    assert state.data == {"per_user": {"total": 2, "available": 1}}
    assert redeem(api, "CODEB").status == 200
    third = redeem(api, "CODEC")
    assert (third.status, third.data["errorCode"]) == (422, 9804)
    assert redeem(api, "CODEC", user="u2").status == 200
    state = api.get(
        api.path(COUPON_USER_LIMIT, external_id="frost"), params={"user_external_id": "u1"}, headers=api.admin()
    )
    assert state.data == {"per_user": {"total": 2, "available": 0}}
    assert inventory(api, "u1")["crystals"] == 200


def test_total_limit_is_enforced_and_shown_on_the_promotion(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("CODEA", "CODEB", "CODEC"), redeem_total_limit=2)
    assert redeem(api, "CODEA", "u1").status == 200
    assert redeem(api, "CODEB", "u2").status == 200
    over = redeem(api, "CODEC", "u3")
    assert (over.status, over.data["errorCode"]) == (422, 9804)
    coupon = api.get(api.path(COUPON, external_id="frost"), headers=api.admin()).data
    assert coupon["total_limit_state"] == {"available": 0, "reserved": 0, "used": 2}


def test_total_limit_counts_the_uses_of_a_state_that_does_not_keep_their_sum(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("CODEA", "CODEB", "CODEC"), redeem_total_limit=2)
    assert redeem(api, "CODEA", "u1").status == 200
    state = api.control("GET", "state")
    older = [r for r in state["records"] if r[1] != "code_uses"]  # a state exported before the sum was kept
    assert len(older) == len(state["records"]) - 1
    api.control("POST", "state", {**state, "records": older})
    coupon = api.get(api.path(COUPON, external_id="frost"), headers=api.admin()).data
    assert coupon["total_limit_state"] == {"available": 1, "reserved": 0, "used": 1}
    assert redeem(api, "CODEB", "u2").status == 200
    over = redeem(api, "CODEC", "u3")
    assert (over.status, over.data["errorCode"]) == (422, 9804)


def test_promo_code_limits_are_reported(api: ContractClient) -> None:
    make_items(api)
    body = {"external_id": "spring", "name": {"en": "Spring"}, "redeem_code_limit": 3, "redeem_user_limit": 1}
    api.post(api.path(PROMO_CODES), json=body, headers=api.admin())
    add_code(api, "promo", "spring", "SPRING1")
    api.grant("u1", "crystals", 1)
    report = api.get(api.path(PROMO_CODE_LIMIT, external_id="spring"), headers=api.admin())
    assert report.data["items"] == [
        {"code": "SPRING1", "per_code": {"total": 3, "available": 3, "used": 0, "reserved": 0}}
    ]
    user = api.get(
        api.path(PROMO_USER_LIMIT, external_id="spring"), params={"user_external_id": "u1"}, headers=api.admin()
    )
    assert user.data == {"per_user": {"total": 1, "available": 1}}
    missing = api.get(api.path(PROMO_CODE_LIMIT, external_id="nope"), headers=api.admin())
    assert (missing.status, missing.data["errorCode"]) == (404, 9802)


def test_redemption_outside_the_promotion_dates_is_refused(api: ContractClient) -> None:
    make_items(api)
    start = now(api) + timedelta(days=1)
    make_coupon(api, date_start=iso(start), date_end=iso(start + timedelta(days=2)))
    early = redeem(api, "FROST1")
    assert (early.status, early.data["errorCode"]) == (404, 9802)
    api.advance("P1DT1H")
    assert redeem(api, "FROST1").status == 200
    api.advance("P3D")
    late = redeem(api, "FROST1", user="u2")
    assert (late.status, late.data["errorCode"]) == (404, 9802)
    verify = api.get(api.path(VERIFY, code="FROST1"), headers=api.user("u2"))
    assert (verify.status, verify.data["errorCode"]) == (404, 9811)


def test_redemption_outside_the_promotion_periods_is_refused(api: ContractClient) -> None:
    make_items(api)
    start = now(api) + timedelta(hours=2)
    period = {"date_from": iso(start), "date_until": iso(start + timedelta(hours=1))}
    make_coupon(api, promotion_periods=[period])
    assert redeem(api, "FROST1").status == 404
    api.advance("PT2H30M")
    assert redeem(api, "FROST1").status == 200


def test_attribute_conditions_decide_who_may_redeem(api: ContractClient) -> None:
    make_items(api)
    make_coupon(
        api,
        attribute_conditions=[
            {"attribute": "level", "type": "number", "operator": "ge", "value": "10", "can_be_missing": False}
        ],
    )
    low = api.post(api.path(REDEEM), json={"coupon_code": "FROST1"}, headers=api.user("u1", level=3))
    assert (low.status, low.data["errorCode"]) == (422, 9808)
    high = api.post(api.path(REDEEM), json={"coupon_code": "FROST1"}, headers=api.user("u1", level=12))
    assert high.status == 200


# ------------------------------------------------------ rewards and lookups


def make_game(api: ContractClient) -> None:
    price = [{"amount": 29.99, "currency": "USD", "is_default": True, "is_enabled": True}]
    body = {
        "sku": "nordic_saga",
        "name": {"en": "Nordic Saga"},
        "unit_items": [
            {"sku": "nordic_saga_steam", "name": {"en": "Nordic Saga (Steam)"}, "drm_sku": "steam", "prices": price},
            {"sku": "nordic_saga_epic", "name": {"en": "Nordic Saga (Epic)"}, "drm_sku": "epicgames", "prices": price},
        ],
    }
    assert api.post(api.path(GAMES), json=body, headers=api.admin()).status == 201


def test_rewards_by_code_and_selectable_game_keys(api: ContractClient) -> None:
    make_items(api)
    make_game(api)
    make_coupon(api, bonus=[{"sku": "frost_blade", "quantity": 1}, {"sku": "nordic_saga", "quantity": 1}])
    rewards = api.get(api.path(COUPON_REWARDS, code="FROST1"), headers=api.user("u1"))
    assert rewards.status == 200 and rewards.data["is_selectable"] is True
    game = rewards.data["bonus"][1]["item"]
    assert game["type"] == "unit" and [u["sku"] for u in game["unit_items"]] == [
        "nordic_saga_steam",
        "nordic_saga_epic",
    ]
    assert game["unit_items"][0]["name"] == "Nordic Saga (Steam)"
    unchosen = redeem(api, "FROST1")
    assert (unchosen.status, unchosen.data["errorCode"]) == (422, 1102)
    chosen = redeem(api, "FROST1", selected_unit_items={"nordic_saga": "nordic_saga_epic"})
    assert chosen.status == 200
    assert [i["sku"] for i in chosen.data["items"]] == ["frost_blade", "nordic_saga_epic"]
    assert inventory(api, "u1") == {"frost_blade": 1, "nordic_saga_epic": 1}
    unknown = api.get(api.path(COUPON_REWARDS, code="NOSUCH1"), headers=api.user("u1"))
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9802)


def make_promo_code(api: ContractClient, code: str = "SPRING15", **settings: object) -> None:
    body = {
        "external_id": "spring",
        "name": {"en": "Spring"},
        "bonus": [{"sku": "crystals", "quantity": 5}],
        "discounted_items": [{"sku": "frost_blade", "discount": {"percent": "15.00"}}],
        **settings,
    }
    api.post(api.path(PROMO_CODES), json=body, headers=api.admin())
    add_code(api, "promo", "spring", code)
    api.put(api.path(ACTIVATE["promo"], external_id="spring"), headers=api.admin())


def test_promo_code_rewards_by_code(api: ContractClient) -> None:
    make_items(api)
    make_promo_code(api, discount={"percent": "10.00"})
    rewards = api.get(api.path(PROMO_REWARDS, code="SPRING15"), headers=api.user("u1"))
    assert rewards.status == 200
    assert rewards.data["discount"] == {"percent": "10.00"}
    crystals = {"sku": "crystals", "name": "Crystals", "type": "virtual_currency"}
    assert rewards.data["bonus"] == [{"item": crystals, "quantity": 5}]
    assert rewards.data["discounted_items"][0]["sku"] == "frost_blade"
    assert rewards.data["discounted_items"][0]["discount"] == {"percent": "15.00"}
    coupon_code = api.get(api.path(PROMO_REWARDS, code="SPRING16"), headers=api.user("u1"))
    assert coupon_code.status == 404


def test_verify_tells_a_coupon_from_a_promo_code(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, redeem_user_limit=1)
    make_promo_code(api)
    coupon = api.get(api.path(VERIFY, code="FROST1"), headers=api.user("u1"))
    assert coupon.status == 200 and coupon.data["type"] == "coupon" and coupon.data["code"] == "FROST1"
    assert [b["item"]["sku"] for b in coupon.data["rewards"]["bonus"]] == ["frost_blade", "crystals"]
    promo = api.get(api.path(VERIFY, code="SPRING15"), headers=api.user("u1"))
    assert promo.status == 200 and promo.data["type"] == "promocode"
    assert promo.data["rewards"]["discounted_items"][0]["sku"] == "frost_blade"
    assert promo.data["rewards"]["discounted_items"][0]["discount"] == {"percent": "15.00"}
    assert redeem(api, "FROST1").status == 200
    spent = api.get(api.path(VERIFY, code="FROST1"), headers=api.user("u1"))
    assert (spent.status, spent.data["errorCode"]) == (422, 9804)
    assert api.get(api.path(VERIFY, code="FROST1"), headers=api.user("u2")).status == 200
    unknown = api.get(api.path(VERIFY, code="NOSUCH1"), headers=api.user("u1"))
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9811)


def test_verifying_a_unique_offer_code_enters_it(api: ContractClient) -> None:
    make_items(api)
    api.post(
        api.path(OFFERS),
        json={"external_id": "vip", "name": {"en": "VIP"}, "items": ["frost_blade"]},
        headers=api.admin(),
    )
    add_code(api, "offer", "vip", "VIP1")
    inactive = api.get(api.path(VERIFY, code="VIP1"), headers=api.user("u1"))
    assert inactive.status == 404
    api.put(api.path(ACTIVATE["offer"], external_id="vip"), headers=api.admin())
    entered = api.get(api.path(VERIFY, code="VIP1"), headers=api.user("u1"))
    assert entered.status == 200 and entered.data["type"] == "unique_catalog_offer"
    assert api.control("GET", "users/u1")["entered_offers"] == ["vip"]
    assert api.control("GET", "users/u2")["entered_offers"] == []
    catalog = {
        name: [i["sku"] for i in api.get(api.path(CATALOG), headers=api.user(name)).data["items"]]
        for name in ("u1", "u2")
    }
    assert catalog == {"u1": ["frost_blade"], "u2": []}  # the entered code unlocks the offer's items


def test_admin_finds_the_promotion_of_a_code(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, redeem_total_limit=10, redeem_user_limit=1)
    assert redeem(api, "FROST1").status == 200
    found = api.get(api.path(REDEEMABLE, code="FROST1"), headers=api.admin())
    assert found.status == 200 and found.data["external_id"] == "frost" and found.data["is_enabled"] is True
    assert found.data["redeem_user_limit"] == 1
    assert found.data["total_limit_state"] == {"available": 9, "reserved": 0, "used": 1}
    missing = api.get(api.path(REDEEMABLE, code="NOSUCH1"), headers=api.admin())
    assert (missing.status, missing.data["errorCode"]) == (404, 9811)


# -------------------------------------------------------------- concurrency


def test_concurrent_redemptions_of_a_one_per_user_code(live_server, validator) -> None:
    api = ContractClient(validator, base_url=live_server.url, project_id=PROJECT)
    api.reset()
    make_items(api)
    make_coupon(api, redeem_user_limit=1)
    url, headers = live_server.url + api.path(REDEEM), api.user("racer")
    start = threading.Barrier(200)

    def attempt(_: int) -> int:
        start.wait()
        return requests.post(url, json={"coupon_code": "FROST1"}, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(attempt, range(200)))
    assert statuses.count(200) == 1 and statuses.count(422) == 199
    assert inventory(api, "racer") == {"frost_blade": 1, "crystals": 100}
    live_server.raise_errors()
