"""The workflows of the fuzz suite: one per API group, and the sandbox they share.

`SANDBOX` creates, through the admin API, what the client calls of a store need: a
group, a virtual currency, items (one with a per-user limit, one free), a currency
package, a bundle, a game with keys, a value point, a discount with a per-user limit.
Every name is unique to the run (`s.id(...)`), and every creating step says how to undo
it, so a run against a live sandbox project removes what it made.

Each workflow then walks its group the way a client would, reaching the success answer
of every operation of the group and checking the promises of the API on the way (what
is created can be read, what is deleted is gone, a redemption past its limit is refused,
pages do not overlap). `WORKFLOWS` is the order they run in: admin groups first, then
the user's own: catalog, cart and orders, codes, chains.

Values come from the steps before (`lambda s: ...`, see `workflows.Steps`); a body not
given is the spec's request example.
"""

from __future__ import annotations

from typing import Any

from .workflows import Step, Steps, Workflow

PAST = "2020-01-01T00:00:00+00:00"
FUTURE = "2099-12-31T23:59:59+00:00"
KEYS = ("key1", "key2", "key3", "key4")  # game key codes of the sandbox game (`s.code(...)`)
HAND_OUT = {"user_email": "qa@example.com", "quantity": 1, "reason": "contract suite"}


def text(en: str) -> dict[str, str]:
    return {"en": en, "de": f"{en} (DE)"}


def usd(amount: float) -> list[dict[str, Any]]:
    return [{"amount": amount, "currency": "USD", "is_default": True, "is_enabled": True}]


def item(s: Steps, label: str, title: str, *, price: float | None = 1.99, **fields: Any) -> dict[str, Any]:
    """An admin item body: enabled, shown in the store, in the sandbox group."""
    body: dict[str, Any] = {
        "sku": s.id(label),
        "name": text(title),
        "description": text(f"{title}, made by the contract suite."),
        "groups": [s.id("group")],
        "is_enabled": True,
        "is_show_in_store": True,
        "prices": usd(price) if price is not None else [],
    }
    body.update(fields)
    return body


def user(s: Steps) -> dict[str, Any]:
    return {"user": {"user_external_id": s.user}}


def upload(*codes: str) -> dict[str, Any]:
    """A multipart form with a file of game key codes, one per line."""
    return {"file": "".join(f"{code}\n" for code in codes)}


# ------------------------------------------------------------------ the sandbox

SANDBOX = Workflow(
    "sandbox",
    (
        Step(
            "admin-create-item-group",
            name="group",
            body=lambda s: {"external_id": s.id("group"), "name": text("Contract group"), "order": 1},
            undo="DeleteItemGroup",
        ),
        Step("admin-get-item-group", via="group.GetItemGroup", name="group_view"),
        Step(
            "admin-create-virtual-currency",
            name="gold",
            body=lambda s: item(s, "gold", "Contract gold", price=0.99, is_hard=True),
            undo="DeleteVirtualCurrency",
        ),
        Step(
            "admin-create-virtual-item",
            name="sword",
            body=lambda s: item(
                s,
                "sword",
                "Contract sword",
                price=4.99,
                vc_prices=[{"sku": s.id("gold"), "amount": 50, "is_default": True, "is_enabled": True}],
                virtual_item_type="non_consumable",
            ),
            undo="DeleteVirtualItem",
        ),
        Step(
            "admin-create-virtual-item",
            name="potion",
            body=lambda s: item(
                s,
                "potion",
                "Contract potion",
                price=0.99,
                virtual_item_type="consumable",
                limits={"per_user": {"total": 3}},
            ),
            undo="DeleteVirtualItem",
        ),
        Step(
            "admin-create-virtual-item",
            name="gift",
            body=lambda s: item(s, "gift", "Contract gift", price=None, is_free=True, virtual_item_type="consumable"),
            undo="DeleteVirtualItem",
        ),
        Step(
            "admin-create-virtual-currency-package",
            name="gold_pack",
            body=lambda s: item(
                s, "gold_pack", "Contract gold pack", price=2.99, content=[{"sku": s.id("gold"), "quantity": 100}]
            ),
            undo="DeleteVirtualCurrencyPackage",
        ),
        Step(
            "admin-create-bundle",
            name="bundle",
            body=lambda s: item(
                s,
                "bundle",
                "Contract bundle",
                price=5.99,
                bundle_type="standard",
                content=[{"sku": s.id("sword"), "quantity": 1}, {"sku": s.id("potion"), "quantity": 2}],
            ),
            undo="DeleteBundle",
        ),
        Step(
            "admin-create-game",
            name="game",
            body=lambda s: {
                "sku": s.id("game"),
                "name": text("Contract game"),
                "description": text("A game made by the contract suite."),
                "groups": [{"external_id": s.id("group")}],
                "unit_items": [
                    {
                        "sku": s.id("game_key"),
                        "name": text("Contract game (DRM-free)"),
                        "drm_sku": "drmfree",
                        "prices": usd(9.99),
                        "is_enabled": True,
                        "is_show_in_store": True,
                    }
                ],
            },
            undo="DeleteGameBySku",
        ),
        Step(
            "admin-upload-codes-by-sku",
            via="game.UploadCodesBySku",
            body=lambda s: upload(*(s.code(k) for k in KEYS)),
            media_type="multipart/form-data",
        ),
        Step(
            "admin-create-value-points",
            name="points",
            body=lambda s: {"sku": s.id("points"), "name": text("Contract points"), "is_enabled": True},
            undo="DeleteValuePoint",
        ),
        Step(
            "admin-set-items-value-point-reward",
            via="points.SetItemRewards",
            body=lambda s: [{"sku": s.id("gift"), "amount": 100}],
        ),
        Step(
            "create-item-promotion",
            name="discount",
            body=lambda s: {
                "name": text("Contract discount"),
                "discount": {"percent": "10.00"},
                "items": [{"sku": s.id("sword")}],
                "limits": {"per_user": 5},
            },
            undo="DeleteItemPromotion",
        ),
    ),
    user_state=False,
)


# ------------------------------------------------------------ admin: catalog items

