"""Carts through HTTP: fills, line changes, the cart view with discounts, bonus
items and promo codes, ownership, guest mode and the server-side fill."""

from __future__ import annotations

from xsolla_contract.toolkit.testing import ContractClient

P2, P3 = "/v2/project/{project_id}", "/v3/project/{project_id}"
ITEMS = P2 + "/admin/items/virtual_items"
GROUPS = P2 + "/admin/items/groups"
GAMES = P2 + "/admin/items/game"
VALUE_POINTS = P2 + "/admin/items/value_points"
CART = P2 + "/cart"
CART_ID = P2 + "/cart/{cart_id}"
FILL = P2 + "/cart/fill"
FILL_ID = P2 + "/cart/{cart_id}/fill"
ITEM = P2 + "/cart/item/{sku}"
ITEM_ID = P2 + "/cart/{cart_id}/item/{sku}"
CLEAR = P2 + "/cart/clear"
ADMIN_FILL = "/v2/admin/project/{project_id}/cart/fill"
ADMIN_FILL_ID = "/v2/admin/project/{project_id}/cart/{cart_id}/fill"
DISCOUNTS = P3 + "/admin/promotion/item"
BONUSES = P3 + "/admin/promotion/bonus"
ACTIVATE = P2 + "/admin/promotion/{promotion_id}/activate"
PROMO_CODES = P3 + "/admin/promocode"
PROMO_CODE_CODES = P2 + "/admin/promocode/{external_id}/code"
PROMO_CODE_ON = P2 + "/admin/promocode/{external_id}/activate"
REDEEM = P2 + "/promocode/redeem"
REMOVE = P2 + "/promocode/remove"
PAY_CART = P2 + "/payment/cart"
ORDER = P2 + "/order/{order_id}"


def item(api: ContractClient, sku: str, price: float | None = 9.99, **extra: object) -> None:
    body = {"sku": sku, "name": {"en": sku.replace("_", " ").title()}, **extra}
    if price is not None:
        body["prices"] = [{"amount": price, "currency": "USD", "is_default": True}]
    assert api.post(api.path(ITEMS), json=body, headers=api.admin()).status == 201


def game(api: ContractClient, sku: str = "starfall", key: str = "starfall_steam") -> None:
    body = {
        "sku": sku,
        "name": {"en": "Starfall"},
        "unit_items": [
            {
                "sku": key,
                "name": {"en": "Starfall (Steam)"},
                "drm_sku": "steam",
                "prices": [{"amount": 29.99, "currency": "USD", "is_default": True, "is_enabled": True}],
            }
        ],
    }
    assert api.post(api.path(GAMES), json=body, headers=api.admin()).status == 201


def shop(api: ContractClient) -> None:
    """A group of weapons with a sword, a potion and a helm."""
    group = {"external_id": "weapons", "name": {"en": "Weapons"}}
    assert api.post(api.path(GROUPS), json=group, headers=api.admin()).status == 201
    item(api, "sword", 10.00, groups=["weapons"])
    item(api, "potion", 2.00)
    item(api, "helm", 5.00)


def discount(api: ContractClient, sku: str, percent: str) -> int:
    body = {"name": {"en": "Forge week"}, "discount": {"percent": percent}, "items": [{"sku": sku}]}
    created = api.post(api.path(DISCOUNTS), json=body, headers=api.admin())
    assert created.status == 201
    pid = created.data["promotion_id"]
    assert api.put(api.path(ACTIVATE, promotion_id=pid), headers=api.admin()).status == 204
    return pid


def bonus(api: ContractClient, condition: str, gift: str) -> int:
    body = {"name": {"en": "Sword bonus"}, "condition": [{"sku": condition}], "bonus": [{"sku": gift, "quantity": 2}]}
    created = api.post(api.path(BONUSES), json=body, headers=api.admin())
    assert created.status == 201
    pid = created.data["promotion_id"]
    assert api.put(api.path(ACTIVATE, promotion_id=pid), headers=api.admin()).status == 204
    return pid


def promo_code(api: ContractClient, code: str = "FORGE10", external_id: str = "forge", **settings: object) -> None:
    body = {"external_id": external_id, "name": {"en": "Forge code"}, **settings}
    assert api.post(api.path(PROMO_CODES), json=body, headers=api.admin()).status == 201
    added = api.post(
        api.path(PROMO_CODE_CODES, external_id=external_id), json={"coupon_code": code}, headers=api.admin()
    )
    assert added.status == 201
    assert api.put(api.path(PROMO_CODE_ON, external_id=external_id), headers=api.admin()).status == 204


