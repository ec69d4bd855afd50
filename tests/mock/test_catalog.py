"""The client catalog derives from admin state: order, groups, locales, visibility,
prices with promotions, personalization, limits, regions, paging and scale."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from xsolla_contract.mocks.app import engine_of
from xsolla_contract.mocks.store import Transaction
from xsolla_contract.toolkit.testing import ContractClient

ADMIN = "/v2/project/{project_id}/admin"
ITEMS = ADMIN + "/items/virtual_items"
GROUPS = ADMIN + "/items/groups"
CATALOG = "/v2/project/{project_id}/items/virtual_items"
NOW = "2030-01-15T12:00:00+00:00"


def item(sku: str, **extra: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": {"en-US": sku.title(), "de-DE": f"{sku} (de)"},
        "prices": [{"amount": 10, "currency": "USD", "is_default": True}],
        **extra,
    }


def create(api: ContractClient, *items: dict[str, Any], path: str = ITEMS) -> None:
    for body in items:
        assert api.post(api.path(path), json=body, headers=api.admin()).status == 201


def skus(api: ContractClient, path: str = CATALOG, headers: dict[str, str] | None = None, **params: Any) -> list[str]:
    answer = api.get(api.path(path), params=params, headers=headers)
    assert answer.status == 200, answer.data
    return [i["sku"] for i in answer.data["items"]]


def buy(api: ContractClient, user: str, sku: str) -> None:
    """A paid purchase, which uses up the user's limit."""
    order = api.post(
        api.path("/v2/project/{project_id}/payment/item/{sku}", sku=sku), json={"quantity": 1}, headers=api.user(user)
    )
    assert order.status == 200, order.data
    api.set_order_status(order.data["order_id"], "done")


def test_admin_items_are_listed_in_order_by_group_and_locale(api: ContractClient) -> None:
    create(
        api,
        {"external_id": "weapons", "name": {"en-US": "Weapons", "de-DE": "Waffen"}, "order": 2},
        {"external_id": "armour", "name": {"en": "Armour"}, "order": 1},
        path=GROUPS,
    )
    create(
        api,
        item("axe", order=3, groups=["weapons"]),
        item("bow", order=1, groups=["weapons"]),
        item("helmet", order=2, groups=["armour"]),
        item("club", order=1, groups=["weapons"]),
    )
    assert skus(api) == ["bow", "club", "helmet", "axe"]  # `order`, then creation order
    assert skus(api, CATALOG + "/group/weapons") == ["bow", "club", "axe"]
    german = api.get(api.path(CATALOG + "/group/weapons"), params={"locale": "de"}).data["items"][0]
    assert german["name"] == "bow (de)" and german["groups"] == [{"external_id": "weapons", "name": "Waffen"}]
    assert api.get(api.path(CATALOG + "/sku/bow")).data["name"] == "Bow"
    short = api.get(api.path(CATALOG + "/all"), params={"locale": "de"}).data["items"]
    assert [(i["sku"], i["name"]) for i in short][:2] == [("bow", "bow (de)"), ("club", "club (de)")]
    tree = api.get(api.path("/v2/project/{project_id}/items/groups")).data["groups"]
    assert [g["external_id"] for g in tree] == ["armour", "weapons"]
    missing = api.get(api.path(CATALOG + "/group/shields"))
    assert (missing.status, missing.data["errorCode"]) == (404, 4403)
    unknown = api.get(api.path(CATALOG + "/sku/spear"))
    assert (unknown.status, unknown.data["errorCode"]) == (404, 4001)


def test_group_tree_nests_enabled_groups(api: ContractClient) -> None:
    create(
        api,
        {"external_id": "weapons", "name": {"en": "Weapons"}, "order": 1},
        {"external_id": "bows", "name": {"en": "Bows"}, "parent_external_id": "weapons"},
        {"external_id": "hidden", "name": {"en": "Hidden"}, "is_enabled": False},
        {"external_id": "secret", "name": {"en": "Secret"}, "parent_external_id": "hidden"},
        path=GROUPS,
    )
    tree = api.get(api.path("/v2/project/{project_id}/items/groups")).data["groups"]
    assert [g["external_id"] for g in tree] == ["weapons"]
    assert [(c["external_id"], c["level"], c["parent_external_id"]) for c in tree[0]["children"]] == [
        ("bows", 1, "weapons")
    ]
    assert api.get(api.path(CATALOG + "/group/hidden")).status == 404