GROUPS = Workflow(
    "groups",
    (
        Step(
            "admin-create-item-group",
            name="g",
            body=lambda s: {
                "external_id": s.id("subgroup"),
                "name": text("Contract subgroup"),
                "parent_external_id": s.id("group"),
                "order": 2,
            },
            undo="DeleteItemGroup",
        ),
        Step("admin-get-item-group", via="g.GetItemGroup"),
        Step(
            "admin-update-item-group",
            via="g.UpdateItemGroup",
            body=lambda s: {
                "external_id": s.id("subgroup"),
                "name": text("Contract subgroup, renamed"),
                "parent_external_id": s.id("group"),
            },
        ),
        Step("admin-get-item-groups"),
        Step("get-item-groups"),
        Step("admin-delete-item-group", via="g.DeleteItemGroup"),
        Step("admin-get-item-group", via="g.GetItemGroup", expect=404),
    ),
    user_state=False,
)

ATTRIBUTES = Workflow(
    "attributes",
    (
        Step(
            "admin-create-attribute",
            name="attr",
            body=lambda s: {"external_id": s.id("attr"), "name": text("Contract attribute")},
            undo="DeleteAttribute",
        ),
        Step("admin-get-attribute", via="attr.GetAttribute"),
        Step(
            "admin-update-attribute",
            via="attr.UpdateAttribute",
            body=lambda s: {"external_id": s.id("attr"), "name": text("Contract attribute, renamed")},
        ),
        Step(
            "admin-create-attribute-value",
            via="attr.CreateAttributeValue",
            name="value",
            body=lambda s: {"external_id": s.id("rare"), "value": text("Rare")},
        ),
        Step(
            "admin-create-attribute-value",
            via="attr.CreateAttributeValue",
            name="value2",
            body=lambda s: {"external_id": s.id("epic"), "value": text("Epic")},
        ),
        Step(
            "admin-update-attribute-value",
            via="value.UpdateAttributeValue",
            body=lambda s: {"external_id": s.id("rare"), "value": text("Very rare")},
        ),
        Step("admin-get-attribute-list", pages=True),
        Step("admin-delete-attribute-value", via="value.DeleteAttributeValue"),
        Step("admin-delete-all-attribute-value", via="attr.DeleteAllAttributeValues"),
        Step("delete-attribute", via="attr.DeleteAttribute"),
        Step("admin-get-attribute", via="attr.GetAttribute", expect=404),
    ),
    user_state=False,
)

REGIONS = Workflow(
    "regions",
    (
        Step(
            "admin-create-region",
            name="region",
            body={"name": text("Contract region"), "countries": ["DK", "FI", "NO"]},
            undo="DeleteRegion",
        ),
        Step("admin-get-region", via="region.GetRegion"),
        Step(
            "admin-update-region",
            via="region.UpdateRegion",
            body={"name": text("Contract region, wider"), "countries": ["DK", "FI", "NO", "SE"]},
        ),
        Step("admin-get-regions"),
        Step("admin-delete-region", via="region.DeleteRegion"),
        Step("admin-get-region", via="region.GetRegion", expect=404),
    ),
    user_state=False,
)

VIRTUAL_ITEMS = Workflow(
    "virtual-items-currency",
    (
        Step(
            "admin-create-virtual-item",
            name="vi",
            body=lambda s: item(s, "vi", "Contract shield", price=2.49, virtual_item_type="non_consumable"),
            undo="DeleteVirtualItem",
        ),
        Step("admin-get-virtual-item", via="vi.GetVirtualItem"),
        Step(
            "admin-update-virtual-item",
            via="vi.UpdateVirtualItem",
            body=lambda s: item(s, "vi", "Contract shield, polished", price=2.99, virtual_item_type="non_consumable"),
        ),
        Step("admin-get-virtual-items-list", pages=True),
        Step(
            "admin-get-virtual-items-list-by-group-external-id",
            path=lambda s: {"external_id": s.id("group")},
        ),
        Step("admin-get-virtual-items-list-by-group-id", path=lambda s: {"group_id": s.json("group_view", "/id")}),
        Step(
            "admin-create-virtual-currency",
            name="vc",
            body=lambda s: item(s, "vc", "Contract crystals", price=1.49),
            undo="DeleteVirtualCurrency",
        ),
        Step("admin-get-virtual-currency", via="vc.GetVirtualCurrency"),
        Step(
            "admin-update-virtual-currency",
            via="vc.UpdateVirtualCurrency",
            body=lambda s: item(s, "vc", "Contract crystals, shiny", price=1.49),
        ),
        Step("admin-get-virtual-currencies-list", pages=True),
        Step(
            "admin-create-virtual-currency-package",
            name="pack",
            body=lambda s: item(
                s, "pack", "Contract crystal pack", price=3.99, content=[{"sku": s.id("vc"), "quantity": 50}]
            ),
            undo="DeleteVirtualCurrencyPackage",
        ),
        Step("admin-get-virtual-currency-package", via="pack.GetVirtualCurrencyPackage"),
        Step(
            "admin-update-virtual-currency-package",
            via="pack.UpdateVirtualCurrencyPackage",
            body=lambda s: item(
                s, "pack", "Contract crystal chest", price=4.99, content=[{"sku": s.id("vc"), "quantity": 60}]
            ),
        ),
        Step("admin-get-virtual-currency-packages-list", pages=True),
        # the client catalog
        Step("get-virtual-items", pages=True),
        Step("get-all-virtual-items"),
        Step("get-virtual-items-group", path=lambda s: {"external_id": s.id("group")}),
        Step("get-virtual-items-sku", via="vi.GetCatalogVirtualItem"),
        Step("get-virtual-currency", pages=True),
        Step("get-virtual-currency-sku", via="vc.GetCatalogVirtualCurrency"),
        Step("get-virtual-currency-package", pages=True),
        Step("get-virtual-currency-package-sku", via="pack.GetCatalogVirtualCurrencyPackage"),
        # removal, and what is removed is gone
        Step("admin-delete-virtual-currency-package", via="pack.DeleteVirtualCurrencyPackage"),
        Step("admin-get-virtual-currency-package", via="pack.GetVirtualCurrencyPackage", expect=404),
        Step("admin-delete-virtual-currency", via="vc.DeleteVirtualCurrency"),
        Step("admin-get-virtual-currency", via="vc.GetVirtualCurrency", expect=404),
        Step("admin-delete-virtual-item", via="vi.DeleteVirtualItem"),
        Step("admin-get-virtual-item", via="vi.GetVirtualItem", expect=404),
    ),
    user_state=False,
)