def fill(api: ContractClient, headers: dict, *lines: tuple[str, int], cart_id: str | None = None):
    path = api.path(FILL_ID, cart_id=cart_id) if cart_id else api.path(FILL)
    return api.put(path, json={"items": [{"sku": s, "quantity": q} for s, q in lines]}, headers=headers)


def lines(cart: dict) -> dict[str, tuple[int, str | None, bool]]:
    """sku -> (quantity, unit price after discounts, is_bonus)."""
    return {i["sku"]: (i["quantity"], (i.get("price") or {}).get("amount"), i["is_bonus"]) for i in cart["items"]}


def test_current_cart_is_opened_empty_and_kept(api: ContractClient) -> None:
    first = api.get(api.path(CART), headers=api.user("u1"))
    assert first.status == 200 and first.data["items"] == [] and first.data["price"] is None
    again = api.get(api.path(CART), headers=api.user("u1"))
    assert again.data["cart_id"] == first.data["cart_id"]
    other = api.get(api.path(CART), headers=api.user("u2"))
    assert other.data["cart_id"] != first.data["cart_id"]


def test_fill_change_and_remove_lines(api: ContractClient) -> None:
    shop(api)
    filled = fill(api, api.user("u1"), ("sword", 1), ("potion", 2), ("retired_helm", 1))
    assert filled.status == 200
    assert lines(filled.data) == {"sword": (1, "10.00", False), "potion": (2, "2.00", False)}
    assert filled.data["price"] == {"amount": "14.00", "amount_without_discount": "14.00", "currency": "USD"}
    assert filled.data["warnings"] == [
        {
            "sku": "retired_helm",
            "quantity": 1,
            "errorCode": 4001,
            "errorMessage": "[0401-4001]: Item with sku = 'retired_helm' not found",
        }
    ]
    sword = next(i for i in filled.data["items"] if i["sku"] == "sword")
    assert sword["groups"][0]["external_id"] == "weapons" and sword["name"] == "Sword"

    assert api.put(api.path(ITEM, sku="potion"), json={"quantity": 5}, headers=api.user("u1")).status == 204
    assert api.put(api.path(ITEM, sku="helm"), json={"quantity": 1}, headers=api.user("u1")).status == 204
    assert api.delete(api.path(ITEM, sku="sword"), headers=api.user("u1")).status == 204
    cart = api.get(api.path(CART), headers=api.user("u1")).data
    assert lines(cart) == {"potion": (5, "2.00", False), "helm": (1, "5.00", False)}
    assert cart["price"]["amount"] == "15.00"

    assert api.put(api.path(ITEM, sku="helm"), json={"quantity": 0}, headers=api.user("u1")).status == 204
    refill = fill(api, api.user("u1"), ("sword", 3))
    assert lines(refill.data) == {"sword": (3, "10.00", False)}  # a fill replaces the content
    assert api.put(api.path(CLEAR), headers=api.user("u1")).status == 204
    assert api.get(api.path(CART), headers=api.user("u1")).data["items"] == []


def test_line_errors(api: ContractClient) -> None:
    shop(api)
    game(api)
    vp = {"sku": "season_points", "name": {"en": "Season points"}}
    assert api.post(api.path(VALUE_POINTS), json=vp, headers=api.admin()).status == 201
    unknown = api.put(api.path(ITEM, sku="nothing"), json={"quantity": 1}, headers=api.user("u1"))
    assert (unknown.status, unknown.data["errorCode"]) == (404, 4001)
    for sku in ("starfall", "season_points"):  # a game sells through its keys; value points are earned
        refused = api.put(api.path(ITEM, sku=sku), json={"quantity": 1}, headers=api.user("u1"))
        assert (refused.status, refused.data["errorCode"]) == (422, 1421)
    bad = api.put(api.path(ITEM, sku="sword"), json={"quantity": -1}, headers=api.user("u1"))
    assert (bad.status, bad.data["errorCode"]) == (422, 1102)
    gone = api.delete(api.path(ITEM, sku="nothing"), headers=api.user("u1"))
    assert (gone.status, gone.data["errorCode"]) == (404, 4001)
    assert api.get(api.path(CART), headers=api.user("u1")).data["items"] == []


