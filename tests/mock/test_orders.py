"""Orders through HTTP: the purchase flow from cart to delivery, free orders,
virtual-currency purchases, limits, server-side tokens and the order search."""

from __future__ import annotations

from xsolla_contract.toolkit.testing import ContractClient

P2, P3 = "/v2/project/{project_id}", "/v3/project/{project_id}"
ITEMS = P2 + "/admin/items/virtual_items"
CURRENCIES = P2 + "/admin/items/virtual_currency"
GROUPS = P2 + "/admin/items/groups"
CATALOG_GROUP = P2 + "/items/virtual_items/group/{external_id}"
CATALOG_ITEM = P2 + "/items/virtual_items/sku/{sku}"
CART = P2 + "/cart"
FILL = P2 + "/cart/fill"
ITEM = P2 + "/cart/item/{sku}"
DISCOUNTS = P3 + "/admin/promotion/item"
ACTIVATE = P2 + "/admin/promotion/{promotion_id}/activate"
PROMO_CODES = P3 + "/admin/promocode"
PROMO_CODE_CODES = P2 + "/admin/promocode/{external_id}/code"
PROMO_CODE_ON = P2 + "/admin/promocode/{external_id}/activate"
CODE_LIMITS = P2 + "/admin/code/limit/promocode/external_id/{external_id}"
REDEEM = P2 + "/promocode/redeem"
REMOVE = P2 + "/promocode/remove"
PAY_CART = P2 + "/payment/cart"
PAY_ITEM = P2 + "/payment/item/{sku}"
PAY_VC = P2 + "/payment/item/{sku}/virtual/{currency}"
FREE_CART = P2 + "/free/cart"
FREE_ITEM = P2 + "/free/item/{sku}"
ORDER = P2 + "/order/{order_id}"
TOKEN = P3 + "/admin/payment/token"
SEARCH = P3 + "/admin/order/search"


def item(api: ContractClient, sku: str, price: float | None = 10.00, **extra: object) -> None:
    body = {"sku": sku, "name": {"en": sku.replace("_", " ").title()}, **extra}
    if price is not None:
        body["prices"] = [{"amount": price, "currency": "USD", "is_default": True}]
    assert api.post(api.path(ITEMS), json=body, headers=api.admin()).status == 201


def lines(data: dict) -> dict[str, tuple[int, str | None, bool]]:
    return {
        i["sku"]: (i["quantity"], (i.get("price") or {}).get("amount"), i.get("is_bonus", False)) for i in data["items"]
    }


