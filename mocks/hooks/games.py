"""Games: the DRM platforms, the code stock of game keys, and the games users own.

Code stock, kind `game_keys`, keyed by the game key SKU:

    {"codes": [available codes, in upload order],
     "used": [codes that left the stock: handed out by an admin or sold],
     "activated": [codes turned into an entitlement: sold or redeemed],
     "regions": {code: region_id}}  # codes uploaded for a region other than the default (1)

A code is unique across the project's game keys. Upload sessions live in kind
`game_code_session`, keyed by the session ID.

Entitlements, kind `entitlement`, keyed by the user ID:

    {"games": [{"game_sku", "key_sku" (or null), "drm", "mode": "default" | "sandbox",
                "codes": [codes behind it], "source": "purchase" | "admin" | "redeem",
                "order_id" (purchases), "granted": ISO date-time}]}

A user holds at most one entitlement per game, DRM platform and mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from ..clock import iso, parse_datetime
from ..context import USER_SUMMARIES, index
from ..resources import paged_reply
from ..rules import items, orders
from .registry import hook

if TYPE_CHECKING:
    from ..context import Ctx, Reply

DEFAULT_REGION = 1
IMAGES = "https://cdn.xsolla.net/img/misc/images"

# The DRM platforms Xsolla sells game keys for (the service's fixed list).
DRMS: list[dict[str, Any]] = [
    {
        "drm_id": 1,
        "sku": "steam",
        "name": "Steam",
        "link": "https://store.steampowered.com/",
        "redeem_instruction_link": "https://help.steampowered.com/en/faqs/view/2A12-9D79-C3D7-F870",
    },
    {
        "drm_id": 2,
        "sku": "playstation",
        "name": "PlayStation",
        "link": "https://store.playstation.com/",
        "redeem_instruction_link": "https://www.playstation.com/en-us/support/store/redeem-ps-store-voucher-code/",
    },
    {
        "drm_id": 3,
        "sku": "xbox",
        "name": "Xbox",
        "link": "https://www.xbox.com/",
        "redeem_instruction_link": "https://support.xbox.com/en-US/help/subscriptions-billing/redeem-codes-gifting/redeem-prepaid-codes",
    },
    {
        "drm_id": 4,
        "sku": "uplay",
        "name": "Uplay",
        "link": "https://store.ubi.com/",
        "redeem_instruction_link": "https://www.ubisoft.com/en-us/help/purchases-and-rewards/article/activating-a-product-key-on-ubisoft-connect/000061061",
    },
    {
        "drm_id": 5,
        "sku": "origin",
        "name": "Origin",
        "link": "https://www.origin.com/",
        "redeem_instruction_link": "https://help.ea.com/en/help/pc/how-to-redeem-a-product-code/",
    },
    {
        "drm_id": 6,
        "sku": "drmfree",
        "name": "DRM free",
        "link": None,
        "redeem_instruction_link": "https://developers.xsolla.com/doc/buy-button/how-to/set-up-drm-free-games/",
    },
    {
        "drm_id": 7,
        "sku": "gog",
        "name": "GOG",
        "link": "https://www.gog.com/",
        "redeem_instruction_link": "https://www.gog.com/redeem",
    },
    {
        "drm_id": 8,
        "sku": "epicgames",
        "name": "Epic Games",
        "link": "https://store.epicgames.com/",
        "redeem_instruction_link": "https://www.epicgames.com/help/en-US/c-Category_EpicGamesStore/c-EpicGamesStore_Purchases/how-do-i-redeem-a-product-code-on-the-epic-games-store-a000084745",
    },
    {
        "drm_id": 9,
        "sku": "nintendo_eshop",
        "name": "Nintendo eShop",
        "link": "https://www.nintendo.com/store/",
        "redeem_instruction_link": "https://en-americas-support.nintendo.com/app/answers/detail/a_id/22429",
    },
    {
        "drm_id": 10,
        "sku": "discord_game_store",
        "name": "Discord Game Store",
        "link": "https://discord.com/",
        "redeem_instruction_link": "https://support.discord.com/hc/en-us/articles/360025469232",
    },
    {
        "drm_id": 11,
        "sku": "oculus",
        "name": "Oculus",
        "link": "https://www.oculus.com/experiences/",
        "redeem_instruction_link": "https://www.meta.com/help/quest/articles/getting-started/getting-started-with-quest-2/redeem-code/",
    },
    {
        "drm_id": 12,
        "sku": "rockstar",
        "name": "Rockstar",
        "link": "https://store.rockstargames.com/",
        "redeem_instruction_link": "https://support.rockstargames.com/articles/115008867327",
    },
    {
        "drm_id": 13,
        "sku": "viveport",
        "name": "Viveport",
        "link": "https://www.viveport.com/",
        "redeem_instruction_link": "https://www.viveport.com/redeem",
    },
    {
        "drm_id": 14,
        "sku": "stadia",
        "name": "Stadia",
        "link": None,
        "redeem_instruction_link": "https://support.google.com/stadia/answer/9578631",
    },
]
for _drm in DRMS:
    _drm["image"] = f"{IMAGES}/drm_{'free' if _drm['sku'] == 'drmfree' else _drm['sku']}.png"
DRM_BY_SKU = {d["sku"]: d for d in DRMS}


def drm_name(sku: str | None) -> str | None:
    return (DRM_BY_SKU.get(sku or "") or {}).get("name", sku)


def in_pre_order(ctx: Ctx, record: Mapping[str, Any]) -> bool:
    """A pre-order key is sold before its release date (an enabled pre-order without a date stays one)."""
    pre_order = record.get("pre_order") or {}
    release = parse_datetime(pre_order.get("release_date"))
    return bool(pre_order.get("is_enabled")) and (release is None or ctx.now < release)


def game_key_fields(ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any]:
    """What the client catalog shows of a game key beyond the item core: DRM platform, stock, pre-order."""
    stock_record = ctx.get("game_keys", record["sku"]) or {}
    return {
        "drm_sku": record.get("drm_sku"),
        "drm_name": drm_name(record.get("drm_sku")),
        "has_keys": bool(stock_record.get("codes")),
        "is_pre_order": in_pre_order(ctx, record),
        "release_date": (record.get("pre_order") or {}).get("release_date"),
    }


@hook("get-drm-list")
def drm_list(ctx: Ctx) -> Reply:
    """The DRM platforms game keys can be sold for."""
    return ctx.reply({"drm": DRMS})


# -------------------------------------------------------------- code stock


def stock(ctx: Ctx, key_sku: str) -> dict[str, Any]:
    """The code stock of a game key (empty when no code was ever uploaded)."""
    found = ctx.get("game_keys", key_sku) or {}
    return {
        "codes": found.get("codes", []),
        "used": found.get("used", []),
        "activated": found.get("activated", []),
        "regions": found.get("regions", {}),
    }


def _game_key(ctx: Ctx) -> dict[str, Any]:
    """The game key the path names by SKU or item ID (404 4001 otherwise; a game is not a key)."""
    if "item_sku" in ctx.path:
        sku, what = ctx.path["item_sku"], f"sku = '{ctx.path['item_sku']}'"
    else:
        rows = ctx.find(items.BY_ID, ctx.path["item_id"], limit=1)
        sku = rows[0][1].partition("/")[2] if rows and rows[0][1] else ""
        what = f"id = {ctx.path['item_id']}"
    found = items.find(ctx, sku) if sku else None
    if found is None or found.get("type") != "game_key":
        ctx.fail(404, 4001, f"[0401-4001]: Item with {what} not found")
    return found


def _form(ctx: Ctx) -> dict[str, bytes]:
    """The fields of a multipart/form-data body (400 when it is not one)."""
    head = f"Content-Type: {ctx.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + (ctx.raw or b""))
    if not message.is_multipart():
        ctx.fail(400, 1102, "[0401-1102]: Bad Request. The body is not a multipart/form-data form")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = part.get_payload(decode=True) or b""
    return fields


@index("game_keys", "codes")
def CODES(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Every code of the stock (available or used) -> the key it belongs to."""
    return [(code, None, "") for code in dict.fromkeys([*record.get("codes", []), *record.get("used", [])])]


