"""Codes of coupons, promo codes and unique catalog offers: adding and
generating them, redeeming them, what they give, and their redemption limits.

A code is a record of kind `code` keyed by the (case-sensitive) code:
{code, kind: coupon|promo_code|unique_offer, external_id, promotion_id, used,
reserved}. Codes are unique in the project across the three kinds; a code whose
promotion was deleted is free to be added again.

A code can be used when its promotion is enabled (promotions start disabled),
inside its dates or periods, its attribute conditions hold for the user, and
none of its caps is reached: `redeem_code_limit` (uses of the code),
`redeem_total_limit` (uses of all the promotion's codes, the `used` counters
the admin views sum up) and `redeem_user_limit` (the user's `promotion_use`
counter of the promotion, which the per-user limit calls also read and change).
Each refusal answers with the errorCode the operation documents.

A unique-offer code the user enters unlocks the offer's items in the catalog:
it is remembered in kind `entered_offer` ({"offers": [external_id, ...]} per
user), which `visibility.unique_offer_allows` reads.

`usable_code`, `redeem` and `enter_offer` are the rules cart and order calls
share when they apply a code.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..clock import iso, parse_datetime
from ..context import JSON, USER_SUMMARIES, Reply
from ..resources import page_window, paged_reply
from ..rules import conditions, inventory, item_views, items, limits, promotions
from .limits import fail_documented, promotion_limit, require_user
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx

TYPE_NAMES = {"coupon": "coupon", "promo_code": "promocode", "unique_offer": "unique_catalog_offer"}
CODE_ALPHABET = string.ascii_uppercase + string.digits

NOT_FOUND = ((404, 9811, "[0401-9811]: Code not found."), (404, 9802, "[0401-9802]: Coupon not found"))
REFUSALS = {
    "missing": NOT_FOUND,
    "expired": ((422, 9810, "[0401-9810]: Sorry, this code is expired."), *NOT_FOUND),
    "not_for_user": ((422, 9808, "[0401-9808]: Coupon is not available in your region."), *NOT_FOUND),
    "limit": ((422, 9804, "[0401-9804]: You have reached the coupon redemption limit."), *NOT_FOUND),
}


# ------------------------------------------------------------------- codes


def _kind(ctx: Ctx) -> str:
    """The promotion kind an admin code operation is about."""
    op = ctx.op.operation_id
    return "unique_offer" if "unique" in op else "promo_code" if "promo" in op else "coupon"


def live_code(ctx: Ctx, code: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A code and its promotion (`_kind` set), when the promotion still exists."""
    record = promotions.code_record(ctx, code)
    promo = record and ctx.get(record["kind"], record["external_id"])
    return (record, {**promo, "_kind": record["kind"]}) if promo else None


def add_code(ctx: Ctx, kind: str, promo: Mapping[str, Any], code: str) -> None:
    if live_code(ctx, code) is not None:
        ctx.fail(422, 9803, "[0401-9803]: The code already exists.")
    ctx.put(
        "code",
        code,
        {
            "code": code,
            "kind": kind,
            "external_id": promo["external_id"],
            "promotion_id": promo.get("promotion_id"),
            "used": 0,
            "reserved": 0,
            "created": iso(ctx.now),
        },
    )


@hook("create-coupon-code", "create-promo-code-code", "create-unique-catalog-offer-code")
def create_code(ctx: Ctx) -> Reply:
    """Add one code of the admin's choice (unique in the project) to a promotion."""
    kind = _kind(ctx)
    promo = ctx.resource(kind).find(ctx)
    code = (ctx.body or {}).get("coupon_code")
    if not code:
        ctx.fail(
            422,
            1102,
            "[0401-1102]: Unprocessable Entity. The property `coupon_code` is required",
            [{"property": "body.coupon_code", "message": "'coupon_code' is a required property"}],
        )
    add_code(ctx, kind, promo, code)
    return ctx.reply({"code": code})


