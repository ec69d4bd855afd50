"""Value points, reward chains, clans, daily chains and offer chains, end to end through HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from xsolla_contract.mocks.clock import iso, parse_datetime
from xsolla_contract.toolkit.testing import ContractClient

P, P3 = "/v2/project/{project_id}", "/v3/project/{project_id}"
ITEMS = f"{P}/admin/items/virtual_items"
CURRENCIES = f"{P}/admin/items/virtual_currency"
VALUE_POINTS = f"{P}/admin/items/value_points"
VP_REWARDS = f"{P}/admin/items/{{value_point_sku}}/value_points/rewards"
BUY = f"{P}/payment/item/{{item_sku}}"
REWARD_CHAINS, REWARD_CHAIN = f"{P3}/admin/reward_chain", f"{P3}/admin/reward_chain/id/{{reward_chain_id}}"
USER_REWARD_CHAINS = f"{P}/user/reward_chain"
BALANCE = f"{P}/user/reward_chain/{{reward_chain_id}}/balance"
CLAIM_REWARD = f"{P}/user/reward_chain/{{reward_chain_id}}/step/{{step_id}}/claim"
TOP = f"{P}/user/clan/contributors/{{reward_chain_id}}/top"
CLAN_UPDATE = f"{P}/user/clan/update"
DAILY_CHAINS, DAILY_CHAIN = f"{P}/admin/daily_chain", f"{P}/admin/daily_chain/id/{{daily_chain_id}}"
USER_DAILY = f"{P}/user/daily_chain/{{daily_chain_id}}"
CLAIM_DAILY = f"{P}/user/daily_chain/{{daily_chain_id}}/step/number/{{step_number}}/claim"
OFFER_CHAINS, OFFER_CHAIN = f"{P}/admin/offer_chain", f"{P}/admin/offer_chain/id/{{offer_chain_id}}"
USER_OFFER = f"{P}/user/offer_chain/{{offer_chain_id}}"
OFFER_STEP = f"{P}/user/offer_chain/{{offer_chain_id}}/step/number/{{step_number}}/{{action}}"


# ------------------------------------------------------------------ helpers


def create(api: ContractClient, template: str, body: Any, **params: Any) -> Any:
    answer = api.post(api.path(template, **params), json=body, headers=api.admin())
    assert answer.status == 201, answer.data
    return answer.data


def item(api: ContractClient, sku: str, price: float | None = 4.99) -> None:
    """A virtual item (free when `price` is None), unless it exists already."""
    if api.get(api.path(f"{ITEMS}/sku/{sku}"), headers=api.admin()).status == 200:
        return
    prices = [{"amount": price, "currency": "USD", "is_default": True}] if price else []
    create(api, ITEMS, {"sku": sku, "name": {"en": sku.title()}, "prices": prices, "is_free": price is None})


def value_point(api: ContractClient, sku: str = "glory", **extra: Any) -> None:
    create(api, VALUE_POINTS, {"sku": sku, "name": {"en": sku.title()}, **extra})


def inventory(api: ContractClient, user: str) -> dict[str, Any]:
    return api.control("GET", f"users/{user}")["inventory"]


def now(api: ContractClient):
    return parse_datetime(api.control("GET", "clock")["now"])


def reward_chain(
    api: ContractClient, vp: str = "glory", prices: tuple[int, ...] = (100, 250), **extra: Any
) -> tuple[int, list[int]]:
    """A chain on `vp` whose step n costs prices[n] and grants one `reward_<n>`; returns id and step ids."""
    for n in range(len(prices)):
        item(api, f"reward_{n}")
    body = {
        "name": {"en": "Season"},
        "is_enabled": True,
        "value_point": {"sku": vp},
        "periods": [{"date_from": "2020-01-01T00:00:00+00:00", "date_until": None}],
        "steps": [
            {"name": {"en": f"Tier {n}"}, "price": {"amount": price}, "reward": [{"sku": f"reward_{n}", "quantity": 1}]}
            for n, price in enumerate(prices)
        ],
        **extra,
    }
    chain_id = create(api, REWARD_CHAINS, body)["reward_chain_id"]
    chain = api.get(api.path(REWARD_CHAIN, reward_chain_id=chain_id), headers=api.admin()).data
    return chain_id, [s["step_id"] for s in chain["steps"]]


def claim_reward(api: ContractClient, chain_id: int, step_id: int, user: str = "u1", **attributes: Any):
    path = api.path(CLAIM_REWARD, reward_chain_id=chain_id, step_id=step_id)
    return api.post(path, headers=api.user(user, **attributes))


def user_chains(api: ContractClient, user: str = "u1", **attributes: Any) -> list[dict[str, Any]]:
    return api.get(api.path(USER_REWARD_CHAINS), headers=api.user(user, **attributes)).data["items"]


# ------------------------------------------------------------ value points


def test_value_point_rewards_set_patch_delete_and_purchase_grants_points(api: ContractClient) -> None:
    for sku in ("sword", "shield"):
        item(api, sku)
    value_point(api)
    path = api.path(VP_REWARDS, value_point_sku="glory")
    assert (
        api.put(path, json=[{"sku": "sword", "amount": 10}, {"sku": "shield", "amount": 5}], headers=api.admin()).status
        == 204
    )
    listed = api.get(path, headers=api.admin()).data["items"]
    assert {(i["sku"], i["amount"]) for i in listed} == {("sword", 10), ("shield", 5)}

    assert (
        api.patch(
            path, json=[{"sku": "sword", "amount": 25}, {"sku": "shield", "amount": 0}], headers=api.admin()
        ).status
        == 204
    )
    listed = api.get(path, headers=api.admin()).data["items"]
    assert [(i["sku"], i["amount"]) for i in listed] == [("sword", 25)]

    unknown = api.put(path, json=[{"sku": "nothing", "amount": 3}], headers=api.admin())
    assert (unknown.status, unknown.data["errorCode"]) == (422, 1102)
    assert [i["sku"] for i in api.get(path, headers=api.admin()).data["items"]] == ["sword"]
    missing_vp = api.get(api.path(VP_REWARDS, value_point_sku="nope"), headers=api.admin())
    assert (missing_vp.status, missing_vp.data["errorCode"]) == (404, 4001)

    order = api.post(api.path(BUY, item_sku="sword"), json={}, headers=api.user("u1")).data
    api.set_order_status(order["order_id"], "paid")
    assert inventory(api, "u1")["glory"] == 25

    assert api.delete(path, headers=api.admin()).status == 204
    assert api.get(path, headers=api.admin()).data["items"] == []
    order = api.post(api.path(BUY, item_sku="sword"), json={}, headers=api.user("u1")).data
    api.set_order_status(order["order_id"], "paid")
    assert inventory(api, "u1")["glory"] == 25 and inventory(api, "u1")["sword"] == 2

    api.put(path, json=[{"sku": "sword", "amount": 10}], headers=api.admin())
    assert api.delete(api.path(f"{VALUE_POINTS}/sku/glory"), headers=api.admin()).status == 204
    value_point(api)  # the same SKU again starts without item rewards
    assert api.get(path, headers=api.admin()).data["items"] == []


# ----------------------------------------------------------- reward chains


def test_reward_chain_claim_needs_balance_and_works_once(api: ContractClient) -> None:
    value_point(api)
    chain_id, (first, second) = reward_chain(api)
    [chain] = user_chains(api)
    assert chain["value_point"]["amount"] == 0 and [s["is_claimed"] for s in chain["steps"]] == [False, False]
    poor = claim_reward(api, chain_id, first)
    assert (poor.status, poor.data["errorCode"]) == (422, 9913)

    api.grant("u1", "glory", 120)
    balance = api.get(api.path(BALANCE, reward_chain_id=chain_id), headers=api.user("u1")).data
    assert (balance["sku"], balance["amount"], balance["is_clan"]) == ("glory", 120, False)
    assert claim_reward(api, chain_id, first).status == 204
    assert inventory(api, "u1") == {"glory": 120, "reward_0": 1}  # the price is a threshold, not spent

    again = claim_reward(api, chain_id, first)
    assert (again.status, again.data["errorCode"]) == (422, 9912)
    too_far = claim_reward(api, chain_id, second)
    assert (too_far.status, too_far.data["errorCode"]) == (422, 9913)
    unknown = claim_reward(api, chain_id, 9999)
    assert (unknown.status, unknown.data["errorCode"]) == (404, 9911)
    assert [s["is_claimed"] for s in user_chains(api)[0]["steps"]] == [True, False]
    assert [s["is_claimed"] for s in user_chains(api, "u2")[0]["steps"]] == [False, False]


def test_reward_chain_reset_zeroes_balances_and_progress(api: ContractClient) -> None:
    value_point(api)
    chain_id, (first, _) = reward_chain(api)
    api.grant("u1", "glory", 300)
    api.grant("u2", "glory", 40)
    assert claim_reward(api, chain_id, first).status == 204
    reset = api.path(f"{REWARD_CHAIN}/reset", reward_chain_id=chain_id)
    assert api.post(reset, headers=api.admin()).status == 204
    for user in ("u1", "u2"):
        [chain] = user_chains(api, user)
        assert chain["value_point"]["amount"] == 0 and not any(s["is_claimed"] for s in chain["steps"])
    assert inventory(api, "u1")["reward_0"] == 1  # rewards already received stay
    api.grant("u1", "glory", 100)
    assert claim_reward(api, chain_id, first).status == 204


def test_reward_chain_toggle_hides_it_from_users(api: ContractClient) -> None:
    value_point(api)
    chain_id, (first, _) = reward_chain(api)
    api.grant("u1", "glory", 500)
    toggle = api.path(f"{REWARD_CHAIN}/toggle", reward_chain_id=chain_id)
    assert api.put(toggle, headers=api.admin()).status == 204
    assert user_chains(api) == []
    hidden = api.get(api.path(BALANCE, reward_chain_id=chain_id), headers=api.user("u1"))
    assert (hidden.status, hidden.data["errorCode"]) == (404, 9901)
    refused = claim_reward(api, chain_id, first)
    assert (refused.status, refused.data["errorCode"]) == (404, 9911)
    disabled = api.get(api.path(REWARD_CHAINS), params={"enabled": 0}, headers=api.admin()).data["items"]
    assert [c["reward_chain_id"] for c in disabled] == [chain_id] and disabled[0]["is_enabled"] is False
    assert api.put(toggle, headers=api.admin()).status == 204
    assert claim_reward(api, chain_id, first).status == 204


def test_reward_chain_schedule_starts_each_period_from_zero(api: ContractClient) -> None:
    item(api, "sword")
    value_point(api)
    rewards = [{"sku": "sword", "amount": 30}]
    api.put(api.path(VP_REWARDS, value_point_sku="glory"), json=rewards, headers=api.admin())
    chain_id, (first, _) = reward_chain(
        api, recurrent_schedule={"interval_type": "weekly", "day_of_week": 1, "time": "00:00:00+00:00"}
    )
    config = api.get(api.path(REWARD_CHAIN, reward_chain_id=chain_id), headers=api.admin()).data
    schedule = config["recurrent_schedule"]
    assert schedule["reset_next_date"] > now(api).timestamp()
    api.grant("u1", "glory", 150)
    assert claim_reward(api, chain_id, first).status == 204
    api.advance("P7D")
    [chain] = user_chains(api)
    assert chain["value_point"]["amount"] == 0 and not chain["steps"][0]["is_claimed"]
    api.advance("P7D")
    order = api.post(api.path(BUY, item_sku="sword"), json={}, headers=api.user("u1")).data
    api.set_order_status(order["order_id"], "paid")  # points earned in the new period count
    assert user_chains(api)[0]["value_point"]["amount"] == 30


def test_personalized_reward_chain_shows_to_matching_users_only(api: ContractClient) -> None:
    value_point(api)
    gold_id, _ = reward_chain(
        api,
        is_always_visible=False,
        attribute_conditions=[{"attribute": "league", "type": "string", "operator": "eq", "value": "gold"}],
    )
    fallback_id, _ = reward_chain(api, prices=(10,), is_always_visible=False)
    assert [c["reward_chain_id"] for c in user_chains(api, league="gold")] == [gold_id]
    assert [c["reward_chain_id"] for c in user_chains(api, league="silver")] == [fallback_id]


def test_reward_chain_admin_validation(api: ContractClient) -> None:
    value_point(api)
    body = {
        "name": {"en": "Bad"},
        "is_enabled": True,
        "value_point": {"sku": "unknown_vp"},
        "steps": [],
        "periods": [{"date_from": "2026-01-01T00:00:00+00:00"}],
    }
    refused = api.post(api.path(REWARD_CHAINS), json=body, headers=api.admin())
    assert (refused.status, refused.data["errorCode"]) == (422, 1102)
    body["value_point"] = {"sku": "glory"}
    body["periods"] = [{"date_from": "2026-02-01T00:00:00+00:00", "date_until": "2026-01-01T00:00:00+00:00"}]
    assert api.post(api.path(REWARD_CHAINS), json=body, headers=api.admin()).status == 422
    assert api.get(api.path(REWARD_CHAINS), headers=api.admin()).data["items"] == []


# ------------------------------------------------------------------ clans


def test_clan_members_share_progress_and_leaving_claims_unclaimed_rewards(api: ContractClient) -> None:
    value_point(api, "war_tokens", is_clan=True)
    chain_id, (first, second) = reward_chain(api, "war_tokens", prices=(100, 1000), clan_type="guild")
    for user, clan, points in (("ana", "wolves", 70), ("bo", "wolves", 50), ("cy", "bears", 500)):
        api.grant(user, "war_tokens", points)
        assert api.put(api.path(CLAN_UPDATE), headers=api.user(user, clan=clan)).data == {"reward": []}

    top = api.get(api.path(TOP, reward_chain_id=chain_id), headers=api.user("ana", clan="wolves")).data
    assert top == [{"name": "ana", "contributed_amount": 70}, {"name": "bo", "contributed_amount": 50}]
    [chain] = user_chains(api, "ana", clan="wolves")
    assert chain["value_point"] == {**chain["value_point"], "amount": 120, "is_clan": True}
    assert chain["top_contributors"] == top
    assert api.get(api.path(TOP, reward_chain_id=chain_id), headers=api.user("loner")).data == []
    assert user_chains(api, "loner")[0]["value_point"]["amount"] == 0

    moved = api.put(api.path(CLAN_UPDATE), headers=api.user("ana", clan="bears")).data
    assert [(r["sku"], r["quantity"]) for r in moved["reward"]] == [("reward_0", 1)]
    assert inventory(api, "ana")["reward_0"] == 1
    assert api.get(api.path(TOP, reward_chain_id=chain_id), headers=api.user("bo", clan="wolves")).data == [
        {"name": "bo", "contributed_amount": 50}
    ]
    bears = api.get(api.path(TOP, reward_chain_id=chain_id), headers=api.user("ana", clan="bears")).data
    assert [t["name"] for t in bears] == ["cy", "ana"]
    assert claim_reward(api, chain_id, first, "ana", clan="bears").status == 204  # a new clan, a new claim
    assert inventory(api, "ana")["reward_0"] == 2

    assert api.put(api.path(CLAN_UPDATE), headers=api.user("ana")).data == {"reward": []}
    assert api.get(api.path(TOP, reward_chain_id=chain_id), headers=api.user("ana")).data == []
    assert api.control("GET", "users/ana")["chains"]["clan"] is None
    missing = api.get(api.path(TOP, reward_chain_id=999), headers=api.user("ana"))
    assert (missing.status, missing.data["errorCode"]) == (404, 9901)


# ------------------------------------------------------------ daily chains


def daily_chain(api: ContractClient, kind: str = "rolling", steps: int = 3, **extra: Any) -> int:
    """A chain that started an hour ago; step n grants 10 * n gold."""
    if api.get(api.path(f"{CURRENCIES}/sku/gold"), headers=api.admin()).status == 404:
        create(api, CURRENCIES, {"sku": "gold", "name": {"en": "Gold"}})
    start = now(api) - timedelta(hours=1)
    body = {
        "name": {"en": "Login"},
        "is_enabled": True,
        "type": kind,
        "date_start": iso(start),
        "steps": [{"step_number": n, "items": [{"sku": "gold", "quantity": 10 * n}]} for n in range(1, steps + 1)],
        **extra,
    }
    return create(api, DAILY_CHAINS, body)["daily_chain_id"]


def claim_daily(api: ContractClient, chain_id: int, number: int, user: str = "u1"):
    path = api.path(CLAIM_DAILY, daily_chain_id=chain_id, step_number=number)
    return api.post(path, headers=api.user(user))


def user_daily(api: ContractClient, chain_id: int, user: str = "u1") -> dict[str, Any]:
    return api.get(api.path(USER_DAILY, daily_chain_id=chain_id), headers=api.user(user)).data


def test_daily_chain_one_step_a_day_in_order(api: ContractClient) -> None:
    chain_id = daily_chain(api)
    listed = api.get(api.path(f"{P}/user/daily_chain"), headers=api.user("u1")).data
    assert [c["id"] for c in listed["items"]] == [chain_id] and listed["total_items_count"] == 1
    view = user_daily(api, chain_id)
    assert (view["current_step_number"], view["is_claim_available"], view["number_of_steps"]) == (1, True, 3)
    ahead = claim_daily(api, chain_id, 2)
    assert (ahead.status, ahead.data["errorCode"]) == (422, 1102)
    first = claim_daily(api, chain_id, 1)
    assert first.status == 200 and first.data["order_id"] >= 1
    assert inventory(api, "u1")["gold"] == 10
    for number in (1, 2):
        assert claim_daily(api, chain_id, number).status == 422  # one claim per day
    view = user_daily(api, chain_id)
    config = api.get(api.path(DAILY_CHAIN, daily_chain_id=chain_id), headers=api.admin()).data
    start = parse_datetime(config["date_start"])
    assert [s["is_claimed"] for s in view["steps"]] == [True, False, False]
    assert (view["current_step_number"], view["is_claim_available"]) == (2, False)
    assert parse_datetime(view["next_claim_date"]) == start + timedelta(days=1)

    api.advance("P1D")
    assert claim_daily(api, chain_id, 2).status == 200
    assert inventory(api, "u1")["gold"] == 30
    assert user_daily(api, chain_id, "u2")["current_step_number"] == 1  # progress is per user


def test_daily_chain_missed_day_by_type(api: ContractClient) -> None:
    rolling, fixed = daily_chain(api, "rolling"), daily_chain(api, "fixed")
    for chain_id in (rolling, fixed):
        assert claim_daily(api, chain_id, 1).status == 200
    api.advance("P2D")  # day 1 is missed
    # fixed: the calendar moved on, step 2 is lost and today's step is 3
    assert claim_daily(api, fixed, 2).status == 422
    assert user_daily(api, fixed)["current_step_number"] == 3
    assert claim_daily(api, fixed, 3).status == 200
    assert [s["is_claimed"] for s in user_daily(api, fixed)["steps"]] == [True, False, True]
    # rolling: the user continues with the next step; the missed day is not made up
    assert claim_daily(api, rolling, 2).status == 200
    assert claim_daily(api, rolling, 3).status == 422
    assert inventory(api, "u1")["gold"] == 10 + 10 + 30 + 20


def test_daily_chain_completes_or_starts_over(api: ContractClient) -> None:
    once, recurrent = daily_chain(api, steps=1), daily_chain(api, steps=1, is_recurrent=True)
    for chain_id in (once, recurrent):
        assert claim_daily(api, chain_id, 1).status == 200
    api.advance("P1D")
    assert user_daily(api, once)["current_step_number"] is None
    assert claim_daily(api, once, 1).status == 422
    assert claim_daily(api, recurrent, 1).status == 200


def test_daily_chain_reset_update_and_toggle(api: ContractClient) -> None:
    rolling, fixed = daily_chain(api, "rolling"), daily_chain(api, "fixed")
    assert claim_daily(api, rolling, 1).status == 200
    reset = api.path(f"{DAILY_CHAIN}/reset", daily_chain_id=rolling)
    assert api.post(reset, headers=api.admin()).status == 204
    view = user_daily(api, rolling)
    assert (view["current_step_number"], view["is_claim_available"]) == (1, True)
    not_rolling = api.post(api.path(f"{DAILY_CHAIN}/reset", daily_chain_id=fixed), headers=api.admin())
    assert (not_rolling.status, not_rolling.data["errorCode"]) == (422, 1102)

    path = api.path(DAILY_CHAIN, daily_chain_id=rolling)
    config = api.get(path, headers=api.admin()).data
    body = {k: config[k] for k in ("name", "type", "date_start", "is_enabled")}
    body["steps"] = [
        {"step_id": s["step_id"], "step_number": s["step_number"], "items": [{"sku": "gold", "quantity": 99}]}
        for s in config["steps"]
    ]
    active = api.put(path, json=body, headers=api.admin())
    assert (active.status, active.data["errorCode"]) == (422, 6209)
    toggle = api.path(f"{DAILY_CHAIN}/toggle", daily_chain_id=rolling)
    assert api.put(toggle, headers=api.admin()).status == 204
    hidden = api.get(api.path(USER_DAILY, daily_chain_id=rolling), headers=api.user("u1"))
    assert (hidden.status, hidden.data["errorCode"]) == (404, 6201)
    assert api.put(path, json={**body, "is_enabled": False}, headers=api.admin()).status == 204
    updated = api.get(path, headers=api.admin()).data
    assert [s["step_id"] for s in updated["steps"]] == [s["step_id"] for s in config["steps"]]
    assert updated["steps"][0]["items"][0]["quantity"] == 99 and updated["number_of_steps"] == 3
    stranger = [{**body["steps"][0], "step_id": 999}]
    unknown = api.put(path, json={**body, "steps": stranger}, headers=api.admin())
    assert (unknown.status, unknown.data["errorCode"]) == (422, 6206)
    assert api.put(toggle, headers=api.admin()).status == 204
    assert user_daily(api, rolling)["steps"][0]["items"][0]["quantity"] == 99


# ------------------------------------------------------------ offer chains


def offer_chain(api: ContractClient, **extra: Any) -> int:
    item(api, "potion", 1.99)
    item(api, "sword", 4.99)
    item(api, "cape")
    body = {
        "name": {"en": "Starter path"},
        "date_start": "2020-01-01T00:00:00+00:00",
        "is_enabled": True,
        "steps": [
            {"step_number": 1, "is_free": True, "items": [{"sku": "potion", "quantity": 2}]},
            {"step_number": 2, "is_free": False, "items": [{"sku": "sword", "quantity": 1}]},
            {"step_number": 3, "is_free": True, "items": [{"sku": "cape", "quantity": 1}]},
        ],
        **extra,
    }
    return create(api, OFFER_CHAINS, body)["offer_chain_id"]


def take(api: ContractClient, chain_id: int, number: int, action: str = "claim", user: str = "u1"):
    return api.post(
        api.path(OFFER_STEP, offer_chain_id=chain_id, step_number=number, action=action), headers=api.user(user)
    )


def user_offer(api: ContractClient, chain_id: int, user: str = "u1") -> dict[str, Any]:
    return api.get(api.path(USER_OFFER, offer_chain_id=chain_id), headers=api.user(user)).data


def test_offer_chain_free_and_paid_steps_in_order(api: ContractClient) -> None:
    chain_id = offer_chain(api)
    listed = api.get(api.path(f"{P}/user/offer_chain"), headers=api.user("u1")).data["items"]
    assert [c["id"] for c in listed] == [chain_id]
    admin = api.get(api.path(OFFER_CHAINS), headers=api.admin()).data["items"]
    assert admin[0]["number_of_steps"] == 3 and "steps" not in admin[0]
    view = user_offer(api, chain_id)
    assert view["next_step_number"] == 1
    assert [s["step_price"] for s in view["steps"]] == [None, {"amount": 4.99, "currency": "USD"}, None]
    for number, action in ((2, "order"), (1, "order")):
        refused = take(api, chain_id, number, action)
        assert (refused.status, refused.data["errorCode"]) == (422, 6306)
    assert take(api, chain_id, 1).status == 200
    assert inventory(api, "u1")["potion"] == 2
    paid_by_claim = take(api, chain_id, 2)
    assert (paid_by_claim.status, paid_by_claim.data["errorCode"]) == (422, 6306)

    ordered = take(api, chain_id, 2, "order")
    assert ordered.status == 200 and ordered.data["token"]
    order = api.path(f"{P}/order/{{order_id}}", order_id=ordered.data["order_id"])
    assert api.get(order, headers=api.user("u1")).data["status"] == "new"
    assert user_offer(api, chain_id)["next_step_number"] == 2 and take(api, chain_id, 3).status == 422

    api.set_order_status(ordered.data["order_id"], "paid")
    view = user_offer(api, chain_id)
    assert view["next_step_number"] == 3 and [s["is_claimed"] for s in view["steps"]] == [True, True, False]
    assert inventory(api, "u1")["sword"] == 1
    assert take(api, chain_id, 3).status == 200
    assert user_offer(api, chain_id)["next_step_number"] is None
    missing = take(api, chain_id, 9)
    assert (missing.status, missing.data["errorCode"]) == (404, 6304)


def test_offer_chain_toggle_keeps_progress_and_delete_drops_it(api: ContractClient) -> None:
    chain_id = offer_chain(api)
    assert take(api, chain_id, 1).status == 200
    path = api.path(OFFER_CHAIN, offer_chain_id=chain_id)
    config = api.get(path, headers=api.admin()).data
    steps = [
        {
            "step_id": s["step_id"],
            "step_number": s["step_number"],
            "is_free": s["is_free"],
            "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in s["items"]],
        }
        for s in config["steps"]
    ]
    body = {"name": {"en": "Renamed"}, "date_start": config["date_start"], "is_enabled": True, "steps": steps}
    active = api.put(path, json=body, headers=api.admin())
    assert (active.status, active.data["errorCode"]) == (422, 6307)

    toggle = api.path(f"{OFFER_CHAIN}/toggle", offer_chain_id=chain_id)
    assert api.put(toggle, headers=api.admin()).status == 204
    hidden = api.get(api.path(USER_OFFER, offer_chain_id=chain_id), headers=api.user("u1"))
    assert (hidden.status, hidden.data["errorCode"]) == (404, 6201)
    assert take(api, chain_id, 2, "order").status == 404
    assert api.put(path, json={**body, "is_enabled": False}, headers=api.admin()).status == 204
    assert api.put(toggle, headers=api.admin()).status == 204
    view = user_offer(api, chain_id)
    assert view["name"] == "Renamed" and view["next_step_number"] == 2  # progress survived

    assert api.delete(path, headers=api.admin()).status == 204
    assert api.get(path, headers=api.admin()).status == 404
    assert api.control("GET", "users/u1")["chains"]["offer_chains"] == {}


def step(number: int, sku: str, is_free: bool = True) -> dict[str, Any]:
    return {"step_number": number, "is_free": is_free, "items": [{"sku": sku, "quantity": 1}]}


@pytest.mark.parametrize(
    "steps, code",
    [
        pytest.param([step(1, "potion"), step(3, "cape")], 6302, id="gap"),
        pytest.param([step(1, "unknown")], 6303, id="unknown-item"),
        pytest.param([step(1, "cape", is_free=False)], 6303, id="paid-without-price"),
        pytest.param([step(1, "potion"), step(2, "potion")], 6303, id="item-twice"),
    ],
)
def test_offer_chain_refuses_invalid_steps(api: ContractClient, steps: list[dict[str, Any]], code: int) -> None:
    item(api, "potion", 1.99)
    item(api, "cape", None)
    body = {"name": {"en": "Bad"}, "date_start": "2020-01-01T00:00:00+00:00", "is_enabled": False, "steps": steps}
    refused = api.post(api.path(OFFER_CHAINS), json=body, headers=api.admin())
    assert (refused.status, refused.data["errorCode"]) == (422, code)
    assert api.get(api.path(OFFER_CHAINS), headers=api.admin()).data["items"] == []


def test_offer_chain_resets_on_completion(api: ContractClient) -> None:
    item(api, "potion", 1.99)
    body = {
        "name": {"en": "Loop"},
        "date_start": "2020-01-01T00:00:00+00:00",
        "is_enabled": True,
        "is_reset_on_completion": True,
        "steps": [{"step_number": 1, "is_free": True, "items": [{"sku": "potion", "quantity": 1}]}],
    }
    chain_id = create(api, OFFER_CHAINS, body)["offer_chain_id"]
    for _ in range(2):
        assert take(api, chain_id, 1).status == 200
    assert inventory(api, "u1")["potion"] == 2 and user_offer(api, chain_id)["next_step_number"] == 1


def test_a_paid_step_whose_item_lost_its_price_is_refused_not_a_crash(api: ContractClient) -> None:
    chain_id = offer_chain(api)
    assert take(api, chain_id, 1).status == 200
    unpriced = {"sku": "sword", "name": {"en": "Sword"}}  # the shop drops the sword's price after the chain was made
    sku = api.path(f"{P}/admin/items/virtual_items/sku/sword")
    assert api.put(sku, json=unpriced, headers=api.admin()).status == 204
    ordered = take(api, chain_id, 2, "order")
    assert (ordered.status, ordered.data["errorCode"]) == (422, 6306)


def test_offer_chain_paid_step_whose_item_lost_its_price_is_refused(api: ContractClient) -> None:
    chain_id = offer_chain(api)
    assert take(api, chain_id, 1).status == 200
    free_sword = {"sku": "sword", "name": {"en": "Sword"}, "is_free": True}
    assert api.put(api.path(f"{ITEMS}/sku/sword"), json=free_sword, headers=api.admin()).status == 204
    refused = take(api, chain_id, 2, "order")  # the paid step has no price to charge any more
    assert (refused.status, refused.data["errorCode"]) == (422, 6306)