def code_taken(ctx: Ctx, code: str) -> bool:
    """Whether a code is in the stock of any key of the project."""
    return ctx.count(CODES, code) > 0


@hook("admin-upload-codes-by-sku", "admin-upload-codes-by-id")
def upload_codes(ctx: Ctx) -> Reply:
    """Add the codes of a text file (one per line) to a key's stock.

    Codes already in the project and unreadable lines are skipped; the upload finishes at once.
    """
    key = _game_key(ctx)
    form = _form(ctx)
    if "file" not in form:
        ctx.fail(
            422,
            1102,
            "[0401-1102]: Unprocessable Entity. The property `file` is required",
            [{"property": "body.file", "message": "'file' is a required property"}],
        )
    region = form.get("region_id", b"").decode(errors="replace").strip()
    if region and (not region.isdigit() or int(region) < 1):
        ctx.fail(
            422,
            1102,
            "[0401-1102]: Unprocessable Entity. `region_id` must be a positive integer",
            [{"property": "body.region_id", "message": "must be a positive integer"}],
        )
    lines = [line.strip() for line in form["file"].decode(errors="replace").splitlines() if line.strip()]
    codes = stock(ctx, key["sku"])
    known: set[str] = set()
    added = []
    for code in lines:
        if code not in known and len(code) <= 255 and not code_taken(ctx, code):
            known.add(code)
            added.append(code)
    codes["codes"].extend(added)
    if region and int(region) != DEFAULT_REGION:
        codes["regions"].update({c: int(region) for c in added})
    ctx.put("game_keys", key["sku"], codes)
    session = {
        "session_id": ctx.faker.hexify("^" * 32),
        "sku": key["sku"],
        "count_total": len(lines),
        "count_uploaded": len(added),
        "count_skipped": len(lines) - len(added),
        "status": "finished",
    }
    ctx.put("game_code_session", session["session_id"], session)
    return ctx.reply(session)