BUNDLES = Workflow(
    "bundles",
    (
        Step(
            "admin-create-bundle",
            name="b",
            body=lambda s: item(
                s,
                "b",
                "Contract starter bundle",
                price=3.49,
                bundle_type="standard",
                content=[{"sku": s.id("potion"), "quantity": 3}],
            ),
            undo="DeleteBundle",
        ),
        Step("admin-get-bundle", via="b.GetBundle"),
        Step(
            "admin-update-bundle",
            via="b.UpdateBundle",
            body=lambda s: item(
                s,
                "b",
                "Contract starter bundle, bigger",
                price=3.99,
                bundle_type="standard",
                content=[{"sku": s.id("potion"), "quantity": 4}],
            ),
        ),
        Step("admin-hide-bundle", via="b.HideBundle"),
        Step("admin-show-bundle", via="b.ShowBundle"),
        Step("admin-get-bundle-list", pages=True),
        Step("admin-get-bundle-list-in-group-by-external-id", path=lambda s: {"external_id": s.id("group")}),
        Step("admin-get-bundle-list-in-group-by-id", path=lambda s: {"group_id": s.json("group_view", "/id")}),
        Step("get-bundle", via="b.GetCatalogBundle"),
        Step("get-bundle-list", pages=True),
        Step("get-bundle-list-in-group", path=lambda s: {"external_id": s.id("group")}),
        Step("admin-delete-bundle", via="b.DeleteBundle"),
        Step("admin-get-bundle", via="b.GetBundle", expect=404),
    ),
    user_state=False,
)

GAMES = Workflow(
    "game-keys",
    (
        Step(
            "admin-create-game",
            name="g",
            body=lambda s: {
                "sku": s.id("saga"),
                "name": text("Contract saga"),
                "groups": [{"external_id": s.id("group")}],
                "unit_items": [
                    {
                        "sku": s.id("saga_steam"),
                        "name": text("Contract saga (Steam)"),
                        "drm_sku": "steam",
                        "prices": usd(19.99),
                        "is_enabled": True,
                        "is_show_in_store": True,
                    }
                ],
            },
            undo="DeleteGameBySku",
        ),
        Step("admin-get-game-by-sku", via="g.GetGameBySku", name="by_sku"),
        Step("admin-get-game-by-id", via="g.GetGameById", name="by_id"),
        Step(
            "admin-update-game-by-sku",
            via="g.UpdateGameBySku",
            body=lambda s: {
                "sku": s.id("saga"),
                "name": text("Contract saga, remastered"),
                "unit_items": [
                    {
                        "sku": s.id("saga_steam"),
                        "name": text("Contract saga (Steam)"),
                        "drm_sku": "steam",
                        "prices": usd(24.99),
                        "is_enabled": True,
                    }
                ],
            },
        ),
        Step(
            "admin-update-game-by-id",
            via="g.UpdateGameById",
            body=lambda s: {
                "sku": s.id("saga"),
                "name": text("Contract saga, definitive edition"),
                "unit_items": [
                    {
                        "sku": s.id("saga_steam"),
                        "name": text("Contract saga (Steam)"),
                        "drm_sku": "steam",
                        "prices": usd(29.99),
                        "is_enabled": True,
                    }
                ],
            },
        ),
        Step(
            "admin-upload-codes-by-sku",
            via="by_sku.UploadCodesBySku",
            name="upload",
            body=lambda s: upload(s.code("gs1"), s.code("gs2")),
            media_type="multipart/form-data",
        ),
        Step("admin-get-codes-session", via="upload.GetCodesSession"),
        Step(
            "admin-upload-codes-by-id",
            via="by_id.UploadCodesById",
            body=lambda s: upload(s.code("gs3"), s.code("gs4")),
            media_type="multipart/form-data",
        ),
        Step("admin-get-codes-by-sku", via="by_sku.GetCodesBySku", query=HAND_OUT),
        Step("admin-get-codes-by-id", via="by_id.GetCodesById", query=HAND_OUT),
        Step("admin-get-game-list", pages=True),
        Step("get-drm-list"),
        Step("get-games-list", pages=True),
        Step("get-games-group", path=lambda s: {"external_id": s.id("group")}),
        Step("get-game-keys-group", path=lambda s: {"external_id": s.id("group")}),
        Step("get-game-by-sku", via="g.GetCatalogGameBySku"),
        Step("get-game-key-by-sku", via="g.GetCatalogGameKeyBySku"),
        Step("admin-delete-codes-by-sku", via="by_sku.DeleteCodesBySku", query=HAND_OUT),
        Step("admin-delete-codes-by-id", via="by_id.DeleteCodesById", query=HAND_OUT),
        Step("admin-delete-game-by-id", via="g.DeleteGameById"),
        Step("admin-get-game-by-sku", via="g.GetGameBySku", expect=404),
        # a second game, removed by SKU
        Step(
            "admin-create-game",
            name="g2",
            body=lambda s: {
                "sku": s.id("saga2"),
                "name": text("Contract saga II"),
                "unit_items": [
                    {
                        "sku": s.id("saga2_steam"),
                        "name": text("Contract saga II (Steam)"),
                        "drm_sku": "steam",
                        "prices": usd(9.99),
                    }
                ],
            },
            undo="DeleteGameBySku",
        ),
        Step("admin-delete-game-by-sku", via="g2.DeleteGameBySku"),
        Step("admin-get-game-by-sku", via="g2.GetGameBySku", expect=404),
    ),
    user_state=False,
)

# ------------------------------------------------------------ admin: promotions

