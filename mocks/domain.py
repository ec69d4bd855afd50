"""Domain rules shared by the hooks: time windows, user attributes, limits,
inventories, promotions, prices and orders.

Everything here works on a `Ctx` (one request, one store transaction) and on
records as the resource table stores them. Hooks combine these rules; the rules
never build responses themselves.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import TYPE_CHECKING, Any

from .clock import iso, parse_datetime

if TYPE_CHECKING:
    from .engine import Ctx

ITEM = "item"
PROMOTION_KINDS = ("coupon", "promo_code", "unique_offer", "discount", "bonus")


# ------------------------------------------------------------------ time


def within(now: datetime, start: Any, end: Any) -> bool:
    """Is `now` inside [start, end) (None bounds are open)?"""
    s, e = parse_datetime(start), parse_datetime(end)
    return (s is None or s <= now) and (e is None or now < e)


def in_periods(now: datetime, periods: Iterable[Mapping[str, Any]] | None) -> bool:
    """Inside one of the periods (no periods: always)."""
    periods = list(periods or [])
    return not periods or any(within(now, p.get("date_from"), p.get("date_until")) for p in periods)


def next_boundary(now: datetime, records: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The first moment after `now` at which a period or date range of these records (items,
    promotions, rules) opens or closes: until then, whatever depends on time alone stays as it is."""
    soonest: datetime | None = None
    for record in records:
        ranges = [*(record.get("periods") or ()), *(record.get("promotion_periods") or ())]
        ranges.append({"date_from": record.get("date_start"), "date_until": record.get("date_end")})
        for window in ranges:
            for bound in (window.get("date_from"), window.get("date_until")):
                moment = parse_datetime(bound) if bound else None
                if moment is not None and moment > now and (soonest is None or moment < soonest):
                    soonest = moment
    return soonest


def is_time_limited(record: Mapping[str, Any]) -> bool:
    return any(p.get("date_from") or p.get("date_until") for p in record.get("periods") or [])


def promotion_in_time(now: datetime, promo: Mapping[str, Any]) -> bool:
    if promo.get("promotion_periods"):
        return in_periods(now, promo["promotion_periods"])
    if promo.get("periods"):
        return in_periods(now, promo["periods"])
    return within(now, promo.get("date_start"), promo.get("date_end"))


def last_reset(now: datetime, schedule: Mapping[str, Any] | None, origin: datetime | None = None) -> datetime | None:
    """The most recent reset boundary of a recurrent schedule at `now` (None: never resets)."""
    if not schedule:
        return None
    kind = schedule.get("interval_type")
    if kind == "hourly":
        hours = int(schedule.get("interval_value") or 1)
        base = origin or datetime(2000, 1, 1, tzinfo=UTC)
        steps = int((now - base).total_seconds() // (hours * 3600))
        return base + timedelta(hours=hours * steps)
    time_text = str(schedule.get("time") or "00:00:00+00:00")
    parsed = parse_datetime(f"2000-01-01T{time_text}")
    tz = parsed.tzinfo if parsed else UTC
    hour = parsed.hour if parsed else 0
    local = now.astimezone(tz)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if kind == "daily":
        if candidate > local:
            candidate -= timedelta(days=1)
        return candidate
    if kind == "weekly":
        wanted = int(schedule.get("day_of_week") or 1) - 1  # 1 = Monday
        candidate -= timedelta(days=(candidate.weekday() - wanted) % 7)
        if candidate > local:
            candidate -= timedelta(days=7)
        return candidate
    if kind == "monthly":
        day = int(schedule.get("day_of_month") or 1)

        def at(year: int, month: int) -> datetime:
            return candidate.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))

        this = at(local.year, local.month)
        if this <= local:
            return this
        year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
        return at(year, month)
    return None


def next_reset(now: datetime, schedule: Mapping[str, Any] | None, origin: datetime | None = None) -> datetime | None:
    last = last_reset(now, schedule, origin)
    if last is None:
        return None
    kind = schedule.get("interval_type") if schedule else None
    if kind == "hourly":
        return last + timedelta(hours=int(schedule.get("interval_value") or 1))
    if kind == "daily":
        return last + timedelta(days=1)
    if kind == "weekly":
        return last + timedelta(days=7)
    later = last_reset(last + timedelta(days=32), schedule, origin)
    return later


# ------------------------------------------------------------ attributes