@hook("admin-get-codes-session")
def codes_session(ctx: Ctx) -> Reply:
    session = ctx.get("game_code_session", ctx.path["session_id"])
    if session is None:
        ctx.fail(404, 4001, "[0401-4001]: Upload session not found")
    return ctx.reply(session)


def _of_region(codes: Mapping[str, Any], region: int | None) -> list[str]:
    return [c for c in codes["codes"] if region is None or codes["regions"].get(c, DEFAULT_REGION) == region]


@hook("admin-get-codes-by-sku", "admin-get-codes-by-id")
def take_codes(ctx: Ctx) -> Reply:
    """Hand out up to `quantity` codes of a region, one per line; they leave the stock."""
    key = _game_key(ctx)
    codes = stock(ctx, key["sku"])
    taken = _of_region(codes, ctx.query.get("region_id", DEFAULT_REGION))[: ctx.query["quantity"]]
    codes["codes"] = [c for c in codes["codes"] if c not in set(taken)]
    codes["used"].extend(taken)
    ctx.put("game_keys", key["sku"], codes)
    return ctx.reply("".join(f"{c}\n" for c in taken))


@hook("admin-delete-codes-by-sku", "admin-delete-codes-by-id")
def delete_codes(ctx: Ctx) -> Reply:
    """Remove the unused codes (of `region_id` when given); answers how many were removed."""
    key = _game_key(ctx)
    codes = stock(ctx, key["sku"])
    removed = set(_of_region(codes, ctx.query.get("region_id")))
    codes["codes"] = [c for c in codes["codes"] if c not in removed]
    codes["regions"] = {c: r for c, r in codes["regions"].items() if c not in removed}
    ctx.put("game_keys", key["sku"], codes)
    return ctx.reply(str(len(removed)))


def take_for_sale(ctx: Ctx, key_sku: str, quantity: int) -> list[str]:
    """The first `quantity` codes of a key's stock, now sold (activated for the buyer)."""
    codes = stock(ctx, key_sku)
    sold, codes["codes"] = codes["codes"][:quantity], codes["codes"][quantity:]
    codes["used"].extend(sold)
    codes["activated"].extend(sold)
    ctx.put("game_keys", key_sku, codes)
    return sold