DISCOUNTS = Workflow(
    "promotions-discounts",
    (
        Step(
            "create-item-promotion",
            name="d",
            body=lambda s: {
                "name": text("Contract potion sale"),
                "discount": {"percent": "15.00"},
                "items": [{"sku": s.id("potion")}],
            },
            undo="DeleteItemPromotion",
        ),
        Step("get-item-promotion", via="d.GetItemPromotion"),
        Step(
            "update-item-promotion",
            via="d.UpdateItemPromotion",
            body=lambda s: {
                "name": text("Contract potion sale, deeper"),
                "discount": {"percent": "20.00"},
                "items": [{"sku": s.id("potion")}],
            },
        ),
        Step("get-item-promotion-list", pages=True),
        Step("delete-item-promotion", via="d.DeleteItemPromotion"),
        Step("get-item-promotion", via="d.GetItemPromotion", expect=404),
    ),
    user_state=False,
)

BONUSES = Workflow(
    "promotions-bonuses",
    (
        Step(
            "create-bonus-promotion",
            name="b",
            body=lambda s: {
                "name": text("Contract pack bonus"),
                "condition": [{"sku": s.id("gold_pack")}],
                "bonus": [{"sku": s.id("potion"), "quantity": 1}],
            },
            undo="DeleteBonusPromotion",
        ),
        Step("get-bonus-promotion", via="b.GetBonusPromotion"),
        Step(
            "update-bonus-promotion",
            via="b.UpdateBonusPromotion",
            body=lambda s: {
                "name": text("Contract pack bonus, doubled"),
                "condition": [{"sku": s.id("gold_pack")}],
                "bonus": [{"sku": s.id("potion"), "quantity": 2}],
            },
        ),
        Step("get-bonus-promotion-list", pages=True),
        Step("activate-promotion", via="b.ActivatePromotion"),
        Step("get-promotion-list", pages=True),
        Step("deactivate-promotion", via="b.DeactivatePromotion"),
        Step("delete-bonus-promotion", via="b.DeleteBonusPromotion"),
        Step("get-bonus-promotion", via="b.GetBonusPromotion", expect=404),
    ),
    user_state=False,
)

FILTER_RULES = Workflow(
    "personalized-catalog",
    (
        Step(
            "create-filter-rule",
            name="rule",
            body=lambda s: {
                "name": "Contract gold tier",
                "is_enabled": True,
                "is_satisfied_for_unauth": False,
                "attribute_conditions": [
                    {"attribute": "tier", "type": "string", "operator": "eq", "value": "gold", "can_be_missing": False}
                ],
                "items": [{"sku": s.id("bundle")}],
            },
            undo="DeleteRule",
        ),
        Step("get-filter-rule-by-id", via="rule.GetRule"),
        Step(
            "update-filter-rule-by-id",
            via="rule.UpdateRule",
            body=lambda s: {
                "name": "Contract gold tier",
                "is_enabled": True,
                "is_satisfied_for_unauth": True,
                "attribute_conditions": [
                    {"attribute": "tier", "type": "string", "operator": "eq", "value": "gold", "can_be_missing": True}
                ],
                "items": [{"sku": s.id("bundle")}],
            },
        ),
        Step("patch-filter-rule-by-id", via="rule.PatchRule", body={"name": "Contract gold tier, patched"}),
        Step("get-filter-rules", pages=True),
        Step("get-all-filter-rules"),
        Step("delete-filter-rule-by-id", via="rule.DeleteRule"),
        Step("get-filter-rule-by-id", via="rule.GetRule", expect=404),
    ),
    user_state=False,
)

VALUE_POINTS = Workflow(
    "reward-chain-value-points-admin",
    (
        Step(
            "admin-create-value-points",
            name="vp",
            body=lambda s: {"sku": s.id("vp"), "name": text("Contract medals"), "is_enabled": True},
            undo="DeleteValuePoint",
        ),
        Step("admin-get-value-point", via="vp.GetValuePoint"),
        Step(
            "admin-update-value-point",
            via="vp.UpdateValuePoint",
            body=lambda s: {"sku": s.id("vp"), "name": text("Contract medals, shiny"), "is_enabled": True},
        ),
        Step("admin-get-value-points-list", pages=True),
        Step(
            "admin-set-items-value-point-reward",
            via="vp.SetItemRewards",
            body=lambda s: [{"sku": s.id("sword"), "amount": 10}, {"sku": s.id("potion"), "amount": 2}],
        ),
        Step(
            "admin-patch-items-value-point-reward",
            via="vp.PatchItemRewards",
            body=lambda s: [{"sku": s.id("potion"), "amount": 0}, {"sku": s.id("bundle"), "amount": 15}],
        ),
        Step("admin-get-items-value-point-reward", via="vp.GetItemRewards"),
        Step(
            "admin-create-reward-chain",
            name="chain",
            body=lambda s: {
                "name": text("Contract medal chain"),
                "periods": [{"date_from": PAST, "date_until": FUTURE}],
                "is_enabled": False,
                "value_point": {"sku": s.id("vp")},
                "steps": [
                    {"name": text("First"), "price": {"amount": 10}, "reward": [{"sku": s.id("potion"), "quantity": 1}]}
                ],
            },
            undo="DeleteRewardChain",
        ),
        Step("admin-get-reward-chain", via="chain.GetRewardChain", name="chain_view"),
        Step(
            "admin-update-reward-chain",
            via="chain.UpdateRewardChain",
            body=lambda s: {
                "name": text("Contract medal chain, renamed"),
                "periods": [{"date_from": PAST, "date_until": FUTURE}],
                "is_enabled": False,
                "value_point": {"sku": s.id("vp")},
                "steps": [
                    {
                        "step_id": s.json("chain_view", "/steps/0/step_id"),
                        "name": text("First"),
                        "price": {"amount": 10},
                        "reward": [{"sku": s.id("potion"), "quantity": 1}],
                    }
                ],
            },
        ),
        Step("admin-toggle-reward-chain", via="chain.ToggleRewardChain"),
        Step("admin-get-reward-chains", pages=True),
        Step("admin-reset-reward-chain", via="chain.ResetRewardChain"),
        Step("admin-delete-reward-chain", via="chain.DeleteRewardChain"),
        Step("admin-get-reward-chain", via="chain.GetRewardChain", expect=404),
        Step("admin-delete-items-value-point-reward", via="vp.DeleteItemRewards"),
        Step("admin-delete-value-point", via="vp.DeleteValuePoint"),
        Step("admin-get-value-point", via="vp.GetValuePoint", expect=404),
    ),
    user_state=False,
)