def test_discount_and_bonus_promotions_show_in_the_cart(api: ContractClient) -> None:
    shop(api)
    discount(api, "sword", "20.00")
    bonus(api, "sword", "potion")
    cart = fill(api, api.user("u1"), ("sword", 2), ("helm", 1)).data
    assert lines(cart) == {"sword": (2, "8.00", False), "helm": (1, "5.00", False), "potion": (2, None, True)}
    assert cart["price"] == {"amount": "21.00", "amount_without_discount": "25.00", "currency": "USD"}
    sword = next(i for i in cart["items"] if i["sku"] == "sword")
    assert sword["price"]["amount_without_discount"] == "10.00"
    assert {"name": "Forge week", "percent": "20.00"} in [
        {"name": p["name"], "percent": (p["discount"] or {}).get("percent")} for p in sword["promotions"]
    ]
    gift = next(i for i in cart["items"] if i["is_bonus"])
    assert gift["is_free"] is True and gift["price"] is None
    assert [p["name"] for p in cart["promotions"]] == ["Sword bonus"]
    assert cart["promotions"][0]["bonus"][0]["sku"] == "potion"
    # without the condition item there is no bonus
    assert api.delete(api.path(ITEM, sku="sword"), headers=api.user("u1")).status == 204
    cart = api.get(api.path(CART), headers=api.user("u1")).data
    assert lines(cart) == {"helm": (1, "5.00", False)} and cart["promotions"] == []


def test_a_bonus_entry_without_a_sku_gives_nothing(api: ContractClient) -> None:
    shop(api)
    body = {"name": {"en": "Odd bonus"}, "condition": [{"sku": "sword"}], "bonus": [{"quantity": 1}, {"sku": "potion"}]}
    created = api.post(api.path(BONUSES), json=body, headers=api.admin())
    assert created.status == 201
    activated = api.put(api.path(ACTIVATE, promotion_id=created.data["promotion_id"]), headers=api.admin())
    assert activated.status == 204
    cart = fill(api, api.user("u1"), ("sword", 1))
    assert cart.status == 200
    assert lines(cart.data) == {"sword": (1, "10.00", False), "potion": (1, None, True)}


def test_promo_code_applies_and_comes_off(api: ContractClient) -> None:
    shop(api)
    promo_code(
        api,
        discounted_items=[{"sku": "sword", "discount": {"percent": "25.00"}}],
        discount={"percent": "10.00"},
        bonus=[{"sku": "potion", "quantity": 1}],
    )
    fill(api, api.user("u1"), ("sword", 1), ("helm", 2))
    redeemed = api.post(
        api.path(REDEEM), json={"coupon_code": "FORGE10", "cart": {"id": "current"}}, headers=api.user("u1")
    )
    assert redeemed.status == 200
    # the sword's own 25 % beats the cart-wide 10 %, which the helm gets
    assert lines(redeemed.data) == {"sword": (1, "7.50", False), "helm": (2, "4.50", False), "potion": (1, None, True)}
    assert redeemed.data["price"] == {"amount": "16.50", "amount_without_discount": "20.00", "currency": "USD"}
    assert redeemed.data["rewards"]["discount"] == {"percent": "10.00"}
    assert redeemed.data["rewards"]["bonus"][0]["item"]["sku"] == "potion"
    shown = api.get(api.path(CART_ID, cart_id=redeemed.data["cart_id"]), headers=api.user("u1")).data
    assert lines(shown) == lines(redeemed.data) and shown["promotions"][0]["name"] == "Forge code"

    removed = api.put(api.path(REMOVE), json={"cart": {"id": redeemed.data["cart_id"]}}, headers=api.user("u1"))
    assert removed.status == 200
    assert lines(removed.data) == {"sword": (1, "10.00", False), "helm": (2, "5.00", False)}
    assert removed.data["price"]["amount"] == "20.00"


def test_promo_code_refusals(api: ContractClient) -> None:
    shop(api)
    promo_code(api, bonus=[{"sku": "potion", "quantity": 1}], date_end="2020-01-01T00:00:00+00:00")
    promo_code(api, "IDLE1", "idle", bonus=[{"sku": "potion", "quantity": 1}])
    assert (
        api.put(
            api.path(P2 + "/admin/promocode/{external_id}/deactivate", external_id="idle"), headers=api.admin()
        ).status
        == 204
    )
    fill(api, api.user("u1"), ("sword", 1))
    for code in ("NOPE", "IDLE1"):
        refused = api.post(api.path(REDEEM), json={"coupon_code": code}, headers=api.user("u1"))
        assert (refused.status, refused.data["errorCode"]) == (422, 9802), code
    expired = api.post(api.path(REDEEM), json={"coupon_code": "FORGE10"}, headers=api.user("u1"))
    # the call documents no errorCode of its own for an expired code
    assert expired.status == 422 and expired.data["errorCode"] in (9810, 9802)
    cart = api.get(api.path(CART), headers=api.user("u1")).data
    assert lines(cart) == {"sword": (1, "10.00", False)}  # nothing was applied