def find_code(ctx: Ctx, code: str) -> tuple[str, dict[str, Any]] | None:
    """The game key a code belongs to and that key's stock."""
    for key_sku, _, _ in ctx.find(CODES, code, limit=1):
        return key_sku, stock(ctx, key_sku)
    return None


def activate(ctx: Ctx, key_sku: str, codes: dict[str, Any], code: str) -> None:
    if code in codes["codes"]:
        codes["codes"].remove(code)
        codes["used"].append(code)
    codes["activated"].append(code)
    ctx.put("game_keys", key_sku, codes)


# ------------------------------------------------------------ entitlements


def entitlements(ctx: Ctx, user: str) -> list[dict[str, Any]]:
    return (ctx.get("entitlement", user) or {}).get("games", [])


def _entitled(ctx: Ctx, user: str, game_sku: str, drm: str, mode: str) -> dict[str, Any] | None:
    return next(
        (e for e in entitlements(ctx, user) if (e["game_sku"], e["drm"], e["mode"]) == (game_sku, drm, mode)), None
    )


def entitle(
    ctx: Ctx,
    user: str,
    game_sku: str,
    drm: str,
    mode: str,
    *,
    key_sku: str | None,
    codes: list[str],
    source: str,
    **extra: Any,
) -> None:
    """Record that `user` owns a game on a DRM platform (codes add up on an entitlement he already has)."""
    games = entitlements(ctx, user)
    current = next((e for e in games if (e["game_sku"], e["drm"], e["mode"]) == (game_sku, drm, mode)), None)
    if current is not None:
        current["codes"].extend(codes)
    else:
        games.append(
            {
                "game_sku": game_sku,
                "key_sku": key_sku,
                "drm": drm,
                "mode": mode,
                "codes": list(codes),
                "source": source,
                "granted": iso(ctx.now),
                **extra,
            }
        )
    ctx.put("entitlement", user, {"games": games})


def _game(ctx: Ctx, sku: str) -> dict[str, Any]:
    """A game by its SKU (or by one of its keys' SKUs); 404 4604 otherwise."""
    found = items.find(ctx, sku)
    if found is not None and found.get("type") == "game_key":
        found = items.get(ctx, found["_game_sku"])
    if found is None or found.get("type") != "unit":
        ctx.fail(404, 4604, "[0401-4604]: Game not found.")
    return found


def _key_for(game: Mapping[str, Any], drm: str) -> dict[str, Any] | None:
    return next((u for u in game.get("unit_items") or [] if u.get("drm_sku") == drm), None)


@hook("grant-entitlement-admin")
def grant_entitlement(ctx: Ctx) -> Reply:
    """Give a user a game on a DRM platform: through one of its codes, or without a code when DRM-free."""
    body = ctx.body
    user, drm, mode, code = body["user_external_id"], body["drm"]["sku"], body["mode"], body.get("code")
    game = _game(ctx, body["game"]["sku"])
    key = _key_for(game, drm)
    codes: list[str] = []
    if code:
        found = find_code(ctx, code)
        if found is None or key is None or found[0] != key["sku"] or code in found[1]["activated"]:
            ctx.fail(404, 4603, "[0401-4603]: Game code not found.")
        codes = [code]
    elif drm != "drmfree":
        ctx.fail(422, 5103, "[0401-5103]: Selected drm is not drmfree.")
    if _entitled(ctx, user, game["sku"], drm, mode):
        ctx.fail(422, 5101, "[0401-5101]: User already has entitlement.")
    if code:
        activate(ctx, found[0], found[1], code)
    entitle(ctx, user, game["sku"], drm, mode, key_sku=(key or {}).get("sku"), codes=codes, source="admin")
    return ctx.reply(None)