DAILY_CHAINS_ADMIN = Workflow(
    "daily-chain-admin",
    (
        Step(
            "admin-create-daily-chain",
            name="daily",
            body=lambda s: {
                "name": text("Contract login streak"),
                "is_enabled": False,
                "is_recurrent": True,
                "type": "rolling",
                "date_start": PAST,
                "steps": [
                    {"step_number": 1, "items": [{"sku": s.id("potion"), "quantity": 1}]},
                    {"step_number": 2, "items": [{"sku": s.id("gold"), "quantity": 10}]},
                ],
            },
            undo="DeleteDailyChain",
        ),
        Step("admin-get-daily-chain", via="daily.GetDailyChain", name="daily_view"),
        Step(
            "admin-update-daily-chain",
            via="daily.UpdateDailyChain",
            body=lambda s: {
                "name": text("Contract login streak, longer"),
                "is_enabled": False,
                "is_recurrent": True,
                "type": "rolling",
                "date_start": PAST,
                "steps": [
                    {
                        "step_id": s.json("daily_view", "/steps/0/step_id"),
                        "step_number": 1,
                        "items": [{"sku": s.id("potion"), "quantity": 2}],
                    },
                    {
                        "step_id": s.json("daily_view", "/steps/1/step_id"),
                        "step_number": 2,
                        "items": [{"sku": s.id("gold"), "quantity": 10}],
                    },
                    {"step_id": None, "step_number": 3, "items": [{"sku": s.id("gold"), "quantity": 20}]},
                ],
            },
        ),
        Step("admin-toggle-daily-chain", via="daily.ToggleDailyChain"),
        Step("admin-get-daily-chains", pages=True),
        Step("admin-reset-daily-chain", via="daily.ResetDailyChain"),
        Step("admin-delete-daily-chain", via="daily.DeleteDailyChain"),
        Step("admin-get-daily-chain", via="daily.GetDailyChain", expect=404),
    ),
    user_state=False,
)

OFFER_CHAINS_ADMIN = Workflow(
    "offer-chain-admin",
    (
        Step(
            "admin-create-offer-chain",
            name="offer",
            body=lambda s: {
                "name": text("Contract offers"),
                "date_start": PAST,
                "is_enabled": False,
                "steps": [
                    {"step_number": 1, "is_free": True, "items": [{"sku": s.id("potion"), "quantity": 1}]},
                    {"step_number": 2, "is_free": False, "items": [{"sku": s.id("bundle"), "quantity": 1}]},
                ],
            },
            undo="DeleteOfferChain",
        ),
        Step("admin-get-offer-chain", via="offer.GetOfferChain", name="offer_view"),
        Step(
            "admin-update-offer-chain",
            via="offer.UpdateOfferChain",
            body=lambda s: {
                "name": text("Contract offers, renamed"),
                "date_start": PAST,
                "is_enabled": False,
                "steps": [
                    {
                        "step_id": s.json("offer_view", "/steps/0/step_id"),
                        "step_number": 1,
                        "is_free": True,
                        "items": [{"sku": s.id("potion"), "quantity": 2}],
                    },
                    {
                        "step_id": s.json("offer_view", "/steps/1/step_id"),
                        "step_number": 2,
                        "is_free": False,
                        "items": [{"sku": s.id("bundle"), "quantity": 1}],
                    },
                ],
            },
        ),
        Step("admin-toggle-offer-chain", via="offer.ToggleOfferChain"),
        Step("admin-get-offer-chains", pages=True),
        Step("admin-delete-offer-chain", via="offer.DeleteOfferChain"),
        Step("admin-get-offer-chain", via="offer.GetOfferChain", expect=404),
    ),
    user_state=False,
)

UPSELL = Workflow(
    "upsell",
    (
        Step(
            "post-upsell",
            body=lambda s: {"type": "fixed_list", "is_enabled": False, "items": [s.id("bundle")]},
        ),
        Step(
            "put-upsell",
            body=lambda s: {"type": "fixed_list", "is_enabled": False, "items": [s.id("bundle"), s.id("gold_pack")]},
        ),
        Step("put-upsell-toggle-active-inactive", path={"toggle": "active"}),
        Step("get-upsell-configurations-for-project-admin"),
        Step("get-upsell-for-project-client", pages=True),
    ),
    user_state=False,
)

# ------------------------------------------------------------ codes and redemption


COUPONS = Workflow(
    "promotions-coupons",
    (
        Step(
            "admin-create-coupon",
            name="coupon",
            body=lambda s: {
                "external_id": s.id("coupon"),
                "name": text("Contract welcome gift"),
                "bonus": [{"sku": s.id("gold"), "quantity": 500}],
                "redeem_user_limit": 1,
                "redeem_code_limit": 10,
                "redeem_total_limit": 100,
            },
            undo="DeleteCoupon",
        ),
        Step("get-coupon", via="coupon.GetCoupon"),
        Step(
            "update-coupon-promotion",
            via="coupon.UpdateCoupon",
            body=lambda s: {
                "name": text("Contract welcome gift, bigger"),
                "bonus": [{"sku": s.id("gold"), "quantity": 500}, {"sku": s.id("potion"), "quantity": 1}],
                "redeem_user_limit": 1,
                "redeem_code_limit": 10,
                "redeem_total_limit": 100,
            },
        ),
        Step("activate-coupon", via="coupon.ActivateCoupon"),
        Step(
            "create-coupon-code",
            via="coupon.CreateCouponCode",
            name="code",
            body=lambda s: {"coupon_code": s.code("welcome")},
        ),
        Step("generate-coupon-codes", via="coupon.GenerateCouponCodes", body={"count": 3}),
        Step("get-coupon-codes", via="coupon.GetCouponCodes", pages=True),
        Step("get-coupons", pages=True),
        Step("get-coupon-rewards-by-code", via="code.GetCouponRewardsByCode"),
        Step("verify-promotion-code", via="code.VerifyPromotionCode"),
        Step("get-redeemable-promotion-by-code", via="code.GetRedeemablePromotionByCode"),
        Step("redeem-coupon", via="code.RedeemCoupon"),
        Step(
            "redeem-coupon",
            via="code.RedeemCoupon",
            refused="redemption_limit",
            note="a coupon with redeem_user_limit 1, redeemed a second time by the same user",
        ),
        Step("get-coupon-code-limit", via="coupon.GetCouponCodeLimit"),
        Step("get-coupon-user-limit", via="coupon.GetCouponUserLimit", query=lambda s: {"user_external_id": s.user}),
        Step("deactivate-coupon", via="coupon.DeactivateCoupon"),
        Step("delete-coupon-promotion", via="coupon.DeleteCoupon"),
        Step("get-coupon", via="coupon.GetCoupon", expect=404),
    ),
)

