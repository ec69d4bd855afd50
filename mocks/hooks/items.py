"""Catalog items on the admin side: how records are stored and shown, and the
admin calls that are more than plain CRUD (group-filtered lists, hide/show,
attribute values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..context import index
from ..resources import RESOURCES, page_window, paged_reply
from ..rules import items, limits, periods
from .registry import hook, set_field, transform

if TYPE_CHECKING:
    from ..context import Ctx, Reply


def _group_ids(groups: Any) -> list[str]:
    out = []
    for g in groups or []:
        ext = g.get("external_id") if isinstance(g, Mapping) else g
        if ext and ext not in out:
            out.append(str(ext))
    return out


@transform("item_prepare")
def item_prepare(ctx: Ctx, record: dict[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """Normalize an item record: defaults, group ids, game keys registered by SKU."""
    for flag, default in (("is_enabled", True), ("is_show_in_store", True), ("is_free", False)):
        if record.get(flag) is None:
            record[flag] = default
    if record.get("type") == "bundle" and not record.get("bundle_type"):  # a replace that leaves it out
        record["bundle_type"] = "standard"
    record["groups"] = _group_ids(record.get("groups"))
    _store_amounts(record)
    if record.get("content") is not None:
        _check_content(ctx, record)
    if record.get("type") == "unit":
        _prepare_game(ctx, record, old)
    return record


def _store_amounts(record: dict[str, Any]) -> None:
    """Decimal strings are accepted for real-currency amounts on write; they are kept as numbers."""
    for price in record.get("prices") or []:
        if isinstance(price.get("amount"), str):
            price["amount"] = float(price["amount"])


def _check_content(ctx: Ctx, record: Mapping[str, Any]) -> None:
    """Bundles and packages hold items and currencies, never bundles (nor themselves)."""
    for entry in record.get("content") or []:
        part = record if entry.get("sku") == record["sku"] else items.find(ctx, entry.get("sku", ""))
        if part is not None and part.get("type") == "bundle":
            ctx.fail(
                422,
                1102,
                f"[0401-1102]: Unprocessable Entity. {entry['sku']!r} is a bundle; bundles hold no bundles",
            )


def _prepare_game(ctx: Ctx, record: dict[str, Any], old: Mapping[str, Any] | None) -> None:
    previous = {u.get("sku"): u for u in (old or {}).get("unit_items") or []}
    seen = set()
    for unit in record.get("unit_items") or []:
        sku = unit.get("sku")
        if sku in seen or (sku != record["sku"] and items.get(ctx, sku) is not None):
            ctx.fail(422, 1102, f"[0401-1102]: Unprocessable Entity. SKU {sku!r} is already used in this project")
        owner = ctx.get("game_key_owner", sku)
        if owner and owner.get("game_sku") != record["sku"]:
            ctx.fail(422, 1102, f"[0401-1102]: Unprocessable Entity. SKU {sku!r} is already used by another game")
        seen.add(sku)
        unit["type"] = "game_key"
        unit["item_id"] = (previous.get(sku) or {}).get("item_id") or ctx.next_id("item")
        for flag, default in (("is_enabled", True), ("is_show_in_store", True), ("is_free", False)):
            if unit.get(flag) is None:
                unit[flag] = default
        unit["groups"] = _group_ids(unit.get("groups"))
        ctx.put("game_key_owner", sku, {"game_sku": record["sku"]})
    for sku in set(previous) - seen:
        ctx.delete("game_key_owner", sku)
    for unit in record.get("unit_items") or []:
        _store_amounts(unit)


def _group_refs(ctx: Ctx, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for ext in ids:
        group = ctx.get("group", ext)
        out.append({"external_id": ext, "name": (group or {}).get("name") or {"en": ext}})
    return out


def admin_limits(ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any] | None:
    configured = record.get("limits")
    if not configured:
        return None
    sold = (ctx.get("item_sold", record["sku"]) or {}).get("sold", 0)
    out: dict[str, Any] = {"per_user": None, "per_item": None, "recurrent_schedule": None}
    total = limits.per_user_total(configured)
    if total is not None:
        per_user = configured.get("per_user")
        out["per_user"] = {"total": total}
        if isinstance(per_user, Mapping) and per_user.get("limit_exceeded_visibility"):
            out["per_user"]["limit_exceeded_visibility"] = per_user["limit_exceeded_visibility"]
    if configured.get("per_item"):
        out["per_item"] = {
            "total": configured["per_item"],
            "available": max(0, configured["per_item"] - sold),
            "reserved": 0,
            "sold": sold,
        }
    schedule = limits.user_schedule(configured)
    if schedule:
        nxt = periods.next_reset(ctx.now, schedule)
        out["recurrent_schedule"] = {
            "per_user": {
                **schedule,
                "reset_next_date": int(nxt.timestamp()) if nxt else None,
                "displayable_reset_next_date": iso(nxt) if nxt else None,
            }
        }
    return out


def _content_view(ctx: Ctx, content: list[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for entry in content or []:
        target = items.find(ctx, entry.get("sku", "")) or {}
        out.append(
            {
                **{k: v for k, v in target.items() if not k.startswith("_")},
                "sku": entry.get("sku"),
                "quantity": entry.get("quantity", 1),
                "type": items.catalog_type(target) or "virtual_good",
            }
        )
    return out


@transform("item_admin_view")
def item_admin_view(ctx: Ctx, record: dict[str, Any], resource: Any = None) -> dict[str, Any]:
    view = dict(record)
    view["groups"] = _group_refs(ctx, record.get("groups") or [])
    view["limits"] = admin_limits(ctx, record)
    if "content" in record:
        view["content"] = _content_view(ctx, record.get("content"))
    if record.get("type") == "unit":
        view["unit_items"] = [
            item_admin_view(ctx, {**u, "groups": u.get("groups") or []}) | _keys_view(ctx, u)
            for u in record.get("unit_items") or []
        ]
    return view


def _keys_view(ctx: Ctx, unit: Mapping[str, Any]) -> dict[str, Any]:
    stock = ctx.get("game_keys", unit.get("sku")) or {"codes": [], "used": []}
    return {
        "keys": {"available": len(stock["codes"]), "used": len(stock["used"])},
        "is_sales_exist": bool(stock["used"]),
    }


@transform("group_view")
def group_view(ctx: Ctx, record: dict[str, Any], resource: Any = None) -> dict[str, Any]:
    view = dict(record)
    parent = record.get("parent_external_id")
    view["level"] = 1 if not parent else 1 + (1 if ctx.get("group", parent) else 0)
    return view


@transform("attribute_view")
def attribute_view(ctx: Ctx, record: dict[str, Any], resource: Any = None) -> dict[str, Any]:
    values = ctx.resource("attribute_value").all(ctx, record["external_id"])
    return {**record, "values": [{"external_id": v["external_id"], "value": v.get("value")} for v in values]}


# ------------------------------------------------------------ admin calls

hook("admin-hide-bundle")(set_field("bundle", "is_show_in_store", False))
hook("admin-show-bundle")(set_field("bundle", "is_show_in_store", True))


@hook(
    "admin-get-virtual-items-list-by-group-external-id",
    "admin-get-virtual-items-list-by-group-id",
    "admin-get-bundle-list-in-group-by-external-id",
    "admin-get-bundle-list-in-group-by-id",
)
def admin_items_in_group(ctx: Ctx) -> Reply:
    """Admin item lists filtered by a group (by its external id or numeric id)."""
    resource = ctx.resource("bundle" if "bundle" in ctx.op.operation_id else "virtual_item")
    if "group_id" in ctx.path:
        found = ctx.records(GROUP_IDS, ctx.path["group_id"], limit=1)
        group = found[0] if found else None
    else:
        group = ctx.get("group", ctx.path["external_id"])
    if group is None:
        ctx.fail(404, 4403, "[0401-4403]: Item group not found")
    value = f"{resource.name}/{group['external_id']}"
    offset, limit = page_window(ctx)
    page = ctx.records(IN_GROUP, value, offset=offset, limit=limit)
    return paged_reply(ctx, [resource.to_view(ctx, r) for r in page], total=ctx.count(IN_GROUP, value), offset=offset)


_LISTED_IN_GROUPS = [r for r in RESOURCES if r.name in ("virtual_item", "bundle")]


@index(items.ITEM, "admin_groups")
def IN_GROUP(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Virtual items and bundles by group (`<resource>/<group>`), in list order."""
    return [
        (f"{row.name}/{group}", row.list_sort(record), "")
        for row in _LISTED_IN_GROUPS
        if row.matches(record)
        for group in dict.fromkeys(record.get("groups") or [])
    ]


@index("group", "by_id")
def GROUP_IDS(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802
    """Groups by their numeric id."""
    return [(str(record["id"]), None, "")] if record.get("id") is not None else []


@hook("admin-delete-all-attribute-value")
def delete_all_attribute_values(ctx: Ctx) -> Reply:
    res = ctx.resource("attribute_value")
    parent = res.parent_key(ctx)
    for value in res.all(ctx, parent):
        ctx.delete(res.kind, res.store_key(value["external_id"], parent))
    return ctx.reply(None)


@hook("admin-create-attribute-value")
def create_attribute_value(ctx: Ctx) -> Reply:
    res = ctx.resource("attribute_value")
    if len(res.all(ctx, res.parent_key(ctx))) >= 20:
        ctx.fail(422, 9908, "[0401-9908]: You reached the maximum number of values for the attribute.")
    return res.create(ctx)