@hook("revoke-entitlement-admin")
def revoke_entitlement(ctx: Ctx) -> Reply:
    """Take a game back; only entitlements behind a code or to a DRM-free game can be revoked."""
    body = ctx.body
    user, drm, mode = body["user_external_id"], body["drm"]["sku"], body["mode"]
    game = _game(ctx, body["game"]["sku"])
    current = _entitled(ctx, user, game["sku"], drm, mode)
    if drm != "drmfree" and not (current or {}).get("codes"):
        ctx.fail(422, 5103, "[0401-5103]: Selected drm is not drmfree.")
    if current is not None:
        ctx.put("entitlement", user, {"games": [e for e in entitlements(ctx, user) if e != current]})
    return ctx.reply(None)


@hook("redeem-game-pin-code")
def redeem_game_code(ctx: Ctx) -> Reply:
    """Turn a DRM-free game code into the user's entitlement; a code works once."""
    code = ctx.body["code"]
    found = find_code(ctx, code)
    if found is None:
        ctx.fail(404, 4603, "[0401-4603]: Game code not found.")
    key_sku, codes = found
    if code in codes["activated"]:
        ctx.fail(422, 5107, "[0401-5107]: Game code has been already activated")
    key = items.find(ctx, key_sku)
    if key is None:
        ctx.fail(404, 4603, "[0401-4603]: Game code not found.")
    if key.get("drm_sku") != "drmfree":
        ctx.fail(422, 5103, "[0401-5103]: Selected drm is not drmfree.")
    game_sku = key["_game_sku"]
    if in_pre_order(ctx, key):
        ctx.fail(422, 5106, f"[0401-5106]: Item: {game_sku} is in pre-order state and can not be redeemed")
    mode = "sandbox" if ctx.body.get("sandbox") else "default"
    if _entitled(ctx, ctx.user_id, game_sku, "drmfree", mode):
        ctx.fail(422, 5101, "[0401-5101]: User already has entitlement.")
    activate(ctx, key_sku, codes, code)
    entitle(ctx, ctx.user_id, game_sku, "drmfree", mode, key_sku=key_sku, codes=[code], source="redeem")
    return ctx.reply(None)


@hook("get-user-games")
def user_games(ctx: Ctx) -> Reply:
    """The games the user owns (live or, with sandbox=1, sandbox ones), with the DRM platform of each."""
    mode = "sandbox" if ctx.query.get("sandbox") else "default"
    with_attributes = "attributes" in (ctx.query.get("additional_fields[]") or [])
    games = []
    for entry in entitlements(ctx, ctx.user_id):
        if entry["mode"] != mode:
            continue
        game = items.get(ctx, entry["game_sku"]) or {"sku": entry["game_sku"]}
        key = items.find(ctx, entry.get("key_sku") or "") or {}
        view = {
            "name": game.get("name"),
            "description": game.get("description"),
            "project_id": ctx.project_id,
            "game_sku": entry["game_sku"],
            "drm": entry["drm"],
            "image_url": game.get("image_url"),
            "is_pre_order": in_pre_order(ctx, key),
        }
        if with_attributes:
            view["attributes"] = game.get("attributes") or []
        games.append(view)
    return paged_reply(ctx, games)


# --------------------------------------------------------------- purchases


def deliver_game_keys(ctx: Ctx, order: Mapping[str, Any]) -> None:
    """A paid order hands the buyer one code per game key unit (none left: delivered without a code)
    and makes him the owner of the game on the key's DRM platform."""
    mode = "sandbox" if order.get("sandbox") else "default"
    for line in order.get("items") or []:
        key = items.find(ctx, line["sku"])
        if key is None or key.get("type") != "game_key":
            continue
        codes = take_for_sale(ctx, key["sku"], int(line.get("quantity", 1)))
        entitle(
            ctx,
            order["user"],
            key["_game_sku"],
            key.get("drm_sku") or "drmfree",
            mode,
            key_sku=key["sku"],
            codes=codes,
            source="purchase",
            order_id=order["order_id"],
        )


orders.ON_FULFIL.append(deliver_game_keys)
USER_SUMMARIES["entitlements"] = lambda ctx, user: entitlements(ctx, user)