def _compare(op: str, left: Any, right: Any) -> bool:
    return {
        "eq": left == right,
        "ne": left != right,
        "gt": left > right,
        "ge": left >= right,
        "lt": left < right,
        "le": left <= right,
    }.get(op, False)


def condition_holds(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    name = condition.get("attribute")
    if name not in attributes or attributes[name] is None:
        return bool(condition.get("can_be_missing"))
    kind, op, value, actual = (
        condition.get("type", "string"),
        condition.get("operator", "eq"),
        condition.get("value"),
        attributes[name],
    )
    try:
        if kind == "number":
            return _compare(op, float(actual), float(value))
        if kind == "date":
            left, right = parse_datetime(str(actual)), parse_datetime(str(value))
            return left is not None and right is not None and _compare(op, left, right)
    except (TypeError, ValueError):
        return False
    return _compare(op, str(actual), str(value))


def conditions_hold(conditions: Iterable[Mapping[str, Any]] | None, attributes: Mapping[str, Any]) -> bool:
    return all(condition_holds(c, attributes) for c in conditions or [])


# ----------------------------------------------------------------- items


def item(ctx: Ctx, sku: str) -> dict[str, Any] | None:
    return ctx.get(ITEM, sku)


def find_item(ctx: Ctx, sku: str) -> dict[str, Any] | None:
    """An item by SKU, including game keys (unit items inside games)."""
    found = item(ctx, sku)
    if found is not None:
        return found
    owner = ctx.get("game_key_owner", sku)
    if owner:
        game = item(ctx, owner["game_sku"])
        for unit in (game or {}).get("unit_items") or []:
            if unit.get("sku") == sku:
                return {**unit, "type": "game_key", "_game_sku": owner["game_sku"], "item_id": unit.get("item_id")}
    return None


def require_item(ctx: Ctx, sku: str) -> dict[str, Any]:
    found = find_item(ctx, sku)
    if found is None:
        ctx.fail(404, 4001, f"[0401-4001]: Item with sku = '{sku}' not found")
    return found


def text(value: Any, locale: str = "en") -> str | None:
    from .shape import localize

    return localize(value, locale) if isinstance(value, Mapping) else value


# ------------------------------------------------------------- inventory


def inventory(ctx: Ctx, user: str | None = None) -> dict[str, Any]:
    return ctx.user_state("inventory", user) or {"items": {}}


def balance(ctx: Ctx, sku: str, user: str | None = None) -> int:
    return int(inventory(ctx, user)["items"].get(sku, 0))


def grant(ctx: Ctx, sku: str, quantity: float, user: str | None = None, *, expand: bool = True) -> None:
    """Put units of an item, a currency or value points into a user's inventory.

    A currency package grants its currency; a bundle grants its content (one level:
    bundles do not contain bundles).
    """
    user = user or ctx.user_id
    record = find_item(ctx, sku)
    if expand and record and record.get("type") == "bundle":
        for part in record.get("content") or []:
            grant(ctx, part["sku"], float(part.get("quantity", 1)) * quantity, user, expand=False)
        return
    inv = inventory(ctx, user)
    inv["items"][sku] = inv["items"].get(sku, 0) + quantity
    if float(inv["items"][sku]).is_integer():
        inv["items"][sku] = int(inv["items"][sku])
    ctx.save_user_state("inventory", inv, user)


def charge(ctx: Ctx, sku: str, amount: int, user: str | None = None) -> bool:
    """Take virtual currency from a user's balance; False when it is too low."""
    user = user or ctx.user_id
    inv = inventory(ctx, user)
    if inv["items"].get(sku, 0) < amount:
        return False
    inv["items"][sku] -= amount
    ctx.save_user_state("inventory", inv, user)
    return True


# ----------------------------------------------------------------- limits


def usage_since(events: Iterable[Mapping[str, Any]], since: datetime | None) -> int:
    return sum(int(e.get("n", 1)) for e in events if since is None or (parse_datetime(e.get("at")) or since) >= since)


def record_use(ctx: Ctx, kind: str, key: str, user: str, n: int = 1) -> None:
    """Remember that `user` used `key` (an item, a promotion, a code) `n` times now."""
    state = ctx.get(kind, user) or {}
    _add_use(state.setdefault(str(key), []), iso(ctx.now), n)
    ctx.put(kind, user, state)


def _add_use(events: list[dict[str, Any]], at: str, n: int) -> None:
    """Uses of one second are one entry (counts are summed by time anyway)."""
    if events and events[-1].get("at") == at:
        events[-1]["n"] = int(events[-1].get("n", 1)) + n
    else:
        events.append({"at": at, "n": n})


def uses(
    ctx: Ctx, kind: str, key: str, user: str, schedule: Mapping[str, Any] | None = None, origin: datetime | None = None
) -> int:
    """How many times `user` used `key` since the last reset of `schedule`, minus admin adjustments."""
    state = ctx.get(kind, user) or {}
    since = last_reset(ctx.now, schedule, origin)
    return usage_since(state.get(str(key), []), since)


def adjust_uses(ctx: Ctx, kind: str, key: str, user: str, delta: int) -> None:
    """Admin correction of a user's use count (negative: give uses back)."""
    state = ctx.get(kind, user) or {}
    _add_use(state.setdefault(str(key), []), iso(ctx.now), delta)
    ctx.put(kind, user, state)


def clear_uses(ctx: Ctx, kind: str, key: str | None, user: str | None) -> None:
    """Forget uses of `key` (None: of everything) by `user` (None: by every user)."""
    for user_key, state in ctx.tx.items(ctx.project_id, kind):
        if user is not None and user_key != user:
            continue
        if key is None:
            state = {}
        else:
            state.pop(str(key), None)
        ctx.put(kind, user_key, state)


def per_user_total(limits: Mapping[str, Any] | None) -> int | None:
    """The per-user cap of an item or promotion limit, in any of its accepted forms."""
    per_user = (limits or {}).get("per_user")
    if isinstance(per_user, Mapping):
        return per_user.get("total")
    return per_user if isinstance(per_user, int) else None


def user_schedule(limits: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return ((limits or {}).get("recurrent_schedule") or {}).get("per_user")


# ------------------------------------------------------------- promotions


def promotions(ctx: Ctx, kinds: Iterable[str] = PROMOTION_KINDS) -> list[dict[str, Any]]:
    out = []
    for kind in kinds:
        for record in ctx.values(kind):
            out.append({**record, "_kind": kind})
    return out


def find_promotion(ctx: Ctx, promotion_id: int) -> dict[str, Any] | None:
    for record in promotions(ctx):
        if record.get("promotion_id") == promotion_id or (
            record["_kind"] in ("discount", "bonus") and record.get("id") == promotion_id
        ):
            return record
    return None


def promotion_key(record: Mapping[str, Any]) -> Any:
    return (
        record.get("external_id")
        if record.get("_kind") in ("coupon", "promo_code", "unique_offer")
        else record.get("id")
    )


def promotion_usable(ctx: Ctx, promo: Mapping[str, Any], user: str | None) -> bool:
    """Enabled, in its time window, its attribute conditions met, user limit not reached."""
    if not promo.get("is_enabled") or not promotion_in_time(ctx.now, promo):
        return False
    if not conditions_hold(promo.get("attribute_conditions"), ctx.principal.attributes):
        return False
    if user is not None:
        cap = per_user_total(promo.get("limits"))
        if (
            cap is not None
            and uses(
                ctx,
                "promotion_use",
                str(promo.get("promotion_id") or promo.get("id")),
                user,
                user_schedule(promo.get("limits")),
            )
            >= cap
        ):
            return False
    return True


def active_discounts(ctx: Ctx, user: str | None) -> list[dict[str, Any]]:
    key = (
        "discounts",
        ctx.project_id,
        ctx.now.replace(microsecond=0),
        tuple(sorted(ctx.principal.attributes.items())) if ctx.principal.attributes else (),
    )
    candidates = ctx.cached(
        key, lambda: [p for p in promotions(ctx, ("discount",)) if promotion_usable(ctx, p, None)], ("discount",)
    )
    if user is None:
        return candidates
    return [p for p in candidates if promotion_usable(ctx, p, user)]


def active_bonuses(ctx: Ctx, user: str | None) -> list[dict[str, Any]]:
    key = (
        "bonuses",
        ctx.project_id,
        ctx.now.replace(microsecond=0),
        tuple(sorted(ctx.principal.attributes.items())) if ctx.principal.attributes else (),
    )
    candidates = ctx.cached(
        key, lambda: [p for p in promotions(ctx, ("bonus",)) if promotion_usable(ctx, p, None)], ("bonus",)
    )
    return candidates if user is None else [p for p in candidates if promotion_usable(ctx, p, user)]


def code_record(ctx: Ctx, code: str) -> dict[str, Any] | None:
    """A coupon / promo code / unique offer code (codes are case-sensitive)."""
    return ctx.get("code", code)


def promo_code_promotion(ctx: Ctx, code: str | None) -> dict[str, Any] | None:
    """The enabled promo-code promotion a code belongs to (None when unusable)."""
    if not code:
        return None
    found = code_record(ctx, code)
    if not found or found.get("kind") != "promo_code":
        return None
    promo = ctx.get("promo_code", found["external_id"])
    if promo is None or not promotion_usable(ctx, {**promo, "_kind": "promo_code"}, ctx.principal.user_id):
        return None
    return promo


# ---------------------------------------------------------------- prices


# Exact decimal arithmetic for any amount a float can carry (up to ~1.8e308), rounded half up.
MONEY = Context(prec=400, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    return MONEY.create_decimal(str(value)).quantize(Decimal("0.01"), context=MONEY)


def discounted(amount: Decimal, percent: Decimal) -> Decimal:
    return money(MONEY.divide(MONEY.multiply(amount, Decimal(100) - percent), Decimal(100)))


def base_price(record: Mapping[str, Any], country: str | None = None) -> dict[str, Any] | None:
    """The real-currency price that applies: the country's, else the default, else the first enabled."""
    prices = [p for p in record.get("prices") or [] if p.get("is_enabled", True)]
    if not prices:
        return None
    chosen = next((p for p in prices if country and p.get("country_iso") == country), None)
    chosen = chosen or next((p for p in prices if p.get("is_default") and not p.get("country_iso")), None)
    chosen = chosen or next((p for p in prices if p.get("is_default")), None) or prices[0]
    return {"amount": money(chosen["amount"]), "currency": chosen["currency"]}


def discount_percent(ctx: Ctx, sku: str, user: str | None, promo_code: str | None = None) -> tuple[Decimal, list[dict]]:
    """The best discount on an item for this user (promotions and a promo code), and the promotions behind it."""
    best, applied = Decimal(0), []
    for promo in active_discounts(ctx, user):
        if any(i.get("sku") == sku for i in promo.get("items") or []):
            percent = Decimal(str((promo.get("discount") or {}).get("percent") or 0))
            if percent > best:
                best, applied = percent, [promo]
    code_promo = promo_code_promotion(ctx, promo_code)
    if code_promo:
        for entry in code_promo.get("discounted_items") or []:
            if entry.get("sku") == sku:
                percent = Decimal(str((entry.get("discount") or {}).get("percent") or 0))
                if percent > best:
                    best, applied = percent, [{**code_promo, "_kind": "promo_code"}]
    return best, applied


def price_view(
    ctx: Ctx, record: Mapping[str, Any], *, user: str | None, country: str | None = None, promo_code: str | None = None
) -> dict[str, Any]:
    """`price`, `virtual_prices` and `promotions` of an item as a client sees them."""
    percent, applied = discount_percent(ctx, record["sku"], user, promo_code)
    base = base_price(record, country)
    price = None
    if base is not None and not record.get("is_free"):
        price = {
            "amount": str(discounted(base["amount"], percent)),
            "amount_without_discount": str(base["amount"]),
            "currency": base["currency"],
        }
    virtual = []
    for vp in record.get("vc_prices") or []:
        if not vp.get("is_enabled", True):
            continue
        currency = item(ctx, vp["sku"]) or {}
        full = int(vp["amount"])
        virtual.append(
            {
                "sku": vp["sku"],
                "item_id": currency.get("item_id"),
                "is_default": bool(vp.get("is_default")),
                "amount": int(
                    MONEY.divide(MONEY.multiply(Decimal(full), Decimal(100) - percent), Decimal(100)).to_integral_value(
                        ROUND_HALF_UP, context=MONEY
                    )
                ),
                "amount_without_discount": full,
                "name": text(currency.get("name"), ctx.locale),
                "description": text(currency.get("description"), ctx.locale),
                "image_url": currency.get("image_url"),
                "type": "virtual_currency",
            }
        )
    promos = []
    for promo in applied:
        promos.append(
            {
                "name": text(promo.get("name"), ctx.locale),
                "date_start": promo.get("date_start"),
                "date_end": promo.get("date_end"),
                "discount": {"percent": f"{percent:.2f}", "value": None},
                "bonus": [],
            }
        )
    for promo in active_bonuses(ctx, user):
        if any(c.get("sku") == record["sku"] for c in promo.get("condition") or []):
            promos.append(
                {
                    "name": text(promo.get("name"), ctx.locale),
                    "date_start": promo.get("date_start"),
                    "date_end": promo.get("date_end"),
                    "discount": None,
                    "bonus": [bonus_view(ctx, b) for b in promo.get("bonus") or []],
                }
            )
    return {"price": price, "virtual_prices": virtual, "promotions": promos, "_percent": percent}


def bonus_view(ctx: Ctx, entry: Mapping[str, Any]) -> dict[str, Any]:
    record = find_item(ctx, entry.get("sku", "")) or {}
    return {
        "sku": entry.get("sku"),
        "quantity": int(entry.get("quantity", 1)),
        "type": catalog_type(record),
        "name": text(record.get("name"), ctx.locale),
        "image_url": record.get("image_url"),
        "bundle_type": record.get("bundle_type"),
    }


def catalog_type(record: Mapping[str, Any]) -> str | None:
    """The item type answers show; a game (a `unit` of keys) is granted and ordered as a key."""
    kind = record.get("type")
    return "game_key" if kind == "unit" else kind


# ---------------------------------------------------------------- orders

ORDER_STATUSES = ("new", "paid", "done", "canceled", "expired")


def create_order(
    ctx: Ctx,
    lines: list[dict[str, Any]],
    *,
    mode: str,
    user: str | None = None,
    source: Mapping[str, Any] | None = None,
    status: str = "new",
    currency: str | None = None,
    sandbox: bool = False,
) -> dict[str, Any]:
    """An order for `lines` ([{sku, quantity, amount, amount_without_discount}]).

    mode: real (payment token, status new), virtual (charged, done), free (done).
    Orders that start `done` are fulfilled at once.
    """
    order_id = ctx.next_id("order")
    order = {
        "order_id": order_id,
        "user": user or ctx.user_id,
        "status": "new",
        "mode": mode,
        "items": lines,
        "currency": currency,
        "source": dict(source or {}),
        "token": ctx.faker.hexify("^" * 32),
        "sandbox": sandbox,
        "created": iso(ctx.now),
        "fulfilled": False,
    }
    ctx.put("order", order_id, order)
    if status != "new":
        set_order_status(ctx, order, status)
    return order


def set_order_status(ctx: Ctx, order: dict[str, Any], status: str) -> dict[str, Any]:
    """Move an order; the first move to paid/done delivers it (items, limits, value points, chains)."""
    previous, order["status"] = order["status"], status
    if status in ("paid", "done") and not order.get("fulfilled"):
        order["fulfilled"] = True
        fulfil(ctx, order)
    for observer in ON_STATUS:
        observer(ctx, order, previous)
    ctx.put("order", order["order_id"], order)
    return order


# Called with (ctx, order, previous status) on every status change, before the order is saved
# (observers may annotate it); the webhooks register here.
ON_STATUS: list[Any] = []


# Called with (ctx, order) after an order is delivered; chain hooks register here.
ON_FULFIL: list[Any] = []


def fulfil(ctx: Ctx, order: Mapping[str, Any]) -> None:
    """Deliver an order. A purchase also counts against limits, adds to sales and earns value
    points; a reward delivery (chain steps, `source.reward`) only grants the items."""
    user = order["user"]
    purchase = not order.get("source", {}).get("reward")
    for line in order.get("items") or []:
        sku, quantity = line["sku"], int(line.get("quantity", 1))
        grant(ctx, sku, quantity, user)
        for bonus in line.get("bonus") or []:
            grant(ctx, bonus["sku"], int(bonus.get("quantity", 1)), user)
        if not purchase:
            continue
        record_use(ctx, "item_use", sku, user, quantity)
        sold = ctx.get("item_sold", sku) or {"sold": 0}
        sold["sold"] += quantity
        ctx.put("item_sold", sku, sold)
        for reward in vp_rewards(ctx, sku):
            grant(ctx, reward["sku"], reward["amount"] * quantity, user)
    for promo_id in order.get("source", {}).get("promotions", []):
        record_use(ctx, "promotion_use", str(promo_id), user)
    for callback in ON_FULFIL:
        callback(ctx, order)


def vp_reward_index(ctx: Ctx) -> dict[str, list[dict[str, Any]]]:
    """Item SKU -> the value points buying it earns (one scan per store generation)."""

    def build() -> dict[str, list[dict[str, Any]]]:
        index: dict[str, list[dict[str, Any]]] = {}
        for vp in ctx.values("item"):
            if vp.get("type") != "value_point":
                continue
            for sku, amount in ((ctx.get("vp_rewards", vp["sku"]) or {}).get("items") or {}).items():
                index.setdefault(sku, []).append(
                    {
                        "sku": vp["sku"],
                        "amount": int(amount),
                        "item_id": vp.get("item_id"),
                        "name": vp.get("name"),
                        "image_url": vp.get("image_url"),
                        "is_clan": bool(vp.get("is_clan")),
                    }
                )
        return index

    return ctx.cached(("vp_rewards", ctx.project_id), build, ("item", "vp_rewards"))


def vp_rewards(ctx: Ctx, sku: str) -> list[dict[str, Any]]:
    """Value points a purchase of `sku` earns: [{sku (value point), amount, name, ...}]."""
    return [{**r, "name": text(r["name"], ctx.locale)} for r in vp_reward_index(ctx).get(sku, [])]


# --------------------------------------------------------- client catalog

CATALOG_TYPES = ("virtual_good", "virtual_currency", "bundle", "unit", "game_key")


def group_refs(ctx: Ctx, ids: Iterable[str]) -> list[dict[str, Any]]:
    out = []
    for ext in ids or []:
        group = ctx.get("group", ext)
        if group is None or group.get("is_enabled", True):
            out.append({"external_id": ext, "name": (group or {}).get("name") or {"en": ext}})
    return out


def region_allows(ctx: Ctx, record: Mapping[str, Any], country: str | None) -> bool:
    """Regional restriction: no regions means everywhere; unknown country means allowed."""
    regions = [r.get("id") for r in record.get("regions") or [] if r.get("id")]
    if not regions or not country:
        return True
    for region_id in regions:
        region = ctx.get("region", region_id)
        if region and country in (region.get("countries") or []):
            return True
    return False


def personalization_allows(ctx: Ctx, record: Mapping[str, Any]) -> bool:
    """Catalog filter rules: an item named by enabled rules is shown only when one of them matches the user."""
    rules = ctx.cached(
        ("filter_rules", ctx.project_id),
        lambda: [r for r in ctx.values("filter_rule") if r.get("is_enabled")],
        ("filter_rule",),
    )
    applicable = [
        r
        for r in rules
        if any(
            (i.get("sku") == record.get("sku")) or (i.get("item_id") and i.get("item_id") == record.get("item_id"))
            for i in r.get("items") or []
        )
    ]
    if not applicable:
        return True
    if ctx.principal.user_id is None:
        return any(r.get("is_satisfied_for_unauth") for r in applicable)
    return any(conditions_hold(r.get("attribute_conditions"), ctx.principal.attributes) for r in applicable)


def unique_offer_allows(ctx: Ctx, record: Mapping[str, Any], promo_code: str | None) -> bool:
    """Items of an enabled unique catalog offer are hidden until the user has entered its code."""
    offers = ctx.cached(
        ("unique_offers", ctx.project_id),
        lambda: [o for o in ctx.values("unique_offer") if o.get("is_enabled")],
        ("unique_offer",),
    )
    holding = [
        o
        for o in offers
        if record.get("sku") in [i if isinstance(i, str) else i.get("sku") for i in o.get("items") or []]
    ]
    if not holding:
        return True
    entered = set((ctx.get("entered_offer", ctx.principal.user_id or "") or {}).get("offers", []))
    if promo_code:
        code = code_record(ctx, promo_code)
        if code and code.get("kind") == "unique_offer":
            entered.add(code["external_id"])
    return any(o["external_id"] in entered and promotion_in_time(ctx.now, o) for o in holding)


def user_limit_state(ctx: Ctx, record: Mapping[str, Any], user: str | None) -> dict[str, Any] | None:
    """CatalogItemLimits of an item for a user (None when the item has no limits)."""
    limits = record.get("limits") or {}
    total = per_user_total(limits)
    per_item = limits.get("per_item")
    if total is None and not per_item:
        return None
    out: dict[str, Any] = {"per_user": None, "per_item": None}
    if total is not None:
        schedule = user_schedule(limits)
        used = uses(ctx, "item_use", record["sku"], user, schedule) if user else 0
        out["per_user"] = {"total": total, "available": max(0, total - used)}
        if schedule:
            nxt = next_reset(ctx.now, schedule)
            out["per_user"]["recurrent_schedule"] = {
                "interval_type": schedule.get("interval_type"),
                "reset_next_date": int(nxt.timestamp()) if nxt else None,
            }
    if per_item:
        sold = (ctx.get("item_sold", record["sku"]) or {}).get("sold", 0)
        out["per_item"] = {"total": per_item, "available": max(0, per_item - sold)}
    return out


def can_buy(ctx: Ctx, record: Mapping[str, Any], user: str | None, limits: Mapping[str, Any] | None = None) -> bool:
    if not record.get("is_enabled", True) or not in_periods(ctx.now, record.get("periods")):
        return False
    limits = user_limit_state(ctx, record, user) if limits is None else limits
    for part in ("per_user", "per_item"):
        if limits and limits.get(part) and limits[part].get("available", 1) <= 0:
            return False
    return True


def catalog_visible(
    ctx: Ctx,
    record: Mapping[str, Any],
    *,
    user: str | None,
    country: str | None = None,
    promo_code: str | None = None,
    show_inactive: bool = False,
) -> bool:
    """Whether a client catalog lists the item for this request."""
    if not record.get("is_enabled", True) or not record.get("is_show_in_store", True):
        return False
    if not in_periods(ctx.now, record.get("periods")) and not (show_inactive and is_time_limited(record)):
        return False
    if not region_allows(ctx, record, country) or not personalization_allows(ctx, record):
        return False
    if not unique_offer_allows(ctx, record, promo_code):
        return False
    limits = record.get("limits") or {}
    if user and per_user_total(limits) is not None:
        state = user_limit_state(ctx, record, user)
        if state and state["per_user"]["available"] <= 0:
            visibility = (
                (limits.get("per_user") or {}).get("limit_exceeded_visibility")
                if isinstance(limits.get("per_user"), Mapping)
                else None
            )
            if not user_schedule(limits) or visibility != "show":
                return False
    return True


def catalog_item_view(
    ctx: Ctx,
    record: Mapping[str, Any],
    *,
    user: str | None,
    country: str | None = None,
    promo_code: str | None = None,
    additional_fields: Iterable[str] = (),
    with_content: bool = True,
) -> dict[str, Any]:
    """An item as client catalog calls show it (CatalogItemCore plus the type's own fields).

    Texts stay localized maps: the response schema's CatalogText renders the
    request's locale.
    """
    fields = set(additional_fields or ())
    limits = user_limit_state(ctx, record, user)
    prices = price_view(ctx, record, user=user, country=country, promo_code=promo_code)
    view: dict[str, Any] = {
        "item_id": record.get("item_id"),
        "sku": record["sku"],
        "type": catalog_type(record),
        "name": record.get("name"),
        "description": record.get("description"),
        "image_url": record.get("image_url"),
        "groups": group_refs(ctx, record.get("groups") or []),
        "attributes": record.get("attributes") or [],
        "is_free": bool(record.get("is_free")),
        "price": prices["price"],
        "virtual_prices": prices["virtual_prices"],
        "promotions": prices["promotions"],
        "can_be_bought": can_buy(ctx, record, user, limits),
        "limits": limits,
        "periods": record.get("periods") or [],
        "vp_rewards": vp_rewards(ctx, record["sku"]),
    }
    for key in ("virtual_item_type", "inventory_options", "bundle_type", "is_pre_order", "drm_name", "drm_sku"):
        if key in record:
            view[key] = record[key]
    if with_content and "content" in record:  # one level: a bundle's parts are shown without their own content
        view["content"] = [
            {
                **catalog_item_view(
                    ctx, find_item(ctx, c["sku"]) or {"sku": c["sku"]}, user=user, country=country, with_content=False
                ),
                "quantity": c.get("quantity", 1),
            }
            for c in record.get("content") or []
            if c.get("sku")
        ]
    for key in ("long_description", "media_list", "order", "custom_attributes"):
        if key in fields and key in record:
            view[key] = record[key]
    return view