def test_disabled_hidden_and_out_of_period_items_are_not_listed(api: ContractClient) -> None:
    api.control("POST", "clock", {"set": NOW})
    create(
        api,
        item("on_sale"),
        item("disabled", is_enabled=False),
        item("hidden", is_show_in_store=False),
        item(
            "next_month",
            periods=[{"date_from": "2030-02-01T00:00:00+00:00", "date_until": "2030-03-01T00:00:00+00:00"}],
        ),
        item(
            "this_month",
            periods=[{"date_from": "2030-01-01T00:00:00+00:00", "date_until": "2030-02-01T00:00:00+00:00"}],
        ),
    )
    assert skus(api) == ["on_sale", "this_month"]
    assert skus(api, show_inactive_time_limited_items=1) == ["on_sale", "next_month", "this_month"]
    for sku in ("disabled", "hidden", "next_month"):
        assert api.get(api.path(CATALOG + "/sku/{sku}", sku=sku)).status == 404
    inactive = {"show_inactive_time_limited_items": 1}
    assert api.get(api.path(CATALOG + "/sku/next_month"), params=inactive).status == 200
    api.advance("P31D")
    assert skus(api) == ["on_sale", "next_month"]


def test_a_period_opening_shows_the_item_without_any_write(api: ContractClient) -> None:
    """Catalog lists are cached until the next write and until the next period boundary: a
    sale that starts while nobody writes shows on time, not when some cache happens to expire."""
    opens = datetime.now(UTC) + timedelta(seconds=1.5)
    create(api, item("always"), item("flash_sale", periods=[{"date_from": opens.isoformat(), "date_until": None}]))
    assert skus(api) == ["always"]
    time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.05)
    assert skus(api) == ["always", "flash_sale"]


def test_discount_promotion_changes_the_price(api: ContractClient) -> None:
    create(api, item("sword"), item("shield"))
    created = api.post(
        api.path("/v3/project/{project_id}/admin/promotion/item"),
        headers=api.admin(),
        json={"name": {"en": "Winter sale"}, "discount": {"percent": "20"}, "items": [{"sku": "sword"}]},
    )
    assert created.status == 201
    assert api.get(api.path(CATALOG + "/sku/sword")).data["price"]["amount"] == "10.00"  # not active yet
    activate = api.path(
        "/v2/project/{project_id}/admin/promotion/{promotion_id}/activate", promotion_id=created.data["promotion_id"]
    )
    assert api.put(activate, headers=api.admin()).status == 204
    listed = {i["sku"]: i for i in api.get(api.path(CATALOG)).data["items"]}
    assert listed["sword"]["price"] == {"amount": "8.00", "amount_without_discount": "10.00", "currency": "USD"}
    assert listed["sword"]["promotions"][0]["name"] == "Winter sale"
    assert listed["sword"]["promotions"][0]["discount"]["percent"] == "20.00"
    assert listed["shield"]["price"]["amount"] == "10.00" and listed["shield"]["promotions"] == []


def test_promo_code_parameter_applies_its_discount(api: ContractClient) -> None:
    create(api, item("sword"))
    api.post(
        api.path("/v3/project/{project_id}/admin/promocode"),
        headers=api.admin(),
        json={
            "external_id": "spring",
            "name": {"en": "Spring"},
            "discounted_items": [{"sku": "sword", "discount": {"percent": "50"}}],
        },
    )
    api.put(api.path(ADMIN + "/promocode/spring/activate"), headers=api.admin())
    assert (
        api.post(
            api.path(ADMIN + "/promocode/spring/code"), json={"coupon_code": "SPRING50"}, headers=api.admin()
        ).status
        == 201
    )
    with_code = api.get(api.path(CATALOG), params={"promo_code": "SPRING50"}, headers=api.user("u1"))
    assert with_code.data["items"][0]["price"]["amount"] == "5.00"
    for params in ({}, {"promo_code": "WRONG"}):
        listed = api.get(api.path(CATALOG), params=params, headers=api.user("u1")).data["items"]
        assert listed[0]["price"]["amount"] == "10.00"


