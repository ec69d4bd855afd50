"""LiveOps chains: value points and the items that award them, reward chains
(individual and clan), clans, daily chains, and the record transforms every
chain resource uses (`chain_prepare`, `chain_view`).

Chain records live in the resource table's kinds; users' progress lives beside
them, one record per chain keyed by its id (`PROGRESS`), so resetting or deleting
a chain drops everybody's progress at once. Offer chains are in `offer_chains.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from ..clock import iso, parse_datetime
from ..context import USER_SUMMARIES, index
from ..resources import paged_reply
from ..rules import conditions, inventory, items, orders, periods, value_points
from .orders import order_line
from .registry import hook, set_field, transform

if TYPE_CHECKING:
    from ..context import Ctx, Reply

# chain resource -> store kind of its users' progress: chain id -> {user: state}
PROGRESS = {
    "reward_chain": "reward_chain_claims",
    "daily_chain": "daily_chain_progress",
    "offer_chain": "offer_chain_progress",
}
REWARD_TYPES = ("virtual_good", "virtual_currency", "bundle")  # what chain steps may grant
VP_REWARDS = "vp_rewards"  # value point sku -> {"items": {item sku: points per purchase}}
VP_EPOCH = "vp_epoch"  # user -> {value point sku: when the balance was last seen in a reset period}
CLAN_MEMBER = "clan_member"  # user -> {"clan": name, "name": display name}
MAX_REWARD_STEPS = 31
MAX_DAILY_STEPS = 31
DAY = timedelta(days=1)

# chain resource -> prepare(ctx, record, old) / view(ctx, record); offer_chains.py adds its own
PREPARE: dict[str, Callable[..., dict[str, Any]]] = {}
VIEW: dict[str, Callable[..., dict[str, Any]]] = {}


# ------------------------------------------------------------------ shared


def invalid(ctx: Ctx, message: str) -> NoReturn:
    ctx.fail(422, 1102, f"[0401-1102]: Unprocessable Entity. {message}")


def chain_error(ctx: Ctx, code: int, message: str) -> NoReturn:
    ctx.fail(422, code, f"[0401-{code}]: {message}")


def chain_not_found(
    ctx: Ctx, chain_id: Any, code: int = 6201, message: str = "Chain not found", **extended: Any
) -> NoReturn:
    ctx.fail(404, code, f"[0401-{code}]: {message}", {"chain_id": chain_id, "project_id": ctx.project_id, **extended})


def _resource_of(ctx: Ctx) -> str:
    for name in PROGRESS:
        res = ctx.resource(name)
        if ctx.op.path == res.collection or ctx.op.path in res.items:
            return name
    raise LookupError(f"{ctx.op.operation_id} is not a chain operation")


@transform("chain_prepare")
def chain_prepare(ctx: Ctx, record: dict[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """Normalize a chain on create/update (step ids, defaults) and refuse what the service refuses."""
    return PREPARE[_resource_of(ctx)](ctx, record, old)


@transform("chain_view")
def chain_view(ctx: Ctx, record: dict[str, Any], resource: Any) -> dict[str, Any]:
    """The admin view of a chain: derived fields such as number_of_steps and the steps' item texts."""
    return VIEW[resource.name](ctx, record)


def item_ref(ctx: Ctx, sku: str, quantity: int | None = None, **extra: Any) -> dict[str, Any]:
    """An item as chain views list it: the catalog item's identity and texts, with the quantity granted."""
    record = items.find(ctx, sku) or {}
    out = {
        "item_id": record.get("item_id"),
        "sku": sku,
        "type": items.catalog_type(record),
        "name": record.get("name"),
        "description": record.get("description"),
        "image_url": record.get("image_url"),
        "is_free": bool(record.get("is_free")),
        **extra,
    }
    if quantity is not None:
        out["quantity"] = quantity
    if record.get("bundle_type"):
        out["bundle_type"] = record["bundle_type"]
    return out


def grantable(ctx: Ctx, sku: str) -> bool:
    """Chain steps grant virtual items, currencies, currency packages and bundles."""
    return (items.get(ctx, sku) or {}).get("type") in REWARD_TYPES