def test_a_cart_belongs_to_one_user(api: ContractClient) -> None:
    shop(api)
    mine = fill(api, api.user("u1"), ("sword", 1), cart_id="checkout_7")
    assert mine.status == 200 and mine.data["cart_id"] == "checkout_7"
    line = api.path(ITEM_ID, cart_id="checkout_7", sku="potion")
    for call in (
        lambda h: api.get(api.path(CART_ID, cart_id="checkout_7"), headers=h),
        lambda h: fill(api, h, ("potion", 1), cart_id="checkout_7"),
        lambda h: api.put(line, json={"quantity": 1}, headers=h),
        lambda h: api.post(api.path(PAY_CART + "/{cart_id}", cart_id="checkout_7"), headers=h),
    ):
        refused = call(api.user("u2"))
        assert (refused.status, refused.data["errorCode"]) == (422, 1401)
    assert lines(api.get(api.path(CART_ID, cart_id="checkout_7"), headers=api.user("u1")).data) == {
        "sword": (1, "10.00", False)
    }
    assert api.put(line, json={"quantity": 2}, headers=api.user("u1")).status == 204
    sword = api.path(ITEM_ID, cart_id="checkout_7", sku="sword")
    assert api.delete(sword, headers=api.user("u1")).status == 204
    assert lines(api.get(api.path(CART_ID, cart_id="checkout_7"), headers=api.user("u1")).data) == {
        "potion": (2, "2.00", False)
    }


def test_guest_buys_game_keys_only(api: ContractClient) -> None:
    shop(api)
    game(api)
    guest = api.guest("buyer@example.com")
    filled = fill(api, guest, ("starfall_steam", 1), ("sword", 1))
    assert lines(filled.data) == {"starfall_steam": (1, "29.99", False)}
    assert [(w["sku"], w["errorCode"]) for w in filled.data["warnings"]] == [("sword", 1421)]
    refused = api.put(api.path(ITEM, sku="sword"), json={"quantity": 1}, headers=guest)
    assert (refused.status, refused.data["errorCode"]) == (422, 1421)
    order = api.post(api.path(PAY_CART), json={"sandbox": True}, headers=guest)
    assert order.status == 200 and order.data["token"]
    api.set_order_status(order.data["order_id"], "done")
    seen = api.get(api.path(ORDER, order_id=order.data["order_id"]), headers=guest)
    assert seen.data["status"] == "done" and seen.data["content"]["items"][0]["sku"] == "starfall_steam"
    assert api.control("GET", "users/guest:buyer@example.com")["inventory"] == {"starfall_steam": 1}
    other_guest = api.get(api.path(ORDER, order_id=order.data["order_id"]), headers=api.guest("x@example.com"))
    assert (other_guest.status, other_guest.data["errorCode"]) == (404, 9001)


def test_server_side_fill(api: ContractClient) -> None:
    shop(api)
    game(api)
    discount(api, "sword", "50.00")
    body = {
        "country": "US",
        "currency": "USD",
        "items": [{"sku": "sword", "quantity": 1}, {"sku": "ghost", "quantity": 1}],
    }
    filled = api.put(api.path(ADMIN_FILL), json=body, headers={**api.admin(), "x-user-for": api.token("u1")})
    assert filled.status == 200
    assert lines(filled.data) == {"sword": (1, "5.00", False)}
    assert [w["errorCode"] for w in filled.data["warnings"]] == [4001]
    assert api.get(api.path(CART), headers=api.user("u1")).data["cart_id"] == filled.data["cart_id"]

    srv = api.path(ADMIN_FILL_ID, cart_id="srv_1")
    keys = {"items": [{"sku": "starfall_steam", "quantity": 1}]}
    by_id = api.put(srv, json=keys, headers={**api.admin(), "x-user-id": "player-7"})
    assert by_id.status == 200 and by_id.data["cart_id"] == "srv_1"
    keys_only = api.put(
        srv, json={"items": [{"sku": "sword", "quantity": 1}]}, headers={**api.admin(), "x-user-id": "player-7"}
    )
    assert (keys_only.status, keys_only.data["errorCode"]) == (422, 1401)
    taken = api.put(srv, json=keys, headers={**api.admin(), "x-user-id": "player-8"})
    assert (taken.status, taken.data["errorCode"]) == (422, 1401)
    nobody = api.put(api.path(ADMIN_FILL), json=body, headers=api.admin())
    assert (nobody.status, nobody.data["errorCode"]) == (422, 1102)
    unknown_token = api.put(api.path(ADMIN_FILL), json=body, headers={**api.admin(), "x-user-for": "not-a-token"})
    assert (unknown_token.status, unknown_token.data["errorCode"]) == (401, 1013)
    summary = api.control("GET", "users/player-7")["carts"]
    assert summary == [{"cart_id": "srv_1", "current": False, "items": keys["items"], "promo_code": None}]