@hook("generate-coupon-codes", "generate-promo-code-codes", "generate-unique-catalog-offer-codes")
def generate_codes(ctx: Ctx) -> Reply:
    """Add `count` random codes (upper-case letters and digits) to a promotion."""
    kind = _kind(ctx)
    promo = ctx.resource(kind).find(ctx)
    count = int(ctx.body["count"])
    made = 0
    while made < count:
        code = ctx.faker.lexify("?" * 12, letters=CODE_ALPHABET)
        if live_code(ctx, code) is None:
            add_code(ctx, kind, promo, code)
            made += 1
    return ctx.reply({"count": count})


@hook("get-coupon-codes", "get-promocode-codes", "get-unique-catalog-offer-codes")
def list_codes(ctx: Ctx) -> Reply:
    """A page of a promotion's codes, in the order they were added."""
    kind = _kind(ctx)
    promo = ctx.resource(kind).find(ctx)
    offset, limit = page_window(ctx)
    page = promotions.codes_of(ctx, kind, promo["external_id"], offset=offset, limit=limit)
    total = promotions.code_count(ctx, kind, promo["external_id"])
    return paged_reply(ctx, [{"code": c["code"]} for c in page], total=total, offset=offset)


# ------------------------------------------------------------ usage rules


def _ended(now: datetime, promo: Mapping[str, Any]) -> bool:
    """Over for good: every period (or the date range) ended before `now`."""
    periods = promo.get("promotion_periods") or promo.get("periods")
    ends = [p.get("date_until") for p in periods] if periods else [promo.get("date_end")]
    return all(parse_datetime(end) is not None and parse_datetime(end) <= now for end in ends)


def within_limits(ctx: Ctx, record: Mapping[str, Any], promo: Mapping[str, Any], user: str) -> bool:
    """Below the code's, the promotion's total and the user's redemption caps."""
    code_cap, total_cap = promo.get("redeem_code_limit"), promo.get("redeem_total_limit")
    if code_cap is not None and int(record.get("used", 0)) + int(record.get("reserved", 0)) >= code_cap:
        return False
    if total_cap is not None and promotions.code_uses(ctx, record["kind"], record["external_id"]) >= total_cap:
        return False
    limit = promotion_limit(promo)
    return limit is None or limit.available(ctx, user) > 0


