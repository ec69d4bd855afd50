"""Offer chains: sequences of offers a user takes in order. A free step is
claimed; a paid step is bought through an order and completes once that order
is paid. Disabling a chain keeps users' progress; deleting it drops it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..resources import paged_reply
from ..rules import items, orders, periods, prices, value_points
from .chains import (
    PREPARE,
    PROGRESS,
    VIEW,
    assign_step_ids,
    chain_error,
    chain_not_found,
    check_body_id,
    check_dates,
    client_schedule,
    grantable,
    item_ref,
    numbered_steps,
    progress,
    schedule_view,
    since_reset,
)
from .orders import order_line
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx, Reply

MAX_OFFER_STEPS = 30


def step_price(ctx: Ctx, step: Mapping[str, Any]) -> dict[str, Any] | None:
    """A paid step costs the real-currency prices of its items; a free step has no price."""
    if step.get("is_free"):
        return None
    total, currency = Decimal(0), None
    for entry in step["items"]:
        price = prices.base_price(items.get(ctx, entry["sku"]) or {})
        if price is None:
            return None
        total += price["amount"] * int(entry["quantity"])
        currency = currency or price["currency"]
    return {"amount": float(prices.money(total)), "currency": currency}


def prepare_offer_chain(ctx: Ctx, record: dict[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """An offer chain: only a disabled chain can be updated (6307); valid dates (6204); at most
    30 steps (6203) numbered 1..n (6302); step items known, sellable in a chain, each SKU at one
    step only, and priced in real currency on paid steps (6303); step ids kept on update (6205-6207)."""
    if old is not None:
        if old.get("is_enabled"):
            chain_error(ctx, 6307, "Active offer chain cannot be updated. Please deactivate it first")
        check_body_id(ctx, old)
    check_dates(ctx, record)
    if len(record["steps"]) > MAX_OFFER_STEPS:
        chain_error(ctx, 6203, "Chain step count exceeds the allowed limit")
    record["steps"] = numbered_steps(
        record["steps"], lambda: chain_error(ctx, 6302, "Offer chain step numbers are invalid")
    )
    skus = [i["sku"] for s in record["steps"] for i in s["items"]]
    if (
        len(set(skus)) != len(skus)
        or not all(grantable(ctx, sku) for sku in skus)
        or any(step_price(ctx, s) is None for s in record["steps"] if not s.get("is_free"))
    ):
        chain_error(ctx, 6303, "Offer chain steps items are not allowed or not found")
    assign_step_ids(
        ctx,
        record["steps"],
        old,
        lambda: chain_error(ctx, 6206, "Chain step IDs not found"),
        lambda: chain_error(ctx, 6207, "Duplicate chain step IDs detected in the request body"),
    )
    for key, default in (("is_always_visible", True), ("is_reset_on_completion", False), ("recurrent_schedule", None)):
        record.setdefault(key, default)
    return record


def _items(ctx: Ctx, step: Mapping[str, Any], client: bool = False) -> list[dict[str, Any]]:
    out = []
    for n, entry in enumerate(step["items"]):
        order = n if entry.get("order") is None else entry["order"]
        view = item_ref(ctx, entry["sku"], entry["quantity"], order=order)
        if client:
            content = (items.get(ctx, entry["sku"]) or {}).get("content")
            view["content"] = [item_ref(ctx, c["sku"], c.get("quantity", 1)) for c in content or []] or None
        out.append(view)
    return out


def offer_chain_view(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    steps = [
        {
            "step_id": s["step_id"],
            "step_number": s["step_number"],
            "is_free": bool(s.get("is_free")),
            "step_price": step_price(ctx, s),
            "items": _items(ctx, s),
        }
        for s in record["steps"]
    ]
    return {
        **record,
        "steps": steps,
        "number_of_steps": len(steps),
        "recurrent_schedule": schedule_view(ctx, record.get("recurrent_schedule")),
    }


PREPARE["offer_chain"], VIEW["offer_chain"] = prepare_offer_chain, offer_chain_view


def completed_steps(ctx: Ctx, chain: Mapping[str, Any], user: str) -> list[int]:
    """Step numbers the user completed in the chain's current schedule period (1..k, in order)."""
    entries = progress(ctx, "offer_chain", chain["id"]).get(user, [])
    return [e["step_number"] for e in since_reset(ctx, chain, entries)]


def next_step(chain: Mapping[str, Any], completed: list[int]) -> int | None:
    number = len(completed) + 1
    return number if number <= len(chain["steps"]) else None


def _visible(ctx: Ctx, chain: Mapping[str, Any]) -> bool:
    return bool(chain.get("is_enabled")) and periods.within(ctx.now, chain["date_start"], chain.get("date_end"))