def test_filter_rule_shows_an_item_only_to_matching_users(api: ContractClient) -> None:
    create(api, item("sword"), item("golden_sword"))
    rule = api.post(
        api.path(ADMIN + "/user/attribute/rule"),
        headers=api.admin(),
        json={
            "name": "Gold tier",
            "is_enabled": True,
            "items": [{"sku": "golden_sword"}],
            "attribute_conditions": [{"attribute": "tier", "type": "string", "operator": "eq", "value": "gold"}],
        },
    )
    assert rule.status == 201
    assert skus(api) == ["sword"]
    assert skus(api, headers=api.user("u1")) == ["sword"]
    assert skus(api, headers=api.user("u1", tier="silver")) == ["sword"]
    assert skus(api, headers=api.user("u1", tier="gold")) == ["sword", "golden_sword"]
    assert api.get(api.path(CATALOG + "/sku/golden_sword"), headers=api.user("u2")).status == 404
    assert api.get(api.path(CATALOG + "/sku/golden_sword"), headers=api.user("u2", tier="gold")).status == 200


def test_unique_offer_items_are_hidden_until_the_code_is_entered(api: ContractClient) -> None:
    create(api, item("sword"), item("secret_sword"))
    api.post(
        api.path("/v3/project/{project_id}/admin/unique_catalog_offer"),
        headers=api.admin(),
        json={"external_id": "vip", "name": {"en": "VIP"}, "items": ["secret_sword"]},
    )
    assert skus(api) == ["sword", "secret_sword"]  # a disabled offer hides nothing
    api.put(api.path(ADMIN + "/unique_catalog_offer/vip/activate"), headers=api.admin())
    api.post(api.path(ADMIN + "/unique_catalog_offer/vip/code"), json={"coupon_code": "VIP2030"}, headers=api.admin())
    assert skus(api, headers=api.user("u1")) == ["sword"]
    assert api.get(api.path(CATALOG + "/sku/secret_sword"), headers=api.user("u1")).status == 404
    assert skus(api, headers=api.user("u1"), promo_code="VIP2030") == ["sword", "secret_sword"]
    assert skus(api, promo_code="NOTVIP") == ["sword"]


def test_per_user_limits(api: ContractClient) -> None:
    daily = {"per_user": {"interval_type": "daily", "time": "00:00:00+00:00"}}
    once = {"per_user": {"total": 1, "limit_exceeded_visibility": "hide"}}
    every_day = {"per_user": {"total": 1, "limit_exceeded_visibility": "show"}, "recurrent_schedule": daily}
    create(
        api,
        item("elixir", order=1, limits=once),
        item("daily_chest", order=2, limits=every_day),
        item("sword", order=3),
        item("shield", order=4),
    )
    fresh = {i["sku"]: i for i in api.get(api.path(CATALOG), headers=api.user("u1")).data["items"]}
    assert fresh["elixir"]["limits"]["per_user"] == {"total": 1, "available": 1}
    assert fresh["elixir"]["can_be_bought"] is True
    buy(api, "u1", "elixir")
    buy(api, "u1", "daily_chest")
    after = api.get(api.path(CATALOG), headers=api.user("u1")).data
    assert [i["sku"] for i in after["items"]] == ["daily_chest", "sword", "shield"]  # elixir hidden
    chest = after["items"][0]
    assert chest["can_be_bought"] is False and chest["limits"]["per_user"]["available"] == 0
    assert chest["limits"]["per_user"]["recurrent_schedule"]["interval_type"] == "daily"
    # paging skips the item hidden for this user only
    first = api.get(api.path(CATALOG), params={"limit": 2}, headers=api.user("u1")).data
    second = api.get(api.path(CATALOG), params={"limit": 2, "offset": 2}, headers=api.user("u1")).data
    assert [i["sku"] for i in first["items"]] == ["daily_chest", "sword"] and first["has_more"] is True
    assert [i["sku"] for i in second["items"]] == ["shield"] and second["has_more"] is False
    assert skus(api, headers=api.user("u2"))[:2] == ["elixir", "daily_chest"]  # other users keep them
    anonymous = {i["sku"]: i for i in api.get(api.path(CATALOG)).data["items"]}
    assert anonymous["elixir"]["limits"]["per_user"]["available"] == 1  # no token: not personalized
    api.advance("P1D")
    chest = api.get(api.path(CATALOG + "/sku/daily_chest"), headers=api.user("u1")).data
    assert chest["can_be_bought"] is True