def usable_code(
    ctx: Ctx, code: str, kinds: tuple[str, ...], user: str | None, check_limits: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The code and its promotion when `user` may use it now; else the operation's documented refusal."""
    found = live_code(ctx, code)
    if found is None or found[0]["kind"] not in kinds or not found[1].get("is_enabled"):
        fail_documented(ctx, *REFUSALS["missing"])
    record, promo = found
    if not promotions.in_time(ctx.now, promo):
        fail_documented(ctx, *REFUSALS["expired" if _ended(ctx.now, promo) else "missing"])
    if not conditions.hold(promo.get("attribute_conditions"), ctx.principal.attributes):
        fail_documented(ctx, *REFUSALS["not_for_user"])
    if check_limits and user is not None and not within_limits(ctx, record, promo, user):
        fail_documented(ctx, *REFUSALS["limit"])
    return record, promo


def redeem(ctx: Ctx, record: dict[str, Any], promo: Mapping[str, Any], user: str) -> None:
    """Count one use of the code: its `used` counter and the user's use of the promotion."""
    promotions.use_code(ctx, record)
    limits.record_use(ctx, "promotion_use", str(promo.get("promotion_id")), user)


def enter_offer(ctx: Ctx, external_id: str, user: str) -> None:
    """Remember that the user entered a code of a unique catalog offer (unlocks its items)."""
    state = ctx.get("entered_offer", user) or {"offers": []}
    if external_id not in state["offers"]:
        state["offers"].append(external_id)
        ctx.put("entered_offer", user, state)


def _entered_offers(ctx: Ctx, user: str) -> list[str]:
    return (ctx.get("entered_offer", user) or {"offers": []})["offers"]


USER_SUMMARIES["entered_offers"] = _entered_offers


# ---------------------------------------------------------------- rewards


def _unit_refs(ctx: Ctx, game: Mapping[str, Any]) -> list[dict[str, Any]]:
    refs = []
    for unit in game.get("unit_items") or []:
        ref = {
            "sku": unit.get("sku"),
            "type": "game_key",
            "name": items.text(unit.get("name"), ctx.locale),
            "is_free": bool(unit.get("is_free")),
            "drm_name": unit.get("drm_name"),
            "drm_sku": unit.get("drm_sku"),
        }
        refs.append({k: v for k, v in ref.items() if v is not None})
    return refs


def _item_ref(ctx: Ctx, sku: str) -> dict[str, Any]:
    """An item as reward lists show it (a game with its keys)."""
    record = items.find(ctx, sku) or {"sku": sku}
    view = {
        k: record[k]
        for k in ("sku", "name", "type", "description", "image_url", "bundle_type", "inventory_options")
        if record.get(k) is not None
    }
    if record.get("content"):
        view["content"] = [{"sku": c["sku"], "quantity": c.get("quantity", 1)} for c in record["content"]]
    if record.get("type") == "unit":
        view["unit_items"] = _unit_refs(ctx, record)
    return view


def rewards(ctx: Ctx, kind: str, promo: Mapping[str, Any]) -> dict[str, Any]:
    """What a code gives: bonus items, a cart discount, discounted items (promo codes)."""
    bonus = [
        {"item": _item_ref(ctx, b["sku"]), "quantity": b.get("quantity", 1)}
        for b in promo.get("bonus") or []
        if b.get("sku")
    ]
    out = {
        "bonus": bonus,
        "is_selectable": any(b["item"].get("type") == "unit" for b in bonus),
        "discount": promo.get("discount"),
    }
    if kind == "promo_code":
        out["discounted_items"] = [
            {**_item_ref(ctx, d["sku"]), "discount": d.get("discount")} for d in promo.get("discounted_items") or []
        ] or None
    return out


def _verify_reply(ctx: Ctx, data: dict[str, Any]) -> Reply:
    """Reply with the rewards rendered by the schema of their own shape.

    `rewards` is a coupon's or a promo code's (anyOf); the shaper would take the
    first variant the value fits and so drop a promo code's `discounted_items`.
    """
    shaper = ctx.engine.shaper
    variants = shaper.merged(ctx.op.response_schema(200))["properties"]["rewards"]["anyOf"]
    wanted = "discounted_items" in data["rewards"]
    variant = next(v for v in variants if ("discounted_items" in shaper.merged(v)["properties"]) == wanted)
    body = ctx.reply(data).body
    body["rewards"] = shaper.render(variant, data["rewards"], ctx.locale)
    return Reply(200, body, {"content-type": JSON})


def _granted(ctx: Ctx, promo: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(SKU, quantity) the promotion's bonus grants; a game grants the key the user selected."""
    selected = (ctx.body or {}).get("selected_unit_items") or {}
    out = []
    for entry in (b for b in promo.get("bonus") or [] if b.get("sku")):
        sku, record = entry["sku"], items.find(ctx, entry["sku"]) or {}
        if record.get("type") == "unit":
            keys = [u["sku"] for u in record.get("unit_items") or []]
            sku = selected.get(sku) or (keys[0] if len(keys) == 1 else None)
            if sku not in keys:
                ctx.fail(
                    422,
                    1102,
                    "[0401-1102]: Unprocessable Entity. Select a unit item of "
                    f"{entry['sku']!r} in `selected_unit_items`",
                    [{"property": "body.selected_unit_items", "message": f"one of {keys}"}],
                )
        out.append((sku, entry.get("quantity", 1)))
    return out


# ------------------------------------------------------------ client calls


@hook("redeem-coupon")
def redeem_coupon(ctx: Ctx) -> Reply:
    """Redeem a coupon code: count the use and grant the bonus items, which the answer lists."""
    user = ctx.user_id
    record, promo = usable_code(ctx, ctx.body["coupon_code"], ("coupon",), user)
    granted = _granted(ctx, promo)
    redeem(ctx, record, promo, user)
    shown = []
    for sku, quantity in granted:
        inventory.grant(ctx, sku, quantity, user)
        item = items.find(ctx, sku)
        view = item_views.catalog_item_view(ctx, item, user=user) if item else {"sku": sku}
        if view.get("image_url") is None:  # not nullable: the shaper would invent one
            view.pop("image_url", None)
        shown.append({**view, "quantity": quantity})
    return ctx.reply({"items": shown})


@hook("get-coupon-rewards-by-code", "get-promo-code-rewards-by-code")
def rewards_by_code(ctx: Ctx) -> Reply:
    """What an active code would give the user."""
    kind = "coupon" if "coupon_code" in ctx.path else "promo_code"
    code = ctx.path.get("coupon_code") or ctx.path["promocode_code"]
    _, promo = usable_code(ctx, code, (kind,), None, check_limits=False)
    return ctx.reply(rewards(ctx, kind, promo))


@hook("verify-promotion-code")
def verify_code(ctx: Ctx) -> Reply:
    """Whether the user may apply the code now, its kind and rewards; a unique-offer code is entered."""
    user = ctx.user_id
    record, promo = usable_code(ctx, ctx.path["code"], promotions.CODE_KINDS, user)
    if record["kind"] == "unique_offer":
        enter_offer(ctx, record["external_id"], user)
    return _verify_reply(
        ctx,
        {"type": TYPE_NAMES[record["kind"]], "code": record["code"], "rewards": rewards(ctx, record["kind"], promo)},
    )


@hook("get-redeemable-promotion-by-code")
def redeemable_promotion(ctx: Ctx) -> Reply:
    """The coupon or promo-code promotion a code belongs to, as admin calls show it."""
    found = live_code(ctx, ctx.path["code"])
    if found is None or found[0]["kind"] not in ("coupon", "promo_code"):
        fail_documented(ctx, *NOT_FOUND)
    record, promo = found
    stored = {k: v for k, v in promo.items() if k != "_kind"}
    return ctx.reply(ctx.resource(record["kind"]).to_view(ctx, stored))


# ------------------------------------------------------------- admin limits


@hook("get-coupon-code-limit", "get-promo-code-code-limit")
def code_limits(ctx: Ctx) -> Reply:
    """Per code (optionally only `codes`): uses made and held, with `redeem_code_limit` as total and
    what is left of it when the promotion caps its codes."""
    kind = _kind(ctx)
    promo = ctx.resource(kind).find(ctx)
    wanted = set(ctx.query.get("codes") or [])
    cap = promo.get("redeem_code_limit")
    offset, limit = page_window(ctx)
    if wanted:  # the codes asked for, in the order they were added
        mine = [c for c in promotions.codes_of(ctx, kind, promo["external_id"]) if c["code"] in wanted]
        total, page = len(mine), mine[offset : None if limit is None else offset + limit]
    else:
        total = promotions.code_count(ctx, kind, promo["external_id"])
        page = promotions.codes_of(ctx, kind, promo["external_id"], offset=offset, limit=limit)
    rows = []
    for code in page:
        used, reserved = int(code.get("used", 0)), int(code.get("reserved", 0))
        state = {"used": used, "reserved": reserved}
        if cap is not None:
            state.update(total=cap, available=max(0, cap - used - reserved))
        rows.append({"code": code["code"], "per_code": state})
    return paged_reply(ctx, rows, total=total, offset=offset, extra={"promotion_id": promo.get("promotion_id")})


@hook("get-coupon-user-limit", "get-promo-code-user-limit")
def code_user_limit(ctx: Ctx) -> Reply:
    """The user's `redeem_user_limit` and what is left of it (empty when the promotion has none)."""
    kind = _kind(ctx)
    promo = {**ctx.resource(kind).find(ctx), "_kind": kind}
    user = require_user(ctx, ctx.query["user_external_id"])
    limit = promotion_limit(promo)
    return ctx.reply(limit.state(ctx, user) if limit else {"per_user": {}})
