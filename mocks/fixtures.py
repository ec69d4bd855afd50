"""Start states of the mock: a fixtures file of the user's own, or a generated project.

A fixtures file (YAML or JSON) lists request bodies of the admin create calls by
section (`SECTIONS`, in the order they are loaded), with `project_id`, `balances` and
`webhooks` (url, secret or secret_env, mode, user_validation) beside them; keys starting
with `_` are loading instructions (`_active`, `_codes`, `_generate`, `_keys`, `_rewards`,
`_values`), not fields. docs/fixtures.md describes the
format (its table of sections is generated from `SECTIONS`) and
examples/fixtures/store.yaml uses all of it.

Every body goes through the same operation a client would call (validated against
the spec), so fixtures and API-created data are indistinguishable.

`generate_project(seed)` makes such a structure with faker: a realistic store of a
few dozen items, currencies, packages, bundles, games with keys, promotions and
chains. The same seed gives the same data.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from faker import Faker

from .rules import inventory

if TYPE_CHECKING:
    from .engine import Engine

# section -> (create operation, path parameter naming the created record, record id field in the body/answer)
SECTIONS: list[tuple[str, str]] = [
    ("groups", "admin-create-item-group"),
    ("regions", "admin-create-region"),
    ("attributes", "admin-create-attribute"),
    ("virtual_currencies", "admin-create-virtual-currency"),
    ("virtual_items", "admin-create-virtual-item"),
    ("currency_packages", "admin-create-virtual-currency-package"),
    ("bundles", "admin-create-bundle"),
    ("games", "admin-create-game"),
    ("value_points", "admin-create-value-points"),
    ("discounts", "create-item-promotion"),
    ("bonuses", "create-bonus-promotion"),
    ("coupons", "admin-create-coupon"),
    ("promo_codes", "create-promo-code"),
    ("unique_offers", "admin-create-unique-catalog-offer"),
    ("filter_rules", "create-filter-rule"),
    ("reward_chains", "admin-create-reward-chain"),
    ("daily_chains", "admin-create-daily-chain"),
    ("offer_chains", "admin-create-offer-chain"),
    ("upsell", "post-upsell"),
]

# Follow-up calls: (section, instruction) -> (operation, path params from the created record, body builder)
_CODE_OPS = {
    "coupons": ("coupon", "activate-coupon"),
    "promo_codes": ("promo-code", "activate-promo-code"),
    "unique_offers": ("unique-catalog-offer", "activate-unique-catalog-offer"),
}


class FixtureError(ValueError):
    """A fixture entry the API refused; says which entry and why."""


def read_fixtures(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise FixtureError(f"{path}: a fixtures file is a mapping of sections (groups, virtual_items, ...)")
    unknown = set(data) - {s for s, _ in SECTIONS} - {"project_id", "balances", "webhooks"}
    if unknown:
        raise FixtureError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(s for s, _ in SECTIONS)}, balances, webhooks, project_id"
        )
    return dict(data)


class _Loader:
    def __init__(self, engine: Engine, project_id: int):
        self.engine = engine
        self.project = project_id
        raw = f"{project_id}:{engine.config.api_key or 'fixtures'}".encode()
        self.headers = {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def call(
        self,
        where: str,
        operation_id: str,
        body: Any = None,
        path: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        params = {"project_id": self.project, **(path or {})}
        if raw is not None:
            op = self.engine.spec.operation(operation_id)
            url = op.path
            for k, v in params.items():
                url = url.replace("{" + k + "}", str(v))
            from ..toolkit.validation import HttpRequest

            boundary = "xsolla-contract-fixture"
            answer = self.engine.handle(
                HttpRequest(
                    op.method,
                    url,
                    [],
                    {
                        **{k.lower(): v for k, v in self.headers.items()},
                        "content-type": f"multipart/form-data; boundary={boundary}",
                    },
                    raw,
                )
            )
        else:
            answer = self.engine.call(operation_id, path=params, body=body, headers={**self.headers, **(headers or {})})
        if answer.status >= 400:
            raise FixtureError(f"{where}: {operation_id} refused it ({answer.status}): {answer.body.decode()[:500]}")
        return (
            json.loads(answer.body)
            if answer.body and answer.headers.get("content-type") == "application/json"
            else None
        )

    def load(self, data: Mapping[str, Any]) -> None:
        for section, operation_id in SECTIONS:
            entries = data.get(section) or []
            if isinstance(entries, Mapping):
                entries = [entries]
            for index, entry in enumerate(entries):
                where = f"{section}[{index}]"
                body = {k: v for k, v in entry.items() if not k.startswith("_")}
                created = self.call(where, operation_id, body) or {}
                self.follow_up(where, section, entry, body, created)
        for user, items in (data.get("balances") or {}).items():
            for sku, quantity in items.items():
                self.engine.run(self.project, lambda ctx, s=sku, q=quantity, u=user: inventory.grant(ctx, s, q, u))

    def follow_up(
        self, where: str, section: str, entry: Mapping[str, Any], body: Mapping[str, Any], created: Mapping[str, Any]
    ) -> None:
        if section == "attributes":
            for value in entry.get("_values") or []:
                self.call(where, "admin-create-attribute-value", value, {"external_id": body["external_id"]})
        if section in _CODE_OPS:
            name, activate = _CODE_OPS[section]
            ext = {"external_id": body["external_id"]}
            for code in entry.get("_codes") or []:
                field = {"coupons": "coupon_code", "promo_codes": "coupon_code"}.get(section, "coupon_code")
                self.call(where, f"create-{name}-code", {field: code}, ext)
            if entry.get("_generate"):
                self.call(where, f"generate-{name}-codes", {"count": int(entry["_generate"])}, ext)
            if entry.get("_active"):
                self.call(where, activate, None, ext)
        if section in ("discounts", "bonuses") and entry.get("_active"):
            self.call(where, "activate-promotion", None, {"promotion_id": created["promotion_id"]})
        if section == "value_points" and entry.get("_rewards"):
            rewards = [{"sku": sku, "amount": amount} for sku, amount in entry["_rewards"].items()]
            self.call(where, "admin-set-items-value-point-reward", rewards, {"value_point_sku": body["sku"]})
        if section == "games":
            for key_sku, codes in (entry.get("_keys") or {}).items():
                boundary = "xsolla-contract-fixture"
                raw = (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="keys.txt"\r\n'
                    f"Content-Type: text/plain\r\n\r\n" + "\n".join(codes) + f"\r\n--{boundary}--\r\n"
                ).encode()
                self.call(where, "admin-upload-codes-by-sku", None, {"item_sku": key_sku}, raw=raw)
        if section == "upsell" and entry.get("_active"):
            self.call(
                where, "put-upsell-toggle-active-inactive", None, {"toggle": "active"}, headers=self.user_headers()
            )

    def user_headers(self) -> dict[str, str]:
        from .auth import mint_token

        token = mint_token("fixtures-admin", project=self.project, secret=self.engine.config.jwt_secret)
        return {"Authorization": f"Bearer {token}"}

    def user_call(self, where: str, operation_id: str, body: Any, path: Mapping[str, Any] | None = None) -> Any:
        return self.call(where, operation_id, body, path, headers=self.user_headers())


def load_fixtures(engine: Engine, data: Mapping[str, Any]) -> None:
    """Load a fixtures structure (see the module docstring) through the API's own operations."""
    loader = _Loader(engine, int(data.get("project_id") or engine.config.project_id))
    if data.get("webhooks") is not None:
        from .webhooks import configure_from_fixtures

        try:
            configure_from_fixtures(engine, loader.project, data["webhooks"])
        except ValueError as exc:
            raise FixtureError(f"webhooks: {exc}") from None
    if "upsell" in data:  # upsell's admin calls authenticate users, not API keys
        data = dict(data)
        upsell = data.pop("upsell")
        loader.load(data)
        entries = upsell if isinstance(upsell, list) else [upsell]
        for index, entry in enumerate(entries):
            body = {k: v for k, v in entry.items() if not k.startswith("_")}
            loader.user_call(f"upsell[{index}]", "post-upsell", body)
            loader.follow_up(f"upsell[{index}]", "upsell", entry, body, {})
        return
    loader.load(data)