PROMO_CODES = Workflow(
    "promotions-promo-codes",
    (
        Step(
            "create-promo-code",
            name="promo",
            body=lambda s: {
                "external_id": s.id("promo"),
                "name": text("Contract spring sale"),
                "discount": {"percent": "10.00"},
                "redeem_user_limit": 1,
                "redeem_code_limit": 10,
                "redeem_total_limit": 100,
            },
            undo="DeletePromoCode",
        ),
        Step("get-promo-code", via="promo.GetPromoCode"),
        Step(
            "update-promo-code",
            via="promo.UpdatePromoCode",
            body=lambda s: {
                "name": text("Contract spring sale, extended"),
                "discount": {"percent": "15.00"},
                "redeem_user_limit": 1,
                "redeem_code_limit": 10,
                "redeem_total_limit": 100,
            },
        ),
        Step("activate-promo-code", via="promo.ActivatePromoCode"),
        Step(
            "create-promo-code-code",
            via="promo.CreatePromoCodeCode",
            name="code",
            body=lambda s: {"coupon_code": s.code("spring")},
        ),
        Step("generate-promo-code-codes", via="promo.GeneratePromoCodeCodes", body={"count": 3}),
        Step("get-promocode-codes", via="promo.GetPromocodeCodes", pages=True),
        Step("get-promo-codes", pages=True),
        Step("get-promo-code-rewards-by-code", via="code.GetPromoCodeRewardsByCode"),
        Step("cart-fill", name="cart", body=lambda s: {"items": [{"sku": s.id("sword"), "quantity": 1}]}),
        Step(
            "redeem-promo-code",
            name="applied",
            body=lambda s: {"coupon_code": s.code("spring"), "cart": {"id": s.json("cart", "/cart_id")}},
        ),
        Step("remove-cart-promo-code", body=lambda s: {"cart": {"id": s.json("cart", "/cart_id")}}),
        Step("get-promo-code-code-limit", via="promo.GetPromoCodeCodeLimit"),
        Step(
            "get-promo-code-user-limit", via="promo.GetPromoCodeUserLimit", query=lambda s: {"user_external_id": s.user}
        ),
        Step("cart-clear"),
        Step("deactivate-promo-code", via="promo.DeactivatePromoCode"),
        Step("delete-promo-code", via="promo.DeletePromoCode"),
        Step("get-promo-code", via="promo.GetPromoCode", expect=404),
    ),
)

UNIQUE_OFFERS = Workflow(
    "promotions-unique-catalog-offers",
    (
        Step(
            "admin-create-unique-catalog-offer",
            name="offer",
            body=lambda s: {
                "external_id": s.id("offer"),
                "name": text("Contract VIP offer"),
                "items": [s.id("sword")],
                "redeem_user_limit": 1,
                "redeem_code_limit": 10,
            },
            undo="DeleteUniqueCatalogOffer",
        ),
        Step("get-unique-catalog-offer", via="offer.GetUniqueCatalogOffer"),
        Step(
            "update-unique-catalog-offer-promotion",
            via="offer.UpdateUniqueCatalogOffer",
            body=lambda s: {
                "name": text("Contract VIP offer, wider"),
                "items": [s.id("sword"), s.id("bundle")],
                "redeem_user_limit": 1,
                "redeem_code_limit": 10,
            },
        ),
        Step("activate-unique-catalog-offer", via="offer.ActivateUniqueCatalogOffer"),
        Step(
            "create-unique-catalog-offer-code",
            via="offer.CreateUniqueCatalogOfferCode",
            name="code",
            body=lambda s: {"coupon_code": s.code("vip")},
        ),
        Step("generate-unique-catalog-offer-codes", via="offer.GenerateUniqueCatalogOfferCodes", body={"count": 3}),
        Step("get-unique-catalog-offer-codes", via="offer.GetUniqueCatalogOfferCodes", pages=True),
        Step("get-unique-catalog-offers", pages=True),
        Step("get-sellable-items", via="code.GetSellableItemsWithCode"),
        Step("deactivate-unique-catalog-offer", via="offer.DeactivateUniqueCatalogOffer"),
        Step("delete-unique-catalog-offer-promotion", via="offer.DeleteUniqueCatalogOffer"),
        Step("get-unique-catalog-offer", via="offer.GetUniqueCatalogOffer", expect=404),
    ),
)

# ------------------------------------------------------------ the user's store

CATALOG = Workflow(
    "common-catalog",
    (
        Step("get-sellable-items", pages=True),
        Step("get-sellable-items-group", path=lambda s: {"external_id": s.id("group")}, pages=True),
        Step("get-sellable-item-by-sku", path=lambda s: {"sku": s.id("sword")}, name="sellable"),
        Step("get-sellable-item-by-id", path=lambda s: {"item_id": s.json("sellable", "/item_id")}),
    ),
)

ITEM_LIMITS = Workflow(
    "item-user-limits",
    (
        Step(
            "get-user-item-limit",
            path=lambda s: {"item_sku": s.id("potion")},
            query=lambda s: {"user_external_id": s.user},
        ),
        Step(
            "remove-user-item-limit",
            path=lambda s: {"item_sku": s.id("potion")},
            body=lambda s: {**user(s), "available": 1},
        ),
        Step(
            "add-user-item-limit",
            path=lambda s: {"item_sku": s.id("potion")},
            body=lambda s: {**user(s), "available": 1},
        ),
        Step(
            "set-user-item-limit",
            path=lambda s: {"item_sku": s.id("potion")},
            body=lambda s: {**user(s), "available": 2},
        ),
        Step("reset-user-item-limit", path=lambda s: {"item_sku": s.id("potion")}, body=user),
        Step("reset-all-user-items-limit", body=user),
    ),
)