def assign_step_ids(
    ctx: Ctx,
    steps: list[dict[str, Any]],
    old: Mapping[str, Any] | None,
    unknown: Callable[[], None],
    duplicate: Callable[[], None],
) -> None:
    """New steps get an id; on update a sent `step_id` must be one of the chain's, at most once."""
    known = {s.get("step_id") for s in (old or {}).get("steps") or []}
    seen: set[int] = set()
    for step in steps:
        step_id = step.get("step_id") if old is not None else None
        if step_id is None:
            step["step_id"] = ctx.next_id("chain_step")
            continue
        if step_id in seen:
            duplicate()
        if step_id not in known:
            unknown()
        seen.add(step_id)


def numbered_steps(steps: list[dict[str, Any]], fail: Callable[[], None]) -> list[dict[str, Any]]:
    """Steps sorted by `step_number`, which must run 1, 2, 3, ... without gaps or repeats."""
    ordered = sorted(steps, key=lambda s: s["step_number"])
    if [s["step_number"] for s in ordered] != list(range(1, len(ordered) + 1)):
        fail()
    return ordered


def check_dates(ctx: Ctx, record: Mapping[str, Any]) -> None:
    start, end = parse_datetime(record.get("date_start")), parse_datetime(record.get("date_end"))
    if start and end and end <= start:
        chain_error(ctx, 6204, "Period of a chain is invalid. Please, check the dates in your request")


def check_body_id(ctx: Ctx, old: Mapping[str, Any]) -> None:
    sent = (ctx.body or {}).get("id")
    if sent is not None and sent != old["id"]:
        chain_error(ctx, 6205, "Chain ID mismatch. Please, check the chain ID in your request body and URL")