def seed_project(engine: Engine, seed: int) -> None:
    load_fixtures(engine, generate_project(seed, engine.config.project_id))


# ---------------------------------------------------------------- generation

_ADJECTIVES = [
    "Ancient",
    "Blazing",
    "Frozen",
    "Shadow",
    "Golden",
    "Crimson",
    "Storm",
    "Iron",
    "Mystic",
    "Royal",
    "Savage",
    "Silent",
    "Obsidian",
    "Radiant",
    "Venom",
    "Thunder",
]
_WEAPONS = ["Sword", "Axe", "Bow", "Dagger", "Hammer", "Spear", "Staff", "Crossbow"]
_ARMOR = ["Helmet", "Shield", "Cloak", "Gauntlets", "Boots", "Breastplate"]
_CONSUMABLES = ["Health Potion", "Mana Elixir", "Speed Scroll", "XP Booster", "Revive Token", "Lucky Charm"]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def generate_project(seed: int, project_id: int = 44056) -> dict[str, Any]:
    """A realistic store, the same for the same seed."""
    fake = Faker()
    fake.seed_instance(seed)
    rng = random.Random(seed)

    def localized(en: str) -> dict[str, str]:
        return {"en": en, "de": f"{en} (DE)"}

    def price(low: float, high: float) -> list[dict[str, Any]]:
        usd = round(rng.uniform(low, high), 2)
        return [
            {"amount": usd, "currency": "USD", "is_default": True, "is_enabled": True},
            {
                "amount": round(usd * 0.93, 2),
                "currency": "EUR",
                "country_iso": "DE",
                "is_default": False,
                "is_enabled": True,
            },
        ]

    groups = [
        {"external_id": ext, "name": localized(title), "order": n, "is_enabled": True}
        for n, (ext, title) in enumerate(
            [
                ("weapons", "Weapons"),
                ("armor", "Armor"),
                ("consumables", "Consumables"),
                ("currency", "Currency"),
                ("bundles", "Bundles"),
                ("games", "Games"),
            ],
            1,
        )
    ]
    data: dict[str, Any] = {"project_id": project_id, "groups": groups}
    data["regions"] = [
        {"name": localized("North America"), "countries": ["US", "CA", "MX"]},
        {"name": localized("Europe"), "countries": ["DE", "FR", "GB", "ES", "IT", "PL"]},
    ]
    data["attributes"] = [
        {
            "external_id": "rarity",
            "name": localized("Rarity"),
            "_values": [
                {"external_id": v, "value": localized(v.title())} for v in ("common", "rare", "epic", "legendary")
            ],
        }
    ]
    data["virtual_currencies"] = [
        {
            "sku": "gold",
            "name": localized("Gold"),
            "description": localized("The main currency of the realm."),
            "groups": ["currency"],
            "is_hard": True,
            "order": 1,
            "prices": price(0.99, 0.99),
        },
        {
            "sku": "crystals",
            "name": localized("Crystals"),
            "description": localized("Rare crystals for premium goods."),
            "groups": ["currency"],
            "is_hard": False,
            "order": 2,
            "prices": price(1.99, 1.99),
        },
    ]
    items: list[dict[str, Any]] = []
    names: set[str] = set()
    for n in range(24):
        kind = (
            ("weapons", _WEAPONS) if n % 3 == 0 else ("armor", _ARMOR) if n % 3 == 1 else ("consumables", _CONSUMABLES)
        )
        while True:
            title = f"{rng.choice(_ADJECTIVES)} {rng.choice(kind[1])}"
            if title not in names:
                names.add(title)
                break
        item: dict[str, Any] = {
            "sku": _slug(title),
            "name": localized(title),
            "description": localized(fake.sentence(nb_words=10)),
            "image_url": f"https://cdn.example.com/store/{_slug(title)}.png",
            "groups": [kind[0]],
            "order": n + 1,
            "prices": price(0.99, 19.99),
            "vc_prices": [
                {"sku": "gold", "amount": rng.randrange(50, 500, 10), "is_default": True, "is_enabled": True}
            ],
            "virtual_item_type": "consumable" if kind[0] == "consumables" else "non_consumable",
            "attributes": [
                {
                    "external_id": "rarity",
                    "name": {"en": "Rarity"},
                    "values": [
                        {"external_id": r, "value": {"en": r.title()}}
                        for r in [rng.choice(["common", "rare", "epic", "legendary"])]
                    ],
                }
            ],
            "is_enabled": True,
            "is_show_in_store": True,
        }
        if n % 7 == 3:
            item["limits"] = {
                "per_user": {"total": 1, "limit_exceeded_visibility": "show"},
                "recurrent_schedule": {"per_user": {"interval_type": "daily", "time": "00:00:00+00:00"}},
            }
        if n == 20:
            item["is_show_in_store"] = False  # sold only through promotions and bundles
        items.append(item)
    data["virtual_items"] = items
    data["currency_packages"] = [
        {
            "sku": f"gold_{qty}",
            "name": localized(f"{qty} Gold"),
            "description": localized(f"A chest of {qty} gold."),
            "groups": ["currency"],
            "order": n,
            "content": [{"sku": "gold", "quantity": qty}],
            "prices": price(usd, usd),
        }
        for n, (qty, usd) in enumerate([(100, 0.99), (550, 4.99), (1200, 9.99)], 1)
    ]
    bundles = []
    for n in range(4):
        parts = rng.sample(items[:18], 3)
        bundles.append(
            {
                "sku": f"bundle_{n + 1}",
                "name": localized(f"{rng.choice(_ADJECTIVES)} Bundle"),
                "description": localized(fake.sentence(nb_words=8)),
                "groups": ["bundles"],
                "order": n + 1,
                "bundle_type": "standard",
                "prices": price(9.99, 29.99),
                "content": [{"sku": p["sku"], "quantity": rng.randint(1, 3)} for p in parts],
            }
        )
    data["bundles"] = bundles
    data["games"] = []
    for n, title in enumerate(["Starfall Odyssey", "Dungeon Harvest"], 1):
        sku = _slug(title)
        data["games"].append(
            {
                "sku": sku,
                "name": localized(title),
                "description": localized(fake.sentence(nb_words=12)),
                "groups": [{"external_id": "games"}],
                "order": n,
                "unit_items": [
                    {
                        "sku": f"{sku}_{drm}",
                        "name": localized(f"{title} ({label})"),
                        "drm_sku": drm,
                        "prices": price(14.99, 39.99),
                        "is_enabled": True,
                        "is_show_in_store": True,
                    }
                    for drm, label in (("steam", "Steam"), ("drmfree", "DRM-free"))
                ],
                "_keys": {
                    f"{sku}_{drm}": [fake.bothify("?????-?????-?????").upper() for _ in range(10)]
                    for drm in ("steam", "drmfree")
                },
            }
        )
    featured = [i["sku"] for i in items[:3]]
    data["value_points"] = [
        {
            "sku": "glory_points",
            "name": localized("Glory Points"),
            "description": localized("Earned with every weapon purchase."),
            "is_enabled": True,
            "_rewards": {i["sku"]: rng.randint(5, 30) for i in items if "weapons" in i["groups"]},
        }
    ]
    data["discounts"] = [
        {
            "name": localized("Weekend sale"),
            "discount": {"percent": "20.00"},
            "items": [{"sku": s} for s in featured],
            "_active": True,
        }
    ]
    data["bonuses"] = [
        {
            "name": localized("Gold pack bonus"),
            "condition": [{"sku": "gold_550"}],
            "bonus": [{"sku": items[2]["sku"], "quantity": 1}],
            "_active": True,
        }
    ]
    data["coupons"] = [
        {
            "external_id": "welcome",
            "name": localized("Welcome gift"),
            "bonus": [{"sku": items[5]["sku"], "quantity": 1}, {"sku": "gold", "quantity": 100}],
            "redeem_user_limit": 1,
            "redeem_code_limit": 100,
            "redeem_total_limit": 1000,
            "_codes": ["WELCOME2026"],
            "_generate": 5,
            "_active": True,
        }
    ]
    data["promo_codes"] = [
        {
            "external_id": "spring_sale",
            "name": localized("Spring sale"),
            "discount": {"percent": "10.00"},
            "redeem_user_limit": 1,
            "redeem_total_limit": 500,
            "_codes": ["SPRING10"],
            "_active": True,
        }
    ]
    data["unique_offers"] = [
        {
            "external_id": "vip_armory",
            "name": localized("VIP armory"),
            "items": [items[20]["sku"]],
            "redeem_user_limit": 1,
            "redeem_code_limit": 100,
            "_codes": ["VIPARMORY"],
            "_active": True,
        }
    ]
    data["filter_rules"] = [
        {
            "name": "Gold tier exclusive",
            "is_enabled": True,
            "is_satisfied_for_unauth": False,
            "attribute_conditions": [
                {"attribute": "tier", "type": "string", "operator": "eq", "value": "gold", "can_be_missing": False}
            ],
            "items": [{"sku": items[23]["sku"]}],
        }
    ]
    data["reward_chains"] = [
        {
            "name": localized("Arena season"),
            "description": localized("Earn glory points, claim rewards."),
            "periods": [{"date_from": "2026-01-01T00:00:00+00:00", "date_until": None}],
            "is_enabled": True,
            "value_point": {"sku": "glory_points"},
            "order": 1,
            "steps": [
                {
                    "name": localized(f"Tier {n}"),
                    "price": {"amount": 20 * n},
                    "reward": [{"sku": items[n]["sku"], "quantity": 1}],
                }
                for n in range(1, 4)
            ],
        }
    ]
    data["daily_chains"] = [
        {
            "name": localized("Daily login"),
            "description": localized("Log in every day for a reward."),
            "is_enabled": True,
            "is_recurrent": True,
            "type": "rolling",
            "date_start": "2026-01-01T00:00:00+00:00",
            "order": 1,
            "steps": [{"step_number": n, "items": [{"sku": "gold", "quantity": 10 * n}]} for n in range(1, 8)],
        }
    ]
    data["offer_chains"] = [
        {
            "name": localized("Starter path"),
            "description": localized("Three offers for new heroes."),
            "date_start": "2026-01-01T00:00:00+00:00",
            "is_enabled": True,
            "order": 1,
            "steps": [
                {"step_number": 1, "is_free": True, "items": [{"sku": "gold", "quantity": 50}]},
                {"step_number": 2, "is_free": False, "items": [{"sku": "bundle_1", "quantity": 1}]},
                {"step_number": 3, "is_free": True, "items": [{"sku": items[8]["sku"], "quantity": 1}]},
            ],
        }
    ]
    data["upsell"] = {"type": "fixed_list", "is_enabled": True, "items": ["gold_1200", "bundle_2"], "_active": True}
    return data