def fill(api: ContractClient, headers: dict, *lines: tuple[str, int]):
    body = {"items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}
    return api.put(api.path(FILL), json=body, headers=headers)


def order(api: ContractClient, order_id: int, user: str = "u1") -> dict:
    answer = api.get(api.path(ORDER, order_id=order_id), headers=api.user(user))
    assert answer.status == 200
    return answer.data


def inventory(api: ContractClient, user: str = "u1") -> dict:
    return api.control("GET", f"users/{user}")["inventory"]


def test_purchase_flow_from_cart_to_delivery(api: ContractClient) -> None:
    group = {"external_id": "weapons", "name": {"en": "Weapons"}}
    assert api.post(api.path(GROUPS), json=group, headers=api.admin()).status == 201
    item(api, "sword", 10.00, groups=["weapons"])
    item(api, "potion", 2.00)
    item(api, "helm", 5.00)
    user = api.user("u1")
    in_group = api.get(api.path(CATALOG_GROUP, external_id="weapons"), headers=user).data["items"]
    assert [(i["sku"], i["price"]["amount"]) for i in in_group] == [("sword", "10.00")]  # the catalog shows it
    promo = {"name": {"en": "Forge week"}, "discount": {"percent": "20.00"}, "items": [{"sku": "sword"}]}
    discount_id = api.post(api.path(DISCOUNTS), json=promo, headers=api.admin()).data["promotion_id"]
    assert api.put(api.path(ACTIVATE, promotion_id=discount_id), headers=api.admin()).status == 204
    sword = api.get(api.path(CATALOG_ITEM, sku="sword"), headers=user).data
    assert sword["price"] == {"amount": "8.00", "amount_without_discount": "10.00", "currency": "USD"}
    assert [p["discount"]["percent"] for p in sword["promotions"]] == ["20.00"]  # and the discount
    code = {
        "external_id": "forge",
        "name": {"en": "Forge code"},
        "redeem_user_limit": 1,
        "discounted_items": [{"sku": "helm", "discount": {"percent": "50.00"}}],
        "bonus": [{"sku": "potion", "quantity": 3}],
    }
    assert api.post(api.path(PROMO_CODES), json=code, headers=api.admin()).status == 201
    assert (
        api.post(
            api.path(PROMO_CODE_CODES, external_id="forge"), json={"coupon_code": "FORGE50"}, headers=api.admin()
        ).status
        == 201
    )
    assert api.put(api.path(PROMO_CODE_ON, external_id="forge"), headers=api.admin()).status == 204

    assert fill(api, user, ("sword", 1), ("potion", 1)).status == 200
    assert api.put(api.path(ITEM, sku="helm"), json={"quantity": 2}, headers=user).status == 204
    assert api.delete(api.path(ITEM, sku="potion"), headers=user).status == 204
    cart = api.get(api.path(CART), headers=user).data
    assert lines(cart) == {"sword": (1, "8.00", False), "helm": (2, "5.00", False)}  # the discount shows

    redeemed = api.post(api.path(REDEEM), json={"coupon_code": "FORGE50"}, headers=user)
    assert redeemed.status == 200
    assert lines(redeemed.data) == {"sword": (1, "8.00", False), "helm": (2, "2.50", False), "potion": (3, None, True)}
    removed = api.put(api.path(REMOVE), json={"cart": {"id": "current"}}, headers=user)
    assert lines(removed.data) == {"sword": (1, "8.00", False), "helm": (2, "5.00", False)}
    assert api.post(api.path(REDEEM), json={"coupon_code": "FORGE50"}, headers=user).status == 200

    options = {"sandbox": True, "custom_parameters": {"hero": "aria"}}
    created = api.post(api.path(PAY_CART), json=options, headers=user)
    assert created.status == 200 and len(created.data["token"]) == 32
    order_id = created.data["order_id"]
    assert api.get(api.path(CART), headers=user).data["items"] == []  # the cart was spent
    new = order(api, order_id)
    assert new["status"] == "new"
    assert new["content"]["price"] == {"amount": "13.00", "amount_without_discount": "20.00", "currency": "USD"}
    assert lines(new["content"]) == {
        "sword": (1, "8.00", False),
        "helm": (2, "2.50", False),
        "potion": (3, "0.00", False),
    }
    assert inventory(api) == {}
    # the code is counted only once the order is paid
    assert api.post(api.path(REDEEM), json={"coupon_code": "FORGE50"}, headers=user).status == 200

    api.set_order_status(order_id, "paid")
    assert order(api, order_id)["status"] == "paid"
    assert inventory(api) == {"sword": 1, "helm": 2, "potion": 3}
    api.set_order_status(order_id, "done")
    assert order(api, order_id)["status"] == "done" and inventory(api) == {"sword": 1, "helm": 2, "potion": 3}
    used = api.get(api.path(CODE_LIMITS, external_id="forge"), headers=api.admin())
    assert used.data["items"][0]["code"] == "FORGE50"
    assert used.data["items"][0]["per_code"]["used"] == 1
    # redeem_user_limit 1 is used up now: the code applied to the new cart no longer gives anything
    cart = fill(api, user, ("helm", 1)).data
    assert lines(cart) == {"helm": (1, "5.00", False)}
    again = api.post(api.path(REDEEM), json={"coupon_code": "FORGE50"}, headers=user)
    assert again.status == 422

    found = api.post(api.path(SEARCH), json={"limit": 10}, headers=api.admin())
    assert found.status == 200 and found.data["total_items_count"] == 1
    listed = found.data["orders"][0]
    assert (listed["order_id"], listed["status"], listed["mode"]) == (order_id, "done", "sandbox")
    assert listed["user"]["id"] == "u1" and listed["price"]["amount"] == "13.00"
    assert {p["promotion_id"] for p in listed["promotions"]} >= {discount_id}
    assert listed["coupons"][0]["code"] == "FORGE50"
    assert [(i["sku"], i["is_bonus"]) for i in listed["items"]] == [("sword", False), ("helm", False), ("potion", True)]
    assert listed["invoice_id"]


def test_cart_orders_need_a_buyable_cart(api: ContractClient) -> None:
    item(api, "sword")
    item(api, "gift", None, is_free=True)
    empty = api.post(api.path(PAY_CART), headers=api.user("u1"))
    assert (empty.status, empty.data["errorCode"]) == (422, 1401)
    fill(api, api.user("u1"), ("gift", 1))
    free_as_paid = api.post(api.path(PAY_CART), headers=api.user("u1"))
    assert (free_as_paid.status, free_as_paid.data["errorCode"]) == (422, 1401)
    free = api.post(api.path(FREE_CART), headers=api.user("u1"))
    assert free.status == 200 and order(api, free.data["order_id"])["status"] == "done"
    assert inventory(api) == {"gift": 1}
    fill(api, api.user("u1"), ("sword", 1))
    paid_as_free = api.post(api.path(FREE_CART), headers=api.user("u1"))
    assert (paid_as_free.status, paid_as_free.data["errorCode"]) == (422, 1401)
    missing = api.post(api.path(P2 + "/payment/cart/{cart_id}", cart_id="never_used"), headers=api.user("u1"))
    assert (missing.status, missing.data["errorCode"]) == (422, 1401)


def test_free_item_order_is_done_at_once(api: ContractClient) -> None:
    item(api, "daily_gift", None, is_free=True)
    item(api, "sword")
    created = api.post(api.path(FREE_ITEM, sku="daily_gift"), json={"quantity": 2}, headers=api.user("u1"))
    assert created.status == 200
    seen = order(api, created.data["order_id"])
    assert seen["status"] == "done" and seen["content"]["is_free"] is True
    assert inventory(api) == {"daily_gift": 2}
    paid = api.post(api.path(FREE_ITEM, sku="sword"), headers=api.user("u1"))
    assert (paid.status, paid.data["errorCode"]) == (422, 1411)
    unknown = api.post(api.path(FREE_ITEM, sku="ghost"), headers=api.user("u1"))
    assert (unknown.status, unknown.data["errorCode"]) == (404, 4001)
    assert inventory(api) == {"daily_gift": 2}


def test_virtual_currency_purchase_charges_the_balance(api: ContractClient) -> None:
    gold = {"sku": "gold", "name": {"en": "Gold"}, "prices": [{"amount": 0.99, "currency": "USD", "is_default": True}]}
    assert api.post(api.path(CURRENCIES), json=gold, headers=api.admin()).status == 201
    item(api, "axe", None, vc_prices=[{"sku": "gold", "amount": 100, "is_default": True, "is_enabled": True}])
    promo = {"name": {"en": "Axe days"}, "discount": {"percent": "10.00"}, "items": [{"sku": "axe"}]}
    pid = api.post(api.path(DISCOUNTS), json=promo, headers=api.admin()).data["promotion_id"]
    assert api.put(api.path(ACTIVATE, promotion_id=pid), headers=api.admin()).status == 204
    api.grant("u1", "gold", 150)
    bought = api.post(api.path(PAY_VC, sku="axe", currency="gold"), headers=api.user("u1"))
    assert bought.status == 200
    seen = order(api, bought.data["order_id"])
    assert seen["status"] == "done"
    assert seen["content"]["virtual_price"] == {"amount": "90", "amount_without_discount": "100", "currency": "gold"}
    assert inventory(api) == {"gold": 60, "axe": 1}
    poor = api.post(api.path(PAY_VC, sku="axe", currency="gold"), headers=api.user("u1"))
    assert (poor.status, poor.data["errorCode"]) == (422, 5006)
    assert inventory(api) == {"gold": 60, "axe": 1}
    no_currency = api.post(api.path(PAY_VC, sku="axe", currency="silver"), headers=api.user("u1"))
    assert (no_currency.status, no_currency.data["errorCode"]) == (404, 4001)


def test_per_user_limit_blocks_a_second_order(api: ContractClient) -> None:
    item(api, "starter_pack", 4.99, limits={"per_user": 1})
    first = api.post(api.path(PAY_ITEM, sku="starter_pack"), headers=api.user("u1"))
    assert first.status == 200
    api.set_order_status(first.data["order_id"], "paid")
    second = api.post(api.path(PAY_ITEM, sku="starter_pack"), headers=api.user("u1"))
    assert (second.status, second.data["errorCode"]) == (422, 1411)
    cart = fill(api, api.user("u1"), ("starter_pack", 1))
    assert cart.data["items"][0]["can_be_bought"] is False
    by_cart = api.post(api.path(PAY_CART), headers=api.user("u1"))
    assert (by_cart.status, by_cart.data["errorCode"]) == (422, 1401)
    other = api.post(api.path(PAY_ITEM, sku="starter_pack"), json={"quantity": 1}, headers=api.user("u2"))
    assert other.status == 200  # the limit is per user
    too_many = api.post(api.path(PAY_ITEM, sku="starter_pack"), json={"quantity": 2}, headers=api.user("u3"))
    assert (too_many.status, too_many.data["errorCode"]) == (422, 1411)


def test_fast_purchase_reads_but_never_applies_a_promo_code(api: ContractClient) -> None:
    item(api, "sword", 10.00)
    code = {
        "external_id": "forge",
        "name": {"en": "Forge"},
        "discounted_items": [{"sku": "sword", "discount": {"percent": "50.00"}}],
    }
    assert api.post(api.path(PROMO_CODES), json=code, headers=api.admin()).status == 201
    assert (
        api.post(
            api.path(PROMO_CODE_CODES, external_id="forge"), json={"coupon_code": "HALF"}, headers=api.admin()
        ).status
        == 201
    )
    assert api.put(api.path(PROMO_CODE_ON, external_id="forge"), headers=api.admin()).status == 204
    unknown = api.post(api.path(PAY_ITEM, sku="sword"), json={"promo_code": "NOPE"}, headers=api.user("u1"))
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9802)
    created = api.post(
        api.path(PAY_ITEM, sku="sword"), json={"promo_code": "HALF", "quantity": 2}, headers=api.user("u1")
    )
    assert created.status == 200
    assert order(api, created.data["order_id"])["content"]["price"]["amount"] == "20.00"
    missing = api.post(api.path(PAY_ITEM, sku="ghost"), headers=api.user("u1"))
    assert (missing.status, missing.data["errorCode"]) == (404, 4001)