PROMOTION_LIMITS = Workflow(
    "user-limits-admin",
    (
        Step(
            "get-user-promotion-limit",
            path=lambda s: {"promotion_id": s.json("discount", "/promotion_id")},
            query=lambda s: {"user_external_id": s.user},
        ),
        Step(
            "remove-user-promotion-limit",
            path=lambda s: {"promotion_id": s.json("discount", "/promotion_id")},
            body=lambda s: {**user(s), "available": 1},
        ),
        Step(
            "add-user-promotion-limit",
            path=lambda s: {"promotion_id": s.json("discount", "/promotion_id")},
            body=lambda s: {**user(s), "available": 1},
        ),
        Step(
            "set-user-promotion-limit",
            path=lambda s: {"promotion_id": s.json("discount", "/promotion_id")},
            body=lambda s: {**user(s), "available": 2},
        ),
        Step(
            "reset-user-promotion-limit",
            path=lambda s: {"promotion_id": s.json("discount", "/promotion_id")},
            body=user,
        ),
        Step("reset-all-user-promotions-limit", body=user),
    ),
)

CART = Workflow(
    "cart",
    (
        Step("cart-clear"),
        Step("get-user-cart"),
        Step("cart-fill", name="filled", body=lambda s: {"items": [{"sku": s.id("sword"), "quantity": 1}]}),
        Step("put-item", path=lambda s: {"item_sku": s.id("potion")}, body={"quantity": 2}),
        Step("delete-item", path=lambda s: {"item_sku": s.id("potion")}),
        Step("get-cart-by-id", path=lambda s: {"cart_id": s.json("filled", "/cart_id")}),
        Step(
            "cart-fill-by-id",
            name="by_id",
            path=lambda s: {"cart_id": s.json("filled", "/cart_id")},
            body=lambda s: {"items": [{"sku": s.id("bundle"), "quantity": 1}]},
        ),
        Step("put-item-by-cart-id", via="by_id.PutItemByCartId", body={"quantity": 2}),
        Step(
            "delete-item-by-cart-id",
            path=lambda s: {"cart_id": s.json("by_id", "/cart_id"), "item_sku": s.id("bundle")},
        ),
        Step("cart-clear-by-id", path=lambda s: {"cart_id": s.json("by_id", "/cart_id")}),
        Step(
            "admin-cart-fill",
            name="server",
            headers=lambda s: {"x-user-for": s.token},
            body=lambda s: {"currency": "USD", "items": [{"sku": s.id("sword"), "quantity": 1}]},
        ),
        Step(
            "admin-fill-cart-by-id",
            path=lambda s: {"cart_id": s.json("server", "/cart_id")},
            headers=lambda s: {"x-user-for": s.token},
            body=lambda s: {"currency": "USD", "items": [{"sku": s.id("potion"), "quantity": 1}]},
        ),
        Step("cart-clear"),
    ),
)

PAYMENT = Workflow(
    "payment",
    (
        Step("cart-fill", name="cart", body=lambda s: {"items": [{"sku": s.id("sword"), "quantity": 1}]}),
        Step("create-order", via="cart.CreateOrder", name="order", body={"sandbox": True, "currency": "USD"}),
        Step("get-order", via="order.GetOrder"),
        Step("cart-fill", name="cart2", body=lambda s: {"items": [{"sku": s.id("bundle"), "quantity": 1}]}),
        Step("create-order-by-cart-id", via="cart2.CreateOrderByCartId", body={"sandbox": True}),
        Step(
            "create-order-with-item",
            path=lambda s: {"item_sku": s.id("gold_pack")},
            body={"quantity": 1, "sandbox": True, "currency": "USD"},
        ),
        Step(
            "admin-create-payment-token",
            body=lambda s: {
                "sandbox": True,
                "user": {"id": {"value": s.user}, "country": {"value": "US"}},
                "purchase": {"items": [{"sku": s.id("sword"), "quantity": 1}]},
            },
        ),
        Step(
            "admin-order-search",
            body={"limit": 10, "offset": 0, "created_date_from": PAST, "created_date_until": FUTURE},
        ),
    ),
)

FREE_ITEMS = Workflow(
    "free-item",
    (
        Step("cart-fill", name="cart", body=lambda s: {"items": [{"sku": s.id("gift"), "quantity": 1}]}),
        Step("create-free-order", via="cart.CreateFreeOrder", name="order", body={"sandbox": True}),
        Step("get-order", via="order.GetOrder"),
        Step("cart-fill", name="cart2", body=lambda s: {"items": [{"sku": s.id("gift"), "quantity": 1}]}),
        Step(
            "create-free-order-by-cart-id",
            path=lambda s: {"cart_id": s.json("cart2", "/cart_id")},
            body={"sandbox": True},
        ),
        Step("create-free-order-with-item", path=lambda s: {"item_sku": s.id("gift")}, body={"quantity": 1}),
    ),
)


def _wallet_coupon(label: str, quantity: int) -> tuple[Step, ...]:
    """A coupon that gives the user `quantity` of the sandbox's virtual currency, redeemed."""
    return (
        Step(
            "admin-create-coupon",
            name=label,
            body=lambda s: {
                "external_id": s.id(label),
                "name": text("Contract wallet"),
                "bonus": [{"sku": s.id("gold"), "quantity": quantity}],
                "redeem_user_limit": 1,
            },
            undo="DeleteCoupon",
        ),
        Step("activate-coupon", via=f"{label}.ActivateCoupon"),
        Step(
            "create-coupon-code",
            via=f"{label}.CreateCouponCode",
            name=f"{label}_code",
            body=lambda s: {"coupon_code": s.code(label)},
        ),
        Step("redeem-coupon", via=f"{label}_code.RedeemCoupon"),
    )


VIRTUAL_PAYMENT = Workflow(
    "virtual-payment",
    (
        *_wallet_coupon("wallet", 100),
        Step(
            "create-order-with-item-for-virtual-currency",
            name="order",
            path=lambda s: {"item_sku": s.id("sword"), "virtual_currency_sku": s.id("gold")},
            body={},
        ),
        Step("get-order", via="order.GetOrder"),
        Step("delete-coupon-promotion", via="wallet.DeleteCoupon"),
    ),
)

