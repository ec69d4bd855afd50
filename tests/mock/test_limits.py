"""Per-user limits of promotions and items: reading, adding, removing, setting
and resetting what a user has left, and how that governs redemption."""

from __future__ import annotations

from test_codes import COUPON_CODE_LIMIT, make_coupon, make_items, redeem

from xsolla_contract.toolkit.testing import ContractClient

V2, V3 = "/v2/project/{project_id}", "/v3/project/{project_id}"
PROMOTION_LIMIT = V2 + "/admin/user/limit/promotion/id/{promotion_id}"
PROMOTION_RESET = PROMOTION_LIMIT + "/all"
PROMOTION_RESET_ALL = V2 + "/admin/user/limit/promotion/all"
ITEM_LIMIT = V2 + "/admin/user/limit/item/sku/{sku}"
ITEM_RESET = ITEM_LIMIT + "/all"
ITEM_RESET_ALL = V2 + "/admin/user/limit/item/all"
ITEMS = V2 + "/admin/items/virtual_items"
DISCOUNTS = V3 + "/admin/promotion/item"
DAILY = {"per_user": {"interval_type": "daily", "time": "00:00:00+00:00"}}


def user(name: str = "u1", **extra: object) -> dict:
    return {"user": {"user_external_id": name}, **extra}


def coupon_promotion_id(api: ContractClient) -> int:
    return api.get(api.path(COUPON_CODE_LIMIT, external_id="frost"), headers=api.admin()).data["promotion_id"]


def promotion_state(api: ContractClient, promotion_id: int, name: str = "u1") -> dict:
    answer = api.get(
        api.path(PROMOTION_LIMIT, promotion_id=promotion_id), params={"user_external_id": name}, headers=api.admin()
    )
    assert answer.status == 200
    return answer.data["per_user"]


def change(api: ContractClient, method: str, path: str, **body: object):
    return api.call(method, path, json_body=user(**body), headers=api.admin())


# -------------------------------------------------------------- promotions


def test_user_promotion_limit_governs_redemption(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("CODEA", "CODEB", "CODEC", "CODED"), redeem_user_limit=1)
    promotion = api.path(PROMOTION_LIMIT, promotion_id=coupon_promotion_id(api))
    assert redeem(api, "CODEA").status == 200
    assert redeem(api, "CODEB").status == 422
    assert promotion_state(api, coupon_promotion_id(api)) == {"total": 1, "available": 0}

    added = change(api, "POST", promotion, available=1)
    assert added.status == 200 and added.data == {"per_user": {"total": 1, "available": 1}}
    assert redeem(api, "CODEB").status == 200
    assert redeem(api, "CODEC").status == 422

    assert change(api, "PUT", promotion, available=1).data["per_user"]["available"] == 1
    assert change(api, "DELETE", promotion, available=1).data["per_user"]["available"] == 0
    assert redeem(api, "CODEC").status == 422

    reset = api.delete(
        api.path(PROMOTION_RESET, promotion_id=coupon_promotion_id(api)), json=user(), headers=api.admin()
    )
    assert reset.status == 200
    assert promotion_state(api, coupon_promotion_id(api))["available"] == 1
    assert redeem(api, "CODEC").status == 200
    assert api.delete(api.path(PROMOTION_RESET_ALL), json=user(), headers=api.admin()).status == 200
    assert redeem(api, "CODED").status == 200
    assert api.control("GET", "users/u1")["inventory"]["crystals"] == 400


def test_user_promotion_limit_stays_in_range(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, redeem_user_limit=2)
    promotion = api.path(PROMOTION_LIMIT, promotion_id=coupon_promotion_id(api))
    assert redeem(api, "FROST1").status == 200
    too_many = change(api, "POST", promotion, available=2)
    assert (too_many.status, too_many.data["errorCode"]) == (422, 4511)
    too_few = change(api, "DELETE", promotion, available=2)
    assert (too_few.status, too_few.data["errorCode"]) == (422, 4511)
    above = change(api, "PUT", promotion, available=3)
    assert (above.status, above.data["errorCode"]) == (422, 1102)
    assert promotion_state(api, coupon_promotion_id(api)) == {"total": 2, "available": 1}


def test_resetting_a_promotion_for_everyone(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, codes=("CODEA", "CODEB", "CODEC"), redeem_user_limit=1)
    promotion_id = coupon_promotion_id(api)
    assert redeem(api, "CODEA", "u1").status == 200
    assert redeem(api, "CODEB", "u2").status == 200
    assert (
        api.delete(
            api.path(PROMOTION_RESET, promotion_id=promotion_id), json={"user": None}, headers=api.admin()
        ).status
        == 200
    )
    assert promotion_state(api, promotion_id, "u1")["available"] == 1
    assert promotion_state(api, promotion_id, "u2")["available"] == 1