def test_orders_are_read_by_their_buyer_only(api: ContractClient) -> None:
    item(api, "sword")
    created = api.post(api.path(PAY_ITEM, sku="sword"), headers=api.user("u1"))
    for user, order_id in (("u2", created.data["order_id"]), ("u1", created.data["order_id"] + 100)):
        refused = api.get(api.path(ORDER, order_id=order_id), headers=api.user(user))
        assert (refused.status, refused.data["errorCode"]) == (404, 9001)


def test_server_side_payment_token_and_search(api: ContractClient) -> None:
    item(api, "gems_500", 4.99)
    item(api, "gift", None, is_free=True)
    body = {
        "sandbox": False,
        "user": {"id": {"value": "player-7"}, "email": {"value": "aria@example.com"}, "country": {"value": "US"}},
        "purchase": {"items": [{"sku": "gems_500", "quantity": 2}]},
        "settings": {"currency": "USD"},
    }
    created = api.post(api.path(TOKEN), json=body, headers=api.admin())
    assert created.status == 201 and created.data["token"]
    no_country = {**body, "user": {"id": {"value": "player-7"}}}
    refused = api.post(api.path(TOKEN), json=no_country, headers=api.admin())
    assert (refused.status, refused.data["errorCode"]) == (422, 1102)
    with_ip = api.post(api.path(TOKEN), json=no_country, headers={**api.admin(), "X-User-Ip": "203.0.113.42"})
    assert with_ip.status == 201
    free = api.post(
        api.path(TOKEN), json={**body, "purchase": {"items": [{"sku": "gift", "quantity": 1}]}}, headers=api.admin()
    )
    assert (free.status, free.data["errorCode"]) == (422, 1421)
    ghost = {**body, "purchase": {"items": [{"sku": "ghost", "quantity": 1}]}}
    unknown = api.post(api.path(TOKEN), json=ghost, headers=api.admin())
    assert (unknown.status, unknown.data["errorCode"]) == (422, 1401)

    api.set_order_status(created.data["order_id"], "done")
    assert inventory(api, "player-7") == {"gems_500": 2}
    page = api.post(api.path(SEARCH), json={"limit": 1}, headers=api.admin()).data
    assert page["has_more"] is True and page["total_items_count"] == 2
    first = page["orders"][0]
    assert first["order_id"] == created.data["order_id"] and first["status"] == "done"
    assert first["user"] == {"id": "player-7", "country": "US", "email": "aria@example.com", "region_id": None}
    assert first["price"] == {
        "amount": "9.98",
        "amount_without_discount": "9.98",
        "currency": "USD",
        "is_virtual_currency": False,
    }
    rest = api.post(api.path(SEARCH), json={"limit": 10, "offset": 1}, headers=api.admin()).data
    assert [o["order_id"] for o in rest["orders"]] == [with_ip.data["order_id"]] and rest["has_more"] is False
    later = {"created_date_from": "2999-01-01T00:00:00+00:00"}
    future = api.post(api.path(SEARCH), json=later, headers=api.admin())
    assert future.data["orders"] == [] and future.data["total_items_count"] == 0


def test_a_game_in_an_order_is_shown_as_a_key(app_api: ContractClient, mock_app) -> None:
    """Rewards (chain steps, bonuses) can put a game in an order: answers show it as a game key."""
    from xsolla_contract.mocks import engine_of
    from xsolla_contract.mocks.hooks.orders import order_line
    from xsolla_contract.mocks.rules import orders

    key = {"sku": "starfall_steam", "drm_sku": "steam"}
    key["prices"] = [{"amount": 20, "currency": "USD", "is_default": True, "is_enabled": True}]
    game = {"sku": "starfall", "name": {"en": "Starfall"}, "unit_items": [key]}
    assert app_api.post(app_api.path(P2 + "/admin/items/game"), json=game, headers=app_api.admin()).status == 201

    def reward(ctx) -> None:
        line = order_line(ctx, "starfall", 1, None, True)
        orders.create(ctx, [line], mode="free", user="u1", status="done", source={})

    engine_of(mock_app).run(app_api.project_id, reward)
    found = app_api.post(app_api.path(SEARCH), json={}, headers=app_api.admin())  # validated against the spec
    assert [line["type"] for line in found.data["orders"][0]["items"]] == ["game_key"]