def test_region_restricts_items_to_its_countries(api: ContractClient) -> None:
    dach = {"name": {"en": "DACH"}, "countries": ["DE", "AT", "CH"]}
    region = api.post(api.path(ADMIN + "/region"), json=dach, headers=api.admin()).data["region_id"]
    create(api, item("sword"), item("lederhose", regions=[{"id": region}]))
    assert skus(api, country="DE") == ["sword", "lederhose"]
    assert skus(api, country="US") == ["sword"]
    assert skus(api) == ["sword", "lederhose"]  # unknown country: not restricted
    assert api.get(api.path(CATALOG + "/sku/lederhose"), params={"country": "US"}).status == 404


def test_paging_reports_has_more(api: ContractClient) -> None:
    create(api, *(item(f"item_{n}", order=n) for n in range(5)))
    pages = [api.get(api.path(CATALOG), params={"limit": 2, "offset": offset}).data for offset in (0, 2, 4)]
    assert [[i["sku"] for i in p["items"]] for p in pages] == [["item_0", "item_1"], ["item_2", "item_3"], ["item_4"]]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert api.get(api.path(CATALOG), params={"offset": 9}).data == {"items": [], "has_more": False}


def test_each_catalog_lists_its_own_types(api: ContractClient) -> None:
    create(api, item("sword", order=2))
    create(api, {"sku": "gold", "name": {"en": "Gold"}, "order": 1}, path=ADMIN + "/items/virtual_currency")
    create(
        api,
        {
            "sku": "gold_pack",
            "name": {"en": "Gold pack"},
            "description": {"en": "100 gold"},
            "content": [{"sku": "gold", "quantity": 100}],
            "prices": [{"amount": 4.99, "currency": "USD", "is_default": True}],
        },
        path=ADMIN + "/items/virtual_currency/package",
    )
    create(
        api,
        {
            "sku": "starter",
            "name": {"en": "Starter"},
            "description": {"en": "Two swords"},
            "content": [{"sku": "sword", "quantity": 2}],
            "prices": [{"amount": 15, "currency": "USD", "is_default": True, "is_enabled": True}],
        },
        path=ADMIN + "/items/bundle",
    )
    base = "/v2/project/{project_id}/items"
    assert skus(api, base + "/virtual_currency") == ["gold"]
    assert skus(api, base + "/virtual_currency/package") == ["gold_pack"]
    assert skus(api, base + "/bundle") == ["starter"]
    assert skus(api, base) == ["gold", "sword", "gold_pack", "starter"]
    assert skus(api, base + "/group/all") == ["gold", "sword", "gold_pack", "starter"]
    bundle = api.get(api.path(base + "/bundle/sku/starter")).data
    assert bundle["content"][0]["sku"] == "sword" and bundle["content"][0]["quantity"] == 2
    assert bundle["total_content_price"] == {"amount": "20.00", "amount_without_discount": "20.00", "currency": "USD"}
    package = api.get(api.path(base + "/virtual_currency/package/sku/gold_pack")).data
    assert package["content"][0]["sku"] == "gold" and package["content"][0]["quantity"] == 100
    by_id = api.get(api.path(base + "/id/{item_id}", item_id=bundle["item_id"])).data
    assert by_id["sku"] == "starter" and by_id["bundle_type"] == "standard"
    assert api.get(api.path(base + "/virtual_currency/sku/sword")).status == 404  # wrong type
    assert api.get(api.path(base + "/bundle/sku/gold_pack")).status == 404


