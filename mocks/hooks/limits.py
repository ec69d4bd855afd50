"""Per-user limits of promotions and items: what a user has left, and the admin
calls that read, change and reset it.

What a user has left is the configured per-user limit minus the user's uses
since the last recurrent reset: `promotion_use` counters keyed by promotion id
(purchases with a discount or bonus, redemptions of coupon and promo codes) and
`item_use` counters keyed by SKU (purchases), the counters catalog, cart and
redemption calls read. An admin change is recorded as an adjustment of those
uses (`limits.adjust_uses`), so, as on the service, it holds until the next
recurrent reset; a reset forgets the uses.

The per-user limit of a promotion is `limits.per_user` for discounts and
bonuses (with its recurrent schedule) and `redeem_user_limit` for coupons,
promo codes and unique catalog offers (never reset by a schedule).

A user is known to the project (otherwise 404, errorCode 5008) once the mock
holds any state for them: an inventory, an order, recorded uses, or entered
unique-offer codes. A user who never did anything has nothing to limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from ..rules import items, limits, orders, promotions
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx, Reply

USER_KINDS = ("inventory", "promotion_use", "item_use", "entered_offer")


# ------------------------------------------------------------------ errors


def _documented(ctx: Ctx) -> set[tuple[int, int]]:
    """(status, errorCode) pairs the operation's error examples document."""
    out = set()
    for status, response in ctx.op.responses.items():
        content = (response.get("content") or {}).get("application/json") or {}
        examples = [e.get("value") for e in (content.get("examples") or {}).values()]
        for body in [*examples, content.get("example")]:
            if isinstance(body, Mapping) and "errorCode" in body:
                out.add((int(status), body["errorCode"]))
    return out


def fail_documented(ctx: Ctx, *choices: tuple[Any, ...]) -> NoReturn:
    """Fail with the first (status, errorCode, message[, extended]) the operation documents, else the last."""
    documented = _documented(ctx)
    ctx.fail(*next((c for c in choices if c[:2] in documented), choices[-1]))


# ------------------------------------------------------------------- users


def known_user(ctx: Ctx, user: str) -> bool:
    return any(ctx.tx.exists(ctx.project_id, kind, user) for kind in USER_KINDS) or bool(
        ctx.count(orders.ORDERS, f"user|{user}")
    )


def require_user(ctx: Ctx, user: str) -> str:
    if not known_user(ctx, user):
        ctx.fail(404, 5008, "[0401-5008]: Could not find User")
    return user


# ------------------------------------------------------------------ limits


@dataclass
class UserLimit:
    """A per-user limit: the counters it reads (`use_kind`, `key`), its total and reset schedule."""

    use_kind: str
    key: str
    total: int
    schedule: Mapping[str, Any] | None
    out_of_range: tuple[int, str]

    def available(self, ctx: Ctx, user: str) -> int:
        return self.total - limits.uses(ctx, self.use_kind, self.key, user, self.schedule)

    def set_available(self, ctx: Ctx, user: str, available: int) -> None:
        used = limits.uses(ctx, self.use_kind, self.key, user, self.schedule)
        limits.adjust_uses(ctx, self.use_kind, self.key, user, (self.total - available) - used)

    def state(self, ctx: Ctx, user: str) -> dict[str, Any]:
        return {"per_user": {"total": self.total, "available": max(0, self.available(ctx, user))}}


def promotion_limit(promo: Mapping[str, Any]) -> UserLimit | None:
    """The per-user limit of a promotion (`_kind` set, as promotions.records gives it); None without one."""
    if promo["_kind"] in promotions.CODE_KINDS:
        total, schedule = promo.get("redeem_user_limit"), None
    else:
        configured = promo.get("limits")
        total, schedule = limits.per_user_total(configured), limits.user_schedule(configured)
    if total is None:
        return None
    key = str(promo.get("promotion_id") or promo.get("id"))
    return UserLimit(
        "promotion_use", key, int(total), schedule, (4511, "[0401-4511]: Available promotion limit is out of range.")
    )


def item_limit(record: Mapping[str, Any]) -> UserLimit | None:
    total = limits.per_user_total(record.get("limits"))
    if total is None:
        return None
    return UserLimit(
        "item_use",
        record["sku"],
        int(total),
        limits.user_schedule(record.get("limits")),
        (4510, "[0401-4510]: Available item limit is out of range."),
    )


def _is_promotion(ctx: Ctx) -> bool:
    return "promotion" in ctx.op.operation_id


def _target(ctx: Ctx) -> UserLimit:
    """The limit the request's path names: a promotion (by id) or an item (by SKU)."""
    if _is_promotion(ctx):
        promo = promotions.find(ctx, ctx.path["promotion_id"])
        if promo is None:
            fail_documented(
                ctx,
                (404, 1101, "[0401-1101]: Promotion not found"),
                (404, 9502, f"[0401-9502]: Can not find promotion with ID = {ctx.path['promotion_id']}"),
            )
        limit = promotion_limit(promo)
        if limit is None:
            ctx.fail(422, 4509, "[0401-4509]: Promotion does not have configured user limits.")
        return limit
    limit = item_limit(items.require(ctx, ctx.path["item_sku"]))
    if limit is None:
        ctx.fail(422, 4508, "[0401-4508]: Item does not have configured user limits.")
    return limit


def _body_user(ctx: Ctx) -> str | None:
    user = (ctx.body or {}).get("user")
    return user["user_external_id"] if user else None


# ------------------------------------------------------------- admin calls


@hook("get-user-promotion-limit", "get-user-item-limit")
def get_user_limit(ctx: Ctx) -> Reply:
    """The user's per-user limit and what is left of it."""
    limit = _target(ctx)
    return ctx.reply(limit.state(ctx, require_user(ctx, ctx.query["user_external_id"])))


@hook(
    "add-user-promotion-limit",
    "remove-user-promotion-limit",
    "set-user-promotion-limit",
    "add-user-item-limit",
    "remove-user-item-limit",
    "set-user-item-limit",
)
def change_user_limit(ctx: Ctx) -> Reply:
    """Give uses back (add), take them (remove) or fix what is left (set), within 0..total."""
    limit = _target(ctx)
    user = require_user(ctx, _body_user(ctx))
    current, n = max(0, limit.available(ctx, user)), int(ctx.body["available"])
    wanted = {"add": current + n, "remove": current - n, "set": n}[ctx.op.operation_id.split("-")[0]]
    if not 0 <= wanted <= limit.total:
        fail_documented(
            ctx,
            (422, *limit.out_of_range),
            (
                422,
                1102,
                "[0401-1102]: Unprocessable Entity. `available` is out of range",
                [{"property": "body.available", "message": f"must be from 0 to {limit.total}"}],
            ),
        )
    limit.set_available(ctx, user, wanted)
    return ctx.reply(limit.state(ctx, user))


@hook("reset-user-promotion-limit", "reset-user-item-limit")
def reset_user_limit(ctx: Ctx) -> Reply:
    """Restore the full limit for one user, or for every user when `user` is null."""
    limit = _target(ctx)
    user = _body_user(ctx)
    limits.clear_uses(ctx, limit.use_kind, limit.key, require_user(ctx, user) if user else None)
    return ctx.reply(None)


@hook("reset-all-user-promotions-limit", "reset-all-user-items-limit")
def reset_all_user_limits(ctx: Ctx) -> Reply:
    """Restore the full limit of every promotion (or item) for one user."""
    user = require_user(ctx, _body_user(ctx))
    limits.clear_uses(ctx, "promotion_use" if _is_promotion(ctx) else "item_use", None, user)
    return ctx.reply(None)