ENTITLEMENTS = Workflow(
    "game-keys-entitlement",
    (
        Step("redeem-game-pin-code", name="redeemed", body=lambda s: {"code": s.code(KEYS[0]), "sandbox": False}),
        Step(
            "redeem-game-pin-code",
            body=lambda s: {"code": s.code(KEYS[0]), "sandbox": False},
            refused="redemption_limit",
            note="a game key code redeemed a second time",
        ),
        Step("get-user-games", via="redeemed.GetUserGames"),
        Step(
            "revoke-entitlement-admin",
            body=lambda s: {
                "user_external_id": s.user,
                "game": {"sku": s.id("game")},
                "drm": {"sku": "drmfree"},
                "mode": "default",
            },
        ),
        Step(
            "grant-entitlement-admin",
            name="granted",
            body=lambda s: {
                "user_external_id": s.user,
                "game": {"sku": s.id("game")},
                "drm": {"sku": "drmfree"},
                "mode": "default",
            },
        ),
        Step(
            "revoke-entitlement-admin",
            body=lambda s: {
                "user_external_id": s.user,
                "game": {"sku": s.id("game")},
                "drm": {"sku": "drmfree"},
                "mode": "default",
            },
        ),
    ),
)

REWARD_CHAINS = Workflow(
    "reward-chain-client",
    (
        Step(
            "admin-create-reward-chain",
            name="chain",
            body=lambda s: {
                "name": text("Contract season"),
                "periods": [{"date_from": PAST, "date_until": FUTURE}],
                "is_enabled": True,
                "value_point": {"sku": s.id("points")},
                "steps": [
                    {
                        "name": text("Tier 1"),
                        "price": {"amount": 100},
                        "reward": [{"sku": s.id("potion"), "quantity": 1}],
                    }
                ],
            },
            undo="DeleteRewardChain",
        ),
        # the gift is free and awards 100 points: the user can claim the first step
        Step("create-free-order-with-item", path=lambda s: {"item_sku": s.id("gift")}, body={"quantity": 1}),
        Step("get-reward-chains-list", pages=True),
        Step("get-user-reward-chain-balance", via="chain.GetUserBalance"),
        Step("admin-get-reward-chain", via="chain.GetRewardChain", name="view"),
        Step("claim-user-reward-chain-step-reward", via="view.ClaimFirstStep"),
        Step(
            "claim-user-reward-chain-step-reward",
            via="view.ClaimFirstStep",
            refused="claim_limit",
            note="a reward chain step claimed a second time",
        ),
        Step("get-user-clan-top-contributors", path=lambda s: {"reward_chain_id": s.json("chain", "/reward_chain_id")}),
        Step("user-clan-update"),
        Step("admin-delete-reward-chain", via="chain.DeleteRewardChain"),
    ),
)

DAILY_CHAINS = Workflow(
    "daily-chain-client",
    (
        Step(
            "admin-create-daily-chain",
            name="daily",
            body=lambda s: {
                "name": text("Contract daily gift"),
                "is_enabled": True,
                "is_recurrent": True,
                "type": "rolling",
                "date_start": PAST,
                "steps": [
                    {"step_number": 1, "items": [{"sku": s.id("potion"), "quantity": 1}]},
                    {"step_number": 2, "items": [{"sku": s.id("gold"), "quantity": 5}]},
                ],
            },
            undo="DeleteDailyChain",
        ),
        Step("get-daily-chains-list", pages=True),
        Step("get-user-daily-chain-by-id", via="daily.GetUserDailyChain"),
        Step("claim-user-daily-chain-step-reward", via="daily.ClaimFirstStep", name="claimed"),
        Step(
            "claim-user-daily-chain-step-reward",
            via="daily.ClaimFirstStep",
            refused="claim_limit",
            note="the same daily step claimed twice",
        ),
        Step("get-order", via="claimed.GetOrder"),
        Step("admin-delete-daily-chain", via="daily.DeleteDailyChain"),
    ),
)

OFFER_CHAINS = Workflow(
    "offer-chain-client",
    (
        Step(
            "admin-create-offer-chain",
            name="offer",
            body=lambda s: {
                "name": text("Contract starter path"),
                "date_start": PAST,
                "is_enabled": True,
                "steps": [
                    {"step_number": 1, "is_free": True, "items": [{"sku": s.id("potion"), "quantity": 1}]},
                    {"step_number": 2, "is_free": False, "items": [{"sku": s.id("bundle"), "quantity": 1}]},
                ],
            },
            undo="DeleteOfferChain",
        ),
        Step("get-offer-chains-list", pages=True),
        Step("get-user-offer-chain-by-id", via="offer.GetUserOfferChain"),
        Step("claim-user-offer-chain-step-reward", via="offer.ClaimFirstStep", name="claimed"),
        Step(
            "claim-user-offer-chain-step-reward",
            via="offer.ClaimFirstStep",
            refused="claim_limit",
            note="a free offer chain step claimed a second time",
        ),
        Step(
            "order-user-offer-chain-step-reward",
            path=lambda s: {"offer_chain_id": s.json("offer", "/offer_chain_id"), "step_number": 2},
        ),
        Step("admin-delete-offer-chain", via="offer.DeleteOfferChain"),
    ),
)

# The order matters only where the user's state carries over (the wallet coupon, carts).
WORKFLOWS: tuple[Workflow, ...] = (
    SANDBOX,
    GROUPS,
    ATTRIBUTES,
    REGIONS,
    VIRTUAL_ITEMS,
    BUNDLES,
    GAMES,
    DISCOUNTS,
    BONUSES,
    FILTER_RULES,
    VALUE_POINTS,
    DAILY_CHAINS_ADMIN,
    OFFER_CHAINS_ADMIN,
    UPSELL,
    CATALOG,
    COUPONS,
    PROMO_CODES,
    UNIQUE_OFFERS,
    CART,
    PAYMENT,
    FREE_ITEMS,
    ITEM_LIMITS,
    PROMOTION_LIMITS,
    VIRTUAL_PAYMENT,
    ENTITLEMENTS,
    REWARD_CHAINS,
    DAILY_CHAINS,
    OFFER_CHAINS,
)