def _vp_rewards(ctx: Ctx, step: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    rewards = [
        {**r, "amount": r["amount"] * int(entry["quantity"])}
        for entry in step["items"]
        for r in value_points.rewards(ctx, entry["sku"])
    ]
    return rewards or None


def client_offer_chain(ctx: Ctx, chain: Mapping[str, Any]) -> dict[str, Any]:
    """An offer chain as the user sees it: prices, items, completed steps and the next step."""
    completed = completed_steps(ctx, chain, ctx.user_id)
    steps = [
        {
            "step_number": s["step_number"],
            "is_free": bool(s.get("is_free")),
            "is_claimed": s["step_number"] in completed,
            "step_price": step_price(ctx, s),
            "items": _items(ctx, s, client=True),
            "step_vp_rewards": _vp_rewards(ctx, s),
            "step_loyalty_rewards": None,
        }
        for s in chain["steps"]
    ]
    fields = ("id", "name", "description", "order", "date_start", "date_end")
    return {
        **{k: chain.get(k) for k in fields},
        "steps": steps,
        "next_step_number": next_step(chain, completed),
        "recurrent_schedule": client_schedule(ctx, chain.get("recurrent_schedule")),
    }


@hook("get-offer-chains-list")
def user_offer_chains(ctx: Ctx) -> Reply:
    chains = [c for c in ctx.resource("offer_chain").all(ctx) if _visible(ctx, c)]
    return paged_reply(ctx, [client_offer_chain(ctx, c) for c in chains])


@hook("get-user-offer-chain-by-id")
def user_offer_chain(ctx: Ctx) -> Reply:
    chain = ctx.resource("offer_chain").get(ctx, ctx.path["offer_chain_id"])
    if chain is None or not _visible(ctx, chain):
        chain_not_found(ctx, ctx.path["offer_chain_id"])
    return ctx.reply(client_offer_chain(ctx, chain))


def _takeable_step(ctx: Ctx, paid: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chain and step the path names, when it is the user's next step and of the right kind
    (free for the claim call, paid for the order call)."""
    chain_id, number = ctx.path["offer_chain_id"], ctx.path["step_number"]
    chain = ctx.resource("offer_chain").get(ctx, chain_id)
    step = next((s for s in chain["steps"] if s["step_number"] == number), None) if chain else None
    if step is None or not _visible(ctx, chain):
        chain_not_found(ctx, chain_id, 6304, "Offer Chain Step not found", step_number=number)
    expected = next_step(chain, completed_steps(ctx, chain, ctx.user_id))
    if bool(step.get("is_free")) == paid or number != expected:
        chain_error(ctx, 6306, "This step is not valid to claim by user.")
    return chain, step


@hook("claim-user-offer-chain-step-reward")
def claim_offer_chain_step(ctx: Ctx) -> Reply:
    """Complete the user's next step when it is free: its items arrive through a free order."""
    chain, step = _takeable_step(ctx, paid=False)
    lines = [order_line(ctx, i["sku"], i["quantity"], None, True) for i in step["items"]]
    order = orders.create(
        ctx,
        lines,
        mode="free",
        status="done",
        source={"offer_chain": chain["id"], "step_number": step["step_number"], "reward": True},
    )
    return ctx.reply({"order_id": order["order_id"]})


@hook("order-user-offer-chain-step-reward")
def order_offer_chain_step(ctx: Ctx) -> Reply:
    """Create an order (status `new`) for the user's next step when it is paid; the step completes
    when the order is paid."""
    chain, step = _takeable_step(ctx, paid=True)
    price = step_price(ctx, step)
    if price is None:  # an item of the step lost its real-currency price after the chain was set up
        chain_error(ctx, 6306, "This step is not valid to claim by user.")
    lines = []
    for entry in step["items"]:
        unit = str(prices.base_price(items.get(ctx, entry["sku"]) or {})["amount"])
        lines.append(
            order_line(ctx, entry["sku"], entry["quantity"], {"amount": unit, "amount_without_discount": unit}, False)
        )
    order = orders.create(
        ctx,
        lines,
        mode="real",
        currency=price["currency"],
        source={"offer_chain": chain["id"], "step_number": step["step_number"]},
    )
    return ctx.reply({"order_id": order["order_id"], "token": order["token"]})


def complete_offer_step(ctx: Ctx, order: Mapping[str, Any]) -> None:
    """A delivered order of an offer chain step completes the step, if it is still the user's next
    one (a chain deleted meanwhile is gone). With `is_reset_on_completion` the last step starts
    the chain over."""
    source = order.get("source") or {}
    chain = ctx.resource("offer_chain").get(ctx, source["offer_chain"]) if "offer_chain" in source else None
    if chain is None:
        return
    user = order["user"]
    completed = completed_steps(ctx, chain, user)
    if source.get("step_number") != next_step(chain, completed):
        return
    users = progress(ctx, "offer_chain", chain["id"])
    entries = [
        *since_reset(ctx, chain, users.get(user, [])),
        {"step_number": source["step_number"], "at": iso(ctx.now), "order_id": order["order_id"]},
    ]
    if chain.get("is_reset_on_completion") and len(entries) == len(chain["steps"]):
        entries = []
    users[user] = entries
    ctx.put(PROGRESS["offer_chain"], chain["id"], users)


orders.ON_FULFIL.append(complete_offer_step)