def test_a_list_page_does_not_rescan_the_store(
    app_api: ContractClient, mock_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The visible, ordered list is computed once; a further page only renders its own items."""

    def seed(ctx: Any) -> None:
        resource = ctx.resource("virtual_item")
        for n in range(2000):
            resource.save(ctx, resource.build(ctx, item(f"item_{n:04d}", order=n % 7), None))

    engine_of(mock_app).run(44056, seed)
    first = app_api.get(app_api.path(CATALOG), params={"limit": 50})
    assert first.data["has_more"] is True
    scans: list[str] = []
    real_items = Transaction.items
    monkeypatch.setattr(
        Transaction, "items", lambda self, project, kind: scans.append(kind) or real_items(self, project, kind)
    )
    second = app_api.get(app_api.path(CATALOG), params={"limit": 50, "offset": 50})
    assert scans == []
    expected = sorted((f"item_{n:04d}" for n in range(2000)), key=lambda s: (int(s[5:]) % 7, s))[50:100]
    assert [i["sku"] for i in second.data["items"]] == expected
    create(app_api, item("latecomer", order=-1))  # a write changes what the catalog shows
    assert skus(app_api, limit=1) == ["latecomer"]


def _listed(api: ContractClient, path: str = CATALOG, user: str = "u1", **params: Any) -> dict[str, Any]:
    answer = api.get(api.path(path), params=params, headers=api.user(user))
    assert answer.status == 200, answer.data
    return {i["sku"]: i for i in answer.data["items"]}


def test_kept_views_follow_what_they_show(api: ContractClient) -> None:
    """Views are kept between requests by the content of what they show: each change of a currency,
    a discount, a use of a limit, the clock, an item a bundle holds or value points shows at once."""
    api.control("POST", "clock", {"set": NOW})
    create(api, {"sku": "gold", "name": {"en": "Gold"}}, path=ADMIN + "/items/virtual_currency")
    daily = {"per_user": {"interval_type": "daily", "time": "00:00:00+00:00"}}
    once_a_day = {"per_user": {"total": 1, "limit_exceeded_visibility": "show"}, "recurrent_schedule": daily}
    sword = item(
        "sword", limits=once_a_day, vc_prices=[{"sku": "gold", "amount": 50, "is_default": True, "is_enabled": True}]
    )
    create(api, sword, item("shield"))
    kit = {
        "sku": "kit",
        "name": {"en": "Kit"},
        "description": {"en": "A sword and a shield"},
        "content": [{"sku": "sword", "quantity": 1}, {"sku": "shield", "quantity": 2}],
        "prices": [{"amount": 25, "currency": "USD", "is_default": True, "is_enabled": True}],
    }
    create(api, kit, path=ADMIN + "/items/bundle")
    bundles = "/v2/project/{project_id}/items/bundle"

    def kit_part(user: str = "u1") -> dict[str, Any]:
        return _listed(api, bundles, user)["kit"]["content"][0]

    for _ in range(2):  # the second answer comes from what the first one kept
        assert _listed(api)["sword"]["virtual_prices"][0]["name"] == "Gold"
        assert kit_part()["limits"]["per_user"]["available"] == 1
    api.put(
        api.path(ADMIN + "/items/virtual_currency/sku/gold"),
        json={"sku": "gold", "name": {"en": "Shiny"}},
        headers=api.admin(),
    )
    assert _listed(api)["sword"]["virtual_prices"][0]["name"] == "Shiny"
    one = api.get(api.path(CATALOG + "/sku/sword"), headers=api.user("u1")).data  # shares the lists' views
    assert one == _listed(api)["sword"] and one["virtual_prices"][0]["name"] == "Shiny"

    buy(api, "u1", "sword")
    assert _listed(api)["sword"]["limits"]["per_user"]["available"] == 0
    by_id = api.get(api.path(CATALOG.replace("virtual_items", "id/{id}"), id=one["item_id"]), headers=api.user("u1"))
    assert by_id.data["limits"]["per_user"]["available"] == 0
    assert _listed(api)["sword"]["can_be_bought"] is False
    assert kit_part()["limits"]["per_user"]["available"] == 0
    assert kit_part("u2")["limits"]["per_user"]["available"] == 1
    api.advance("P1D")  # the daily reset: no write to the item
    assert _listed(api)["sword"]["limits"]["per_user"]["available"] == 1
    assert kit_part()["limits"]["per_user"]["available"] == 1

    sale = api.post(
        api.path("/v3/project/{project_id}/admin/promotion/item"),
        headers=api.admin(),
        json={"name": {"en": "Sale"}, "discount": {"percent": "50"}, "items": [{"sku": "sword"}]},
    ).data
    api.put(api.path(ADMIN + "/promotion/{id}/activate", id=sale["promotion_id"]), headers=api.admin())
    assert _listed(api)["sword"]["price"]["amount"] == "5.00"
    assert kit_part()["price"]["amount"] == "5.00"
    assert _listed(api, bundles)["kit"]["total_content_price"]["amount"] == "25.00"  # 5 + 2 x 10

    api.put(api.path(ITEMS + "/sku/shield"), json=item("shield", name={"en": "Buckler"}), headers=api.admin())
    assert _listed(api, bundles)["kit"]["content"][1]["name"] == "Buckler"

    create(api, {"sku": "glory", "name": {"en": "Glory"}}, path=ADMIN + "/items/value_points")
    rewards = ADMIN + "/items/glory/value_points/rewards"
    assert api.put(api.path(rewards), json=[{"sku": "shield", "amount": 3}], headers=api.admin()).status == 204
    assert _listed(api)["shield"]["vp_rewards"][0]["amount"] == 3
    api.put(
        api.path(ADMIN + "/items/value_points/sku/glory"),
        json={"sku": "glory", "name": {"en": "Fame"}},
        headers=api.admin(),
    )
    assert _listed(api)["shield"]["vp_rewards"][0]["name"] == "Fame"


def test_a_kept_view_follows_the_clock_into_a_period(api: ContractClient) -> None:
    api.control("POST", "clock", {"set": NOW})
    window = [{"date_from": "2030-01-15T13:00:00+00:00", "date_until": "2030-01-16T00:00:00+00:00"}]
    create(api, item("lantern", periods=window))
    for _ in range(2):
        assert _listed(api, show_inactive_time_limited_items=1)["lantern"]["can_be_bought"] is False
    api.advance(3600)
    assert _listed(api, show_inactive_time_limited_items=1)["lantern"]["can_be_bought"] is True


def test_filter_rule_naming_an_item_by_id(api: ContractClient) -> None:
    create(api, item("sword"), item("golden_sword"))
    item_id = api.get(api.path(ITEMS + "/sku/golden_sword"), headers=api.admin()).data["item_id"]
    rule = {
        "name": "Gold tier",
        "is_enabled": True,
        "items": [{"item_id": item_id}],
        "attribute_conditions": [{"attribute": "tier", "type": "string", "operator": "eq", "value": "gold"}],
    }
    assert api.post(api.path(ADMIN + "/user/attribute/rule"), headers=api.admin(), json=rule).status == 201
    assert skus(api, headers=api.user("u1")) == ["sword"]
    assert skus(api, headers=api.user("u1", tier="gold")) == ["sword", "golden_sword"]


def test_a_kept_view_follows_a_game_key_given_as_a_bonus(api: ContractClient) -> None:
    create(api, item("sword"))
    game = {
        "sku": "starfall",
        "name": {"en": "Starfall"},
        "unit_items": [
            {"sku": "starfall_steam", "drm_sku": "steam", "name": {"en": "Starfall (Steam)"}, "prices": []},
        ],
    }
    create(api, game, path=ADMIN + "/items/game")
    bonus = api.post(
        api.path("/v3/project/{project_id}/admin/promotion/bonus"),
        headers=api.admin(),
        json={"name": {"en": "Free game"}, "condition": [{"sku": "sword"}], "bonus": [{"sku": "starfall_steam"}]},
    ).data
    api.put(api.path(ADMIN + "/promotion/{id}/activate", id=bonus["promotion_id"]), headers=api.admin())
    for _ in range(2):
        assert _listed(api)["sword"]["promotions"][0]["bonus"][0]["name"] == "Starfall (Steam)"
    game["unit_items"][0]["name"] = {"en": "Starfall for Steam"}
    assert api.put(api.path(ADMIN + "/items/game/sku/starfall"), json=game, headers=api.admin()).status < 300
    assert _listed(api)["sword"]["promotions"][0]["bonus"][0]["name"] == "Starfall for Steam"


def test_a_discount_used_up_by_one_user_stays_for_the_others(api: ContractClient) -> None:
    create(api, item("sword"))
    sale = api.post(
        api.path("/v3/project/{project_id}/admin/promotion/item"),
        headers=api.admin(),
        json={
            "name": {"en": "Once"},
            "discount": {"percent": "50"},
            "items": [{"sku": "sword"}],
            "limits": {"per_user": 1},
        },
    ).data
    api.put(api.path(ADMIN + "/promotion/{id}/activate", id=sale["promotion_id"]), headers=api.admin())
    for user in ("u1", "u2", "u1"):  # the offers everyone gets are worked out once
        assert _listed(api, user=user)["sword"]["price"]["amount"] == "5.00"
    api.grant("u1", "sword", 1)  # a user the mock knows
    limit = api.path(ADMIN + "/user/limit/promotion/id/{id}", id=sale["promotion_id"])
    taken = api.call(
        "DELETE", limit, json_body={"user": {"user_external_id": "u1"}, "available": 1}, headers=api.admin()
    )
    assert taken.status == 200
    assert _listed(api, user="u1")["sword"]["price"]["amount"] == "10.00"
    assert _listed(api, user="u2")["sword"]["price"]["amount"] == "5.00"
    assert api.get(api.path(CATALOG)).data["items"][0]["price"]["amount"] == "5.00"  # no token: no limit