def schedule_view(ctx: Ctx, schedule: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A reset schedule as admin views show it: the configuration plus the last and next resets."""
    if not schedule:
        return None
    last, nxt = periods.last_reset(ctx.now, schedule), periods.next_reset(ctx.now, schedule)
    return {
        **schedule,
        "reset_next_date": int(nxt.timestamp()) if nxt else None,
        "displayable_reset_start_date": iso(last) if last else None,
        "displayable_reset_next_date": iso(nxt) if nxt else None,
    }


def client_schedule(ctx: Ctx, schedule: Mapping[str, Any] | None) -> dict[str, Any] | None:
    view = schedule_view(ctx, schedule)
    if view is None:
        return None
    return {"interval_type": view["interval_type"], "reset_next_date": view["reset_next_date"]}


def since_reset(ctx: Ctx, chain: Mapping[str, Any], entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Progress entries ({at, ...}) of the chain's current schedule period (all without a schedule)."""
    since = periods.last_reset(ctx.now, chain.get("recurrent_schedule"))
    return [e for e in entries if since is None or (parse_datetime(e.get("at")) or since) >= since]


def progress(ctx: Ctx, resource: str, chain_id: Any) -> dict[str, Any]:
    return ctx.get(PROGRESS[resource], chain_id) or {}


@hook("admin-delete-reward-chain", "admin-delete-daily-chain", "admin-delete-offer-chain")
def delete_chain(ctx: Ctx) -> Reply:
    """Delete a chain for good: users keep what they received, their progress is dropped."""
    name = _resource_of(ctx)
    res = ctx.resource(name)
    ctx.delete(PROGRESS[name], res.find(ctx)[res.key])
    return res.delete(ctx)


for _name in PROGRESS:
    hook(f"admin-toggle-{_name.replace('_', '-')}")(set_field(_name, "is_enabled", "toggle"))


# ------------------------------------------------------------ value points


def _value_point(ctx: Ctx) -> dict[str, Any]:
    res = ctx.resource("value_point")
    found = res.get(ctx, ctx.path["value_point_sku"])
    if found is None:
        res.missing(ctx, ctx.path["value_point_sku"])
    return found


def _rewarded(ctx: Ctx, entries: list[Mapping[str, Any]]) -> dict[str, int]:
    """{sku: amount} from a request body: each SKU once, every item known and not itself a value point."""
    out: dict[str, int] = {}
    for entry in entries:
        sku, amount = entry["sku"], int(entry["amount"])
        if sku in out:
            invalid(ctx, f"SKU {sku!r} is listed more than once")
        record = items.find(ctx, sku)
        if amount and (record is None or record.get("type") == "value_point"):
            invalid(ctx, f"Item with sku = '{sku}' not found")
        out[sku] = amount
    return out


@hook("admin-get-items-value-point-reward")
def list_vp_rewards(ctx: Ctx) -> Reply:
    """The items whose purchase awards the value point, with the points per purchase."""
    rewards = (ctx.get(VP_REWARDS, _value_point(ctx)["sku"]) or {}).get("items", {})
    listed = [{**item_ref(ctx, sku), "amount": amount} for sku, amount in rewards.items()]
    return ctx.reply({"items": listed})


@hook("admin-set-items-value-point-reward")
def set_vp_rewards(ctx: Ctx) -> Reply:
    """Replace the whole set of items awarding the value point (amounts must be positive)."""
    vp = _value_point(ctx)
    rewards = _rewarded(ctx, ctx.body)
    if any(amount <= 0 for amount in rewards.values()):
        invalid(ctx, "Every `amount` must be a positive number of value points")
    ctx.put(VP_REWARDS, vp["sku"], {"items": rewards})
    return ctx.reply(None)


@hook("admin-patch-items-value-point-reward")
def patch_vp_rewards(ctx: Ctx) -> Reply:
    """Change the listed items only: a non-zero amount sets the item's reward, 0 removes it."""
    vp = _value_point(ctx)
    rewards = (ctx.get(VP_REWARDS, vp["sku"]) or {}).get("items", {})
    for sku, amount in _rewarded(ctx, ctx.body).items():
        if amount:
            rewards[sku] = amount
        else:
            rewards.pop(sku, None)
    ctx.put(VP_REWARDS, vp["sku"], {"items": rewards})
    return ctx.reply(None)


@hook("admin-delete-items-value-point-reward")
def delete_vp_rewards(ctx: Ctx) -> Reply:
    """No purchase awards the value point any more; the value point itself stays."""
    ctx.delete(VP_REWARDS, _value_point(ctx)["sku"])
    return ctx.reply(None)


@hook("admin-delete-value-point")
def delete_value_point(ctx: Ctx) -> Reply:
    """Delete a value point together with its item rewards (a new one with the SKU starts without any)."""
    res = ctx.resource("value_point")
    ctx.delete(VP_REWARDS, res.find(ctx)["sku"])
    return res.delete(ctx)


# ----------------------------------------------------------- reward chains


def _check_periods(ctx: Ctx, record: Mapping[str, Any]) -> None:
    windows = record.get("periods") or []
    for period in windows:
        start, end = parse_datetime(period.get("date_from")), parse_datetime(period.get("date_until"))
        if start and end and end <= start:
            invalid(ctx, "A period must end after it starts")
    open_ended = any(p.get("date_until") is None for p in windows)
    if open_ended and len(windows) > 1:
        invalid(ctx, "`date_until` may be null only when a single period is given")
    if record.get("is_reset_after_end") and (open_ended or record.get("recurrent_schedule")):
        invalid(ctx, "`is_reset_after_end` cannot be true with a reset schedule or an open-ended period")


def prepare_reward_chain(ctx: Ctx, record: dict[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """A reward chain: an existing value point (kept on update when not sent), valid periods,
    at most 31 steps granting catalog items, step ids assigned by the service."""
    record["value_point"] = record.get("value_point") or (old or {}).get("value_point")
    sku = record["value_point"]["sku"]
    if ctx.resource("value_point").get(ctx, sku) is None:
        invalid(ctx, f"Value point with sku = '{sku}' not found")
    record["value_point"] = {"sku": sku}
    _check_periods(ctx, record)
    steps = record.get("steps") or []
    if len(steps) > MAX_REWARD_STEPS:
        invalid(ctx, f"A reward chain has at most {MAX_REWARD_STEPS} steps")
    for reward in (r for s in steps for r in s.get("reward") or []):
        if not grantable(ctx, reward["sku"]):
            invalid(ctx, f"Item with sku = '{reward['sku']}' not found or not allowed as a reward")
    assign_step_ids(
        ctx,
        steps,
        old,
        lambda: invalid(ctx, "Unknown `step_id`"),
        lambda: invalid(ctx, "A `step_id` is sent more than once"),
    )
    record.setdefault("is_always_visible", True)
    return record


def _vp_sku(chain: Mapping[str, Any]) -> str:
    return chain["value_point"]["sku"]


def _bounds(chain: Mapping[str, Any]) -> dict[str, Any]:
    """date_start / date_end of a chain from its periods (the v2 reference's fields)."""
    windows = sorted(chain.get("periods") or [], key=lambda p: p.get("date_from") or "")
    ends = [p.get("date_until") for p in windows]
    return {
        "date_start": windows[0].get("date_from") if windows else None,
        "date_end": None if not ends or None in ends else max(ends, key=parse_datetime),
    }


def reward_chain_view(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    vp = items.get(ctx, _vp_sku(record)) or {}
    return {
        **record,
        **_bounds(record),
        "value_point": {**vp, "sku": _vp_sku(record), "amount": 0},
        "recurrent_schedule": schedule_view(ctx, record.get("recurrent_schedule")),
        "attribute_conditions": record.get("attribute_conditions"),
        "top_contributors": None,
    }


PREPARE["reward_chain"], VIEW["reward_chain"] = prepare_reward_chain, reward_chain_view


def is_clan_chain(ctx: Ctx, chain: Mapping[str, Any]) -> bool:
    return bool((items.get(ctx, _vp_sku(chain)) or {}).get("is_clan"))


def visible_reward_chains(ctx: Ctx) -> list[dict[str, Any]]:
    """The reward chains the user of the request sees, by `order`.

    Enabled chains inside one of their periods. A chain that is not always
    visible is personalized: with attribute conditions it is shown to users who
    meet them; without conditions it is the fallback shown only when no
    personalized chain matches the user.
    """
    attributes = ctx.principal.attributes
    live = [
        c
        for c in ctx.resource("reward_chain").all(ctx)
        if c.get("is_enabled") and periods.in_periods(ctx.now, c.get("periods"))
    ]
    personal = [c for c in live if not c.get("is_always_visible", True) and c.get("attribute_conditions")]
    matched = [c for c in personal if conditions.hold(c["attribute_conditions"], attributes)]
    return [c for c in live if c.get("is_always_visible", True) or c in matched or (c not in personal and not matched)]


def _visible_reward_chain(ctx: Ctx, code: int, message: str) -> dict[str, Any]:
    chain_id = ctx.path["reward_chain_id"]
    chain = next((c for c in visible_reward_chains(ctx) if c["reward_chain_id"] == chain_id), None)
    if chain is None:
        ctx.fail(404, code, message)
    return chain


def settle_balance(ctx: Ctx, chain: Mapping[str, Any], user: str, keep: int = 0) -> None:
    """A chain with a reset schedule starts every period from zero value points.

    Balances belong to the value point, so the reset happens when a user's
    balance is first used in a new period (read, claim, or a purchase that
    earns points, whose `keep` points then count for the new period).
    """
    since = periods.last_reset(ctx.now, chain.get("recurrent_schedule"))
    if since is None:
        return
    sku = _vp_sku(chain)
    epochs = ctx.get(VP_EPOCH, user) or {}
    seen = parse_datetime(epochs.get(sku))
    if seen is not None and seen >= since:
        return
    if seen is not None:
        held = inventory.state(ctx, user)
        held["items"][sku] = keep
        ctx.save_user_state("inventory", held, user)
    epochs[sku] = iso(ctx.now)
    ctx.put(VP_EPOCH, user, epochs)


def _settle_on_purchase(ctx: Ctx, order: Mapping[str, Any]) -> None:
    """Points a delivered order earns on a value point of a scheduled chain count for the current period."""
    for chain in ctx.resource("reward_chain").all(ctx):
        if chain.get("is_enabled") and chain.get("recurrent_schedule"):
            earned = sum(
                r["amount"] * int(line.get("quantity", 1))
                for line in order.get("items") or []
                for r in value_points.rewards(ctx, line["sku"])
                if r["sku"] == _vp_sku(chain)
            )
            if earned:
                settle_balance(ctx, chain, order["user"], keep=earned)


orders.ON_FULFIL.append(_settle_on_purchase)


def chain_balance(ctx: Ctx, chain: Mapping[str, Any], user: str, clan: str | None) -> int:
    """The user's balance of the chain's value point; for a clan chain, the sum over the clan's members
    (0 for a user in no clan)."""
    members = [user] if not is_clan_chain(ctx, chain) else [u for u, _ in clan_members(ctx, clan)]
    for member in members:
        settle_balance(ctx, chain, member)
    return sum(inventory.balance(ctx, _vp_sku(chain), member) for member in members)


def claimed_steps(ctx: Ctx, chain: Mapping[str, Any], user: str, clan: str | None) -> set[int]:
    """Step ids the user claimed in this period (for a clan chain: while in `clan`)."""
    entries = progress(ctx, "reward_chain", chain["reward_chain_id"]).get(user, [])
    return {e["step_id"] for e in since_reset(ctx, chain, entries) if e.get("clan") == clan}


def step_rewards(ctx: Ctx, step: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The step's reward items the user of the request meets the attribute conditions of."""
    return [
        r for r in step.get("reward") or [] if conditions.hold(r.get("attribute_conditions"), ctx.principal.attributes)
    ]


def claim_step(
    ctx: Ctx, chain: Mapping[str, Any], step: Mapping[str, Any], user: str, clan: str | None
) -> list[tuple[str, int]]:
    """Grant a step's rewards to the user and remember the claim; returns (sku, quantity) granted."""
    granted = [(r["sku"], int(r["quantity"])) for r in step_rewards(ctx, step)]
    for sku, quantity in granted:
        inventory.grant(ctx, sku, quantity, user)
    users = progress(ctx, "reward_chain", chain["reward_chain_id"])
    users.setdefault(user, []).append({"step_id": step["step_id"], "clan": clan, "at": iso(ctx.now)})
    ctx.put(PROGRESS["reward_chain"], chain["reward_chain_id"], users)
    return granted


def _balance_view(ctx: Ctx, chain: Mapping[str, Any], amount: int) -> dict[str, Any]:
    vp = items.get(ctx, _vp_sku(chain)) or {}
    return {
        "sku": _vp_sku(chain),
        "name": vp.get("name"),
        "image_url": vp.get("image_url"),
        "description": vp.get("description"),
        "long_description": vp.get("long_description"),
        "amount": amount,
        "is_clan": bool(vp.get("is_clan")),
    }


def client_reward_chain(ctx: Ctx, chain: Mapping[str, Any]) -> dict[str, Any]:
    """A reward chain as the user sees it: balance, and per step whether it is claimed."""
    user = ctx.user_id
    clan = user_clan(ctx) if is_clan_chain(ctx, chain) else None
    claimed = claimed_steps(ctx, chain, user, clan)
    steps = [
        {
            "step_id": s["step_id"],
            "name": s.get("name"),
            "is_claimed": s["step_id"] in claimed,
            "image_url": s.get("image_url"),
            "price": s["price"],
            "reward": [item_ref(ctx, r["sku"], r["quantity"]) for r in step_rewards(ctx, s)],
        }
        for s in chain.get("steps") or []
    ]
    fields = (
        "reward_chain_id",
        "name",
        "description",
        "long_description",
        "image_url",
        "order",
        "clan_type",
        "popup_header",
        "popup_instruction",
        "popup_image_url",
    )
    return {
        **{k: chain.get(k) for k in fields},
        **_bounds(chain),
        "steps": steps,
        "top_contributors": top_contributors(ctx, chain, clan) if clan else [],
        "value_point": _balance_view(ctx, chain, chain_balance(ctx, chain, user, clan)),
        "recurrent_schedule": client_schedule(ctx, chain.get("recurrent_schedule")),
    }


@hook("admin-get-reward-chains")
def admin_reward_chains(ctx: Ctx) -> Reply:
    """The project's reward chains; `enabled=1|0` keeps only enabled or disabled ones."""
    enabled = ctx.query.get("enabled")
    return ctx.resource("reward_chain").page(ctx, enabled=None if enabled is None else bool(enabled))


@hook("get-reward-chains-list")
def user_reward_chains(ctx: Ctx) -> Reply:
    return paged_reply(ctx, [client_reward_chain(ctx, c) for c in visible_reward_chains(ctx)])


@hook("get-user-reward-chain-balance")
def user_reward_chain_balance(ctx: Ctx) -> Reply:
    chain = _visible_reward_chain(ctx, 9901, "[0401-4001]: Reward chain not found")
    clan = user_clan(ctx) if is_clan_chain(ctx, chain) else None
    return ctx.reply(_balance_view(ctx, chain, chain_balance(ctx, chain, ctx.user_id, clan)))


@hook("claim-user-reward-chain-step-reward")
def claim_reward_chain_step(ctx: Ctx) -> Reply:
    """Grant a step's reward once the balance reaches the step's price; once per step and user.

    Claiming does not spend value points: the price is a threshold on the
    balance the user (or the user's clan) has collected, so steps unlock one
    after another as the balance grows. The balance drops to zero only with the
    admin reset or at the chain's scheduled reset. Hidden or disabled chains
    and unknown steps answer 9911.
    """
    chain = _visible_reward_chain(ctx, 9911, "[0401-9911]: Reward chain step not found.")
    step = next((s for s in chain.get("steps") or [] if s["step_id"] == ctx.path["step_id"]), None)
    if step is None:
        ctx.fail(404, 9911, "[0401-9911]: Reward chain step not found.")
    user = ctx.user_id
    clan = user_clan(ctx) if is_clan_chain(ctx, chain) else None
    if step["step_id"] in claimed_steps(ctx, chain, user, clan):
        chain_error(ctx, 9912, "Reward already claimed.")
    if chain_balance(ctx, chain, user, clan) < int(step["price"]["amount"]):
        chain_error(ctx, 9913, "Not enough value points to claim step reward.")
    claim_step(ctx, chain, step, user, clan)
    return ctx.reply(None)


@hook("admin-reset-reward-chain")
def reset_reward_chain(ctx: Ctx) -> Reply:
    """Zero every user's balance of the chain's value point and forget every claim of every chain on it."""
    res = ctx.resource("reward_chain")
    sku = _vp_sku(res.find(ctx))
    for chain in res.all(ctx):
        if _vp_sku(chain) == sku:
            ctx.delete(PROGRESS["reward_chain"], chain["reward_chain_id"])
    for kind, field in (("inventory", "items"), (VP_EPOCH, None)):
        for user, state in ctx.tx.items(ctx.project_id, kind):
            holder = state[field] if field else state
            if sku in holder:
                holder.pop(sku)
                ctx.put(kind, user, state)
    return ctx.reply(None)


# ------------------------------------------------------------------ clans


def _join(ctx: Ctx, clan: str) -> None:
    claims = ctx.principal.claims
    name = claims.get("name") or claims.get("username") or claims.get("nickname") or ctx.user_id
    ctx.put(CLAN_MEMBER, ctx.user_id, {"clan": clan, "name": name})


def _clan_attribute(ctx: Ctx) -> str | None:
    clan = ctx.principal.attributes.get("clan")
    return None if clan in (None, "") else str(clan)


def user_clan(ctx: Ctx) -> str | None:
    """The clan of the request's user: the membership the service holds. A user it has not seen in a
    clan yet joins the one named by the JWT's `clan` attribute; user-clan-update moves or revokes it."""
    member = ctx.get(CLAN_MEMBER, ctx.user_id)
    if member:
        return member["clan"]
    clan = _clan_attribute(ctx)
    if clan:
        _join(ctx, clan)
    return clan


@index(CLAN_MEMBER, "by_clan")
def CLANS(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Clan members by clan."""
    return [(str(record.get("clan")), None, "")]


def clan_members(ctx: Ctx, clan: str | None) -> list[tuple[str, dict[str, Any]]]:
    return [(user, m) for user, _, m in ctx.find(CLANS, clan)] if clan else []


def top_contributors(ctx: Ctx, chain: Mapping[str, Any], clan: str | None) -> list[dict[str, Any]]:
    """Up to 10 members of the clan with the most value points of the chain, best first."""
    ranked = sorted(
        ((inventory.balance(ctx, _vp_sku(chain), user), m.get("name") or user) for user, m in clan_members(ctx, clan)),
        key=lambda t: (-t[0], t[1]),
    )
    return [{"name": name, "contributed_amount": amount} for amount, name in ranked if amount > 0][:10]


@hook("get-user-clan-top-contributors")
def clan_top_contributors(ctx: Ctx) -> Reply:
    """Top contributors of the user's clan to a clan chain; empty without a clan or for other chains."""
    chain = ctx.resource("reward_chain").find(ctx)
    clan = user_clan(ctx) if is_clan_chain(ctx, chain) else None
    return ctx.reply(top_contributors(ctx, chain, clan))


@hook("user-clan-update")
def update_user_clan(ctx: Ctx) -> Reply:
    """Re-read the user's clan from the JWT: join, move or leave.

    On leaving or moving, the steps of the clan chains the previous clan had
    unlocked and the user had not claimed are claimed for the user now, and
    listed in the answer.
    """
    user, new = ctx.user_id, _clan_attribute(ctx)
    member = ctx.get(CLAN_MEMBER, user)
    previous = member["clan"] if member else None
    granted: list[tuple[str, int]] = []
    if previous and previous != new:
        for chain in (c for c in visible_reward_chains(ctx) if is_clan_chain(ctx, c)):
            balance = chain_balance(ctx, chain, user, previous)
            claimed = claimed_steps(ctx, chain, user, previous)
            for step in chain.get("steps") or []:
                if step["step_id"] not in claimed and balance >= int(step["price"]["amount"]):
                    granted += claim_step(ctx, chain, step, user, previous)
    if new and new != previous:
        _join(ctx, new)
    elif not new and member:
        ctx.delete(CLAN_MEMBER, user)
    totals: dict[str, int] = {}
    for sku, quantity in granted:
        totals[sku] = totals.get(sku, 0) + quantity
    return ctx.reply({"reward": [item_ref(ctx, sku, quantity) for sku, quantity in totals.items()]})


# ------------------------------------------------------------ daily chains


def prepare_daily_chain(ctx: Ctx, record: dict[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """A daily chain: only a disabled chain can be updated (6209); valid dates (6204); at most
    31 steps (6203) numbered 1..n, each granting catalog items; step ids kept on update (6205-6207)."""
    if old is not None:
        if old.get("is_enabled"):
            chain_error(ctx, 6209, "Active daily chain cannot be updated. Please deactivate it first")
        check_body_id(ctx, old)
    check_dates(ctx, record)
    if len(record["steps"]) > MAX_DAILY_STEPS:
        chain_error(ctx, 6203, "Chain step count exceeds the allowed limit")
    record["steps"] = numbered_steps(record["steps"], lambda: invalid(ctx, "Steps are numbered 1, 2, 3, ..."))
    for entry in (i for s in record["steps"] for i in s["items"]):
        if not grantable(ctx, entry["sku"]):
            invalid(ctx, f"Item with sku = '{entry['sku']}' not found or not allowed in a daily chain")
    assign_step_ids(
        ctx,
        record["steps"],
        old,
        lambda: chain_error(ctx, 6206, "Chain step IDs not found"),
        lambda: chain_error(ctx, 6207, "Duplicate chain step IDs detected in the request body"),
    )
    record.setdefault("type", "rolling")
    record.setdefault("is_recurrent", False)
    return record


def daily_chain_view(ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
    steps = [
        {
            "step_id": s["step_id"],
            "step_number": s["step_number"],
            "items": [item_ref(ctx, i["sku"], i["quantity"]) for i in s["items"]],
        }
        for s in record["steps"]
    ]
    return {**record, "steps": steps, "number_of_steps": len(steps)}


PREPARE["daily_chain"], VIEW["daily_chain"] = prepare_daily_chain, daily_chain_view


def _daily_visible(ctx: Ctx, chain: Mapping[str, Any]) -> bool:
    in_time = periods.within(ctx.now, chain["date_start"], chain.get("date_end"))
    return (
        bool(chain.get("is_enabled"))
        and in_time
        and conditions.hold(chain.get("attribute_conditions"), ctx.principal.attributes)
    )


def _visible_daily_chain(ctx: Ctx) -> dict[str, Any]:
    chain = ctx.resource("daily_chain").get(ctx, ctx.path["daily_chain_id"])
    if chain is None or not _daily_visible(ctx, chain):
        chain_not_found(ctx, ctx.path["daily_chain_id"])
    return chain


def daily_position(ctx: Ctx, chain: Mapping[str, Any], user: str) -> dict[str, Any]:
    """Where the user stands in a daily chain today.

    Days are counted from `date_start` (day 0), on its time of day; one step
    can be claimed per day, in order.

    - `fixed`: the calendar decides. Day d offers step d+1 (with
      `is_recurrent`, step d mod n + 1 of cycle d div n; without, the chain is
      over after day n-1). A step not claimed on its day is lost for good: the
      next day offers the next step.
    - `rolling`: the user's own progress decides. The current step is the one
      after the last claimed; it can be claimed on any later day than the last
      claim. A missed day earns nothing and is not made up later: the user
      continues with the next step. With `is_recurrent` the chain starts over
      at step 1 after the last step; without, it is completed.
    """
    steps, today = len(chain["steps"]), (ctx.now - parse_datetime(chain["date_start"])) // DAY
    state = progress(ctx, "daily_chain", chain["id"]).get(user) or {}
    recurrent = bool(chain.get("is_recurrent"))
    if chain.get("type") == "fixed":
        cycle, index = divmod(today, steps)
        days = state.get("days", [])
        claimed = {d % steps + 1 for d in days if d // steps == cycle}
        current = None if cycle and not recurrent else index + 1
        available = current is not None and today not in days
        final = not recurrent and today + 1 >= steps
        next_day = None if current is None or available or final else today + 1
    else:
        last, last_day = state.get("step", 0), state.get("day")
        claimed = set(range(1, last + 1))
        current = last + 1 if last < steps else (1 if recurrent else None)
        available = current is not None and (last_day is None or today > last_day)
        next_day = None if current is None or available else last_day + 1
    opens = parse_datetime(chain["date_start"]) + next_day * DAY if next_day is not None else None
    if opens and chain.get("date_end") and opens >= parse_datetime(chain["date_end"]):
        opens = None
    return {
        "today": today,
        "current": current,
        "available": available,
        "claimed": claimed,
        "next_claim_date": iso(opens) if opens else None,
    }


def client_daily_chain(ctx: Ctx, chain: Mapping[str, Any]) -> dict[str, Any]:
    position = daily_position(ctx, chain, ctx.user_id)
    steps = [
        {
            "step_number": s["step_number"],
            "is_claimed": s["step_number"] in position["claimed"],
            "items": [item_ref(ctx, i["sku"], i["quantity"]) for i in s["items"]],
        }
        for s in chain["steps"]
    ]
    fields = ("id", "name", "description", "type", "is_recurrent", "date_start", "date_end", "order")
    return {
        **{k: chain.get(k) for k in fields},
        "number_of_steps": len(steps),
        "steps": steps,
        "current_step_number": position["current"],
        "is_claim_available": position["available"],
        "next_claim_date": position["next_claim_date"],
    }


@hook("get-daily-chains-list")
def user_daily_chains(ctx: Ctx) -> Reply:
    chains = [c for c in ctx.resource("daily_chain").all(ctx) if _daily_visible(ctx, c)]
    return paged_reply(ctx, [client_daily_chain(ctx, c) for c in chains])


@hook("get-user-daily-chain-by-id")
def user_daily_chain(ctx: Ctx) -> Reply:
    return ctx.reply(client_daily_chain(ctx, _visible_daily_chain(ctx)))


@hook("claim-user-daily-chain-step-reward")
def claim_daily_chain_step(ctx: Ctx) -> Reply:
    """Claim today's step (see `daily_position`); its items arrive through a free order."""
    chain = _visible_daily_chain(ctx)
    user, number = ctx.user_id, ctx.path["step_number"]
    position = daily_position(ctx, chain, user)
    if position["current"] is None:
        invalid(ctx, "The daily chain is completed")
    if number != position["current"]:
        invalid(ctx, f"Step {number} cannot be claimed: the current step is {position['current']}")
    if not position["available"]:
        invalid(ctx, f"Today's step was claimed already; the next opens at {position['next_claim_date']}")
    users = progress(ctx, "daily_chain", chain["id"])
    state = users.setdefault(user, {})
    if chain.get("type") == "fixed":
        state.setdefault("days", []).append(position["today"])
    else:
        state.update(step=number, day=position["today"])
    ctx.put(PROGRESS["daily_chain"], chain["id"], users)
    step_items = chain["steps"][number - 1]["items"]
    lines = [order_line(ctx, i["sku"], i["quantity"], None, True) for i in step_items]
    order = orders.create(
        ctx,
        lines,
        mode="free",
        status="done",
        source={"daily_chain": chain["id"], "step_number": number, "reward": True},
    )
    return ctx.reply({"order_id": order["order_id"]})


@hook("admin-reset-daily-chain")
def reset_daily_chain(ctx: Ctx) -> Reply:
    """Every user starts the chain again from step 1; only `rolling` chains can be reset."""
    chain = ctx.resource("daily_chain").find(ctx)
    if chain.get("type") != "rolling":
        invalid(ctx, "Only daily chains of type `rolling` can be reset")
    ctx.delete(PROGRESS["daily_chain"], chain["id"])
    return ctx.reply(None)


# --------------------------------------------------------------- debugging


def chains_summary(ctx: Ctx, user: str) -> dict[str, Any]:
    """The user's clan, value-point balances, and raw progress in every chain (by chain id)."""
    out: dict[str, Any] = {
        "clan": (ctx.get(CLAN_MEMBER, user) or {}).get("clan"),
        "value_points": {
            vp["sku"]: inventory.balance(ctx, vp["sku"], user) for vp in ctx.resource("value_point").all(ctx)
        },
    }
    for name, kind in PROGRESS.items():
        records = ctx.tx.items(ctx.project_id, kind)
        out[f"{name}s"] = {key: users[user] for key, users in records if user in users}
    return out


USER_SUMMARIES["chains"] = chains_summary
