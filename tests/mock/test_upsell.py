"""The project's upsell and the short list of catalog filter rules, end to end through HTTP."""

from __future__ import annotations

from xsolla_contract.toolkit.testing import ContractClient

P = "/v2/project/{project_id}"
UPSELL = f"{P}/admin/items/upsell"


def items(api: ContractClient, *skus: str) -> None:
    for sku in skus:
        prices = [{"amount": 2.5, "currency": "USD", "is_default": True}]
        body = {"sku": sku, "name": {"en": sku.title()}, "prices": prices}
        created = api.post(api.path(f"{P}/admin/items/virtual_items"), json=body, headers=api.admin())
        assert created.status == 201


def client_skus(api: ContractClient) -> list[str]:
    return [i["sku"] for i in api.get(api.path(f"{P}/items/upsell"), headers=api.user("u1")).data["items"]]


def test_upsell_toggle_changes_the_client_list(api: ContractClient) -> None:
    items(api, "helmet", "shield", "boots")
    manager = api.user("manager")
    assert api.get(api.path(UPSELL), headers=manager).data == []
    assert client_skus(api) == []
    body = {"type": "fixed_list", "is_enabled": False, "items": ["shield", "helmet"]}
    assert api.post(api.path(UPSELL), json=body, headers=manager).status == 202
    assert client_skus(api) == []

    assert api.put(api.path(f"{UPSELL}/active"), headers=manager).status == 202
    listed = api.get(api.path(f"{P}/items/upsell"), headers=api.user("u1")).data["items"]
    assert [i["sku"] for i in listed] == ["shield", "helmet"]
    assert listed[0]["price"]["amount"] == "2.50" and listed[0]["can_be_bought"] is True
    [config] = api.get(api.path(UPSELL), headers=manager).data
    assert (config["is_enabled"], config["type"], [i["sku"] for i in config["items"]]) == (
        True,
        "fixed_list",
        ["shield", "helmet"],
    )

    assert api.put(api.path(f"{UPSELL}/inactive"), headers=manager).status == 202
    assert client_skus(api) == []


def test_upsell_items_must_exist_and_put_replaces(api: ContractClient) -> None:
    items(api, "helmet", "boots")
    manager = api.user("manager")
    body = {"type": "fixed_list", "is_enabled": True, "items": ["helmet", "ghost"]}
    unknown = api.post(api.path(UPSELL), json=body, headers=manager)
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9901)
    assert "ghost" in unknown.data["errorMessage"]
    assert api.get(api.path(UPSELL), headers=manager).data == []
    no_config = api.put(api.path(f"{UPSELL}/active"), headers=manager)
    assert (no_config.status, no_config.data["errorCode"]) == (422, 1102)

    assert (
        api.put(
            api.path(UPSELL), json={"type": "fixed_list", "is_enabled": True, "items": ["helmet"]}, headers=manager
        ).status
        == 202
    )
    assert (
        api.put(
            api.path(UPSELL), json={"type": "fixed_list", "is_enabled": True, "items": ["boots"]}, headers=manager
        ).status
        == 202
    )
    assert client_skus(api) == ["boots"]


def test_most_sellable_upsell_lists_best_sellers(api: ContractClient) -> None:
    items(api, "helmet", "boots", "cape")
    for sku, times in (("boots", 2), ("helmet", 1)):
        for _ in range(times):
            order = api.post(api.path(f"{P}/payment/item/{sku}"), json={}, headers=api.user("buyer")).data
            api.set_order_status(order["order_id"], "paid")
    assert (
        api.post(
            api.path(UPSELL), json={"type": "most_sellable", "is_enabled": True}, headers=api.user("manager")
        ).status
        == 202
    )
    assert client_skus(api) == ["boots", "helmet"]


def test_all_filter_rules_in_short_form(api: ContractClient) -> None:
    items(api, "helmet")
    for name, enabled in (("Gold tier", True), ("Orcs only", False)):
        body = {
            "name": name,
            "is_enabled": enabled,
            "items": [{"sku": "helmet"}],
            "attribute_conditions": [{"attribute": "tier", "type": "string", "operator": "eq", "value": "gold"}],
        }
        created = api.post(api.path(f"{P}/admin/user/attribute/rule"), json=body, headers=api.admin())
        assert created.status == 201
    rules = api.get(api.path(f"{P}/admin/user/attribute/rule/all"), headers=api.admin()).data["items"]
    assert [(r["name"], r["is_enabled"]) for r in rules] == [("Gold tier", True), ("Orcs only", False)]
    assert rules[0]["rule_id"] < rules[1]["rule_id"]
    assert not any("attribute_conditions" in r or "items" in r for r in rules)


def test_post_on_a_project_with_an_upsell_sets_it_up_anew(api: ContractClient) -> None:
    items(api, "helmet", "boots")
    manager = api.user("manager")
    first = {"type": "fixed_list", "is_enabled": True, "items": ["helmet"]}
    assert api.post(api.path(UPSELL), json=first, headers=manager).status == 202
    second = {"type": "fixed_list", "is_enabled": True, "items": ["boots"]}
    assert api.post(api.path(UPSELL), json=second, headers=manager).status == 202
    [config] = api.get(api.path(UPSELL), headers=manager).data
    assert [i["sku"] for i in config["items"]] == ["boots"]
    assert client_skus(api) == ["boots"]