def test_user_promotion_limit_errors(api: ContractClient) -> None:
    make_items(api)
    make_coupon(api, redeem_user_limit=1)
    api.grant("u1", "crystals", 1)
    missing = api.get(
        api.path(PROMOTION_LIMIT, promotion_id=999), params={"user_external_id": "u1"}, headers=api.admin()
    )
    assert (missing.status, missing.data["errorCode"]) == (404, 1101)
    stranger = api.get(
        api.path(PROMOTION_LIMIT, promotion_id=coupon_promotion_id(api)),
        params={"user_external_id": "nobody"},
        headers=api.admin(),
    )
    assert (stranger.status, stranger.data["errorCode"]) == (404, 5008)
    reset_stranger = api.delete(api.path(PROMOTION_RESET_ALL), json=user("nobody"), headers=api.admin())
    assert (reset_stranger.status, reset_stranger.data["errorCode"]) == (404, 5008)
    make_coupon(api, external_id="open", codes=("OPEN1",))
    open_id = api.get(api.path(COUPON_CODE_LIMIT, external_id="open"), headers=api.admin()).data["promotion_id"]
    unlimited = change(api, "POST", api.path(PROMOTION_LIMIT, promotion_id=open_id), available=1)
    assert (unlimited.status, unlimited.data["errorCode"]) == (422, 4509)


def test_discount_promotion_limit_resets_on_schedule(api: ContractClient) -> None:
    make_items(api)
    created = api.post(
        api.path(DISCOUNTS),
        json={
            "name": {"en": "Blade sale"},
            "discount": {"percent": "20.00"},
            "items": [{"sku": "frost_blade"}],
            "limits": {"per_user": 2, "recurrent_schedule": DAILY},
        },
        headers=api.admin(),
    )
    promotion_id = created.data["promotion_id"]
    api.grant("u1", "crystals", 1)
    assert promotion_state(api, promotion_id) == {"total": 2, "available": 2}
    taken = change(api, "DELETE", api.path(PROMOTION_LIMIT, promotion_id=promotion_id), available=2)
    assert taken.data == {"per_user": {"total": 2, "available": 0}}
    api.advance("P1D")
    assert promotion_state(api, promotion_id) == {"total": 2, "available": 2}


# ------------------------------------------------------------------- items


def make_limited_item(api: ContractClient, sku: str = "potion", **limits: object) -> None:
    body = {
        "sku": sku,
        "name": {"en": "Potion"},
        "limits": limits or None,
        "prices": [{"amount": 0.99, "currency": "USD", "is_default": True}],
    }
    assert api.post(api.path(ITEMS), json=body, headers=api.admin()).status == 201


def item_state(api: ContractClient, sku: str = "potion", name: str = "u1") -> dict:
    answer = api.get(api.path(ITEM_LIMIT, sku=sku), params={"user_external_id": name}, headers=api.admin())
    assert answer.status == 200
    return answer.data["per_user"]


def test_item_user_limit_changes_and_recurring_reset(api: ContractClient) -> None:
    make_limited_item(
        api, per_user=3, recurrent_schedule={"per_user": {"interval_type": "daily", "time": "00:00:00+00:00"}}
    )
    api.grant("u1", "potion", 1)
    item = api.path(ITEM_LIMIT, sku="potion")
    assert item_state(api) == {"total": 3, "available": 3}
    assert change(api, "DELETE", item, available=2).data == {"per_user": {"total": 3, "available": 1}}
    assert change(api, "PUT", item, available=0).data["per_user"]["available"] == 0
    assert change(api, "POST", item, available=1).data["per_user"]["available"] == 1
    too_many = change(api, "POST", item, available=5)
    assert (too_many.status, too_many.data["errorCode"]) == (422, 4510)
    too_few = change(api, "DELETE", item, available=5)
    assert (too_few.status, too_few.data["errorCode"]) == (422, 4510)
    assert item_state(api) == {"total": 3, "available": 1}

    api.advance("P1D")  # past the daily reset
    assert item_state(api) == {"total": 3, "available": 3}

    change(api, "DELETE", item, available=1)
    assert api.delete(api.path(ITEM_RESET, sku="potion"), json=user(), headers=api.admin()).status == 200
    assert item_state(api)["available"] == 3
    change(api, "DELETE", item, available=3)
    assert api.delete(api.path(ITEM_RESET_ALL), json=user(), headers=api.admin()).status == 200
    assert item_state(api)["available"] == 3
    change(api, "DELETE", item, available=3)
    everyone = api.delete(api.path(ITEM_RESET, sku="potion"), json={"user": None}, headers=api.admin())
    assert everyone.status == 200
    assert item_state(api)["available"] == 3


def test_item_limit_without_schedule_does_not_reset_by_itself(api: ContractClient) -> None:
    make_limited_item(api, per_user=2)
    api.grant("u1", "potion", 1)
    change(api, "DELETE", api.path(ITEM_LIMIT, sku="potion"), available=2)
    api.advance("P30D")
    assert item_state(api) == {"total": 2, "available": 0}


def test_item_user_limit_errors(api: ContractClient) -> None:
    make_limited_item(api, per_user=2)
    make_limited_item(api, sku="plain")
    api.grant("u1", "potion", 1)
    missing = api.get(api.path(ITEM_LIMIT, sku="nope"), params={"user_external_id": "u1"}, headers=api.admin())
    assert (missing.status, missing.data["errorCode"]) == (404, 4001)
    unlimited = change(api, "POST", api.path(ITEM_LIMIT, sku="plain"), available=1)
    assert (unlimited.status, unlimited.data["errorCode"]) == (422, 4508)
    stranger = api.get(api.path(ITEM_LIMIT, sku="potion"), params={"user_external_id": "nobody"}, headers=api.admin())
    assert (stranger.status, stranger.data["errorCode"]) == (404, 5008)
    reset_stranger = api.delete(api.path(ITEM_RESET_ALL), json=user("nobody"), headers=api.admin())
    assert (reset_stranger.status, reset_stranger.data["errorCode"]) == (404, 5008)
