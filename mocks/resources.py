"""The resource table and the generic actions it drives.

A row names a resource by its collection path and item path(s) in the spec, the
field that identifies a record and where that identifier comes from (the request
body, or a per-project sequence). From the spec's methods on those paths the
engine derives the generic action of each operation:

    GET collection -> list      POST collection -> create
    GET item       -> read      PUT item        -> update
    PATCH item     -> patch     DELETE item     -> delete

Several resources may share a store kind (every item type lives in `item`, so a
SKU is unique across types) and tell their records apart with `match`. What a
resource does beyond plain CRUD is a named hook (see `hooks/`), optionally
`prepare` (normalize a record before it is stored) and `view` (derive the fields
a response shows from a stored record).

Lists are queries of the store: each row has a store index of its records (by
parent, in `list_order` then creation order), so a page costs the same whatever
the size of the kind.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .clock import iso
from .store import Index

if TYPE_CHECKING:
    from ..toolkit.spec import Operation, Spec
    from .context import Ctx, Reply

P = "/v2/project/{project_id}"
P3 = "/v3/project/{project_id}"

# Record transforms by name, filled in by the hook modules: prepare(ctx, record, old) / view(ctx, record).
TRANSFORMS: dict[str, Callable[..., Any]] = {}


@dataclass
class Resource:
    name: str
    kind: str
    collection: str | None
    items: tuple[str, ...]
    key: str  # record field holding the identifier
    id_source: str = "body"  # body | sequence | singleton
    sequence: str | None = None  # for id_source=sequence
    match: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    extra_ids: Mapping[str, str] = field(default_factory=dict)  # record field -> sequence (item_id, promotion_id)
    lookup: Mapping[str, str] = field(default_factory=dict)  # path param -> record field, when not `key`
    aliases: Mapping[str, str] = field(default_factory=dict)  # response field -> record field
    not_found: tuple[int, str] = (404, "Not found")  # errorCode, message ({key} is replaced)
    duplicate: tuple[int, str] = (1102, "[0401-1102]: Unprocessable Entity. {key} already exists")
    parent: tuple[str, str] | None = None  # (parent resource, path param naming the parent)
    prepare: str | None = None
    view: str | None = None
    list_order: str | None = None  # record field to sort lists by (then creation order)
    by_enabled: bool = False  # lists count or filter enabled and disabled records

    # ---------------------------------------------------------------- records

    def matches(self, record: Mapping[str, Any]) -> bool:
        for k, v in self.match.items():
            if callable(v):
                if not v(record.get(k)):
                    return False
            elif record.get(k) != v:
                return False
        return True

    # --------------------------------------------------------------- indexes

    def list_sort(self, record: Mapping[str, Any]) -> Any:
        value = record.get(self.list_order) if self.list_order else 0
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def _version(self) -> str:
        match = sorted((k, v if not callable(v) else "fn") for k, v in self.match.items())
        return repr((match, self.parent, self.list_order))

    @cached_property
    def list_index(self) -> Index:
        """The resource's records by parent (`""` without one), in list order."""

        def entries(key: str, record: Any) -> list[tuple[str, Any, str]]:
            if not self.matches(record):
                return []
            return [(str(record.get("_parent", "")) if self.parent else "", self.list_sort(record), "")]

        return Index(self.kind, f"list:{self.name}", entries, self._version())

    @cached_property
    def enabled_index(self) -> Index:
        """The same by parent and `is_enabled` (`<parent>|1`, `<parent>|0`)."""

        def entries(key: str, record: Any) -> list[tuple[str, Any, str]]:
            return [
                (f"{v}|{int(bool(record.get('is_enabled')))}", s, p) for v, s, p in self.list_index.entries(key, record)
            ]

        return Index(self.kind, f"enabled:{self.name}", entries, self._version())

    def lookup_index(self, record_field: str) -> Index:
        """The resource's records by a field the paths name them by, other than the key."""
        return self._lookups[record_field]

    @cached_property
    def _lookups(self) -> dict[str, Index]:
        def by(record_field: str) -> Index:
            def entries(key: str, record: Any) -> list[tuple[str, Any, str]]:
                found = record.get(record_field)
                return [(str(found), None, "")] if found is not None and self.matches(record) else []

            return Index(self.kind, f"by:{self.name}:{record_field}", entries, self._version())

        return {f: by(f) for f in self.lookup.values() if f != self.key}

    def indexes(self) -> list[Index]:
        return [self.list_index, *([self.enabled_index] if self.by_enabled else []), *self._lookups.values()]

    def all(self, ctx: Ctx, parent_key: Any = None) -> list[dict[str, Any]]:
        """Every record of the resource (of one parent), in list order."""
        return ctx.records(self.list_index, parent_key if self.parent is not None else "")

    def page(self, ctx: Ctx, parent_key: Any = None, enabled: bool | None = None) -> Reply:
        """Answer a list call with the page the request asks for, read from the store."""
        parent = str(parent_key) if self.parent is not None else ""
        offset, limit = page_window(ctx)
        if enabled is None:
            index, value = self.list_index, parent
        else:
            index, value = self.enabled_index, f"{parent}|{int(enabled)}"
        records = ctx.records(index, value, offset=offset, limit=limit)
        counts = None
        if self.by_enabled and wants_enabled_counts(ctx):
            counts = (ctx.count(self.enabled_index, f"{parent}|1"), ctx.count(self.enabled_index, f"{parent}|0"))
        views = [self.to_view(ctx, r) for r in records]
        return paged_reply(ctx, views, total=ctx.count(index, value), offset=offset, enabled=counts)

    def store_key(self, key: Any, parent_key: Any = None) -> str:
        return f"{parent_key}/{key}" if self.parent is not None else str(key)

    def parent_key(self, ctx: Ctx) -> Any:
        if self.parent is None:
            return None
        parent_name, param = self.parent
        parent = ctx.resource(parent_name)
        key = ctx.path[param]
        if parent.get(ctx, key) is None:
            parent.missing(ctx, key)
        return key

    def get(self, ctx: Ctx, key: Any, parent_key: Any = None) -> dict[str, Any] | None:
        record = ctx.get(self.kind, self.store_key(key, parent_key))
        return record if record is not None and self.matches(record) else None

    def find(self, ctx: Ctx) -> dict[str, Any]:
        """The record the request's path names (404 when there is none)."""
        parent_key = self.parent_key(ctx)
        for param, value in ctx.path.items():
            if param == "project_id" or (self.parent and param == self.parent[1]):
                continue
            record_field = self.lookup.get(param)
            if record_field and record_field != self.key:
                rows = ctx.find(self.lookup_index(record_field), value, limit=1)
                found = rows[0][2] if rows else None
            else:
                found = self.get(ctx, value, parent_key)
            if found is None:
                self.missing(ctx, value)
            return found
        if self.id_source == "singleton":
            found = self.get(ctx, self.key)
            if found is None:
                self.missing(ctx, self.key)
            return found
        raise LookupError(f"{self.name}: no identifier in the path")

    def missing(self, ctx: Ctx, key: Any) -> None:
        code, message = self.not_found
        ctx.fail(404, code, message.replace("{key}", str(key)))

    def save(self, ctx: Ctx, record: dict[str, Any], parent_key: Any = None) -> None:
        ctx.put(self.kind, self.store_key(record[self.key], parent_key), record)

    def to_view(self, ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for alias, source in self.aliases.items():
            if source in out and alias not in out:
                out[alias] = out[source]
        if self.view:
            out = TRANSFORMS[self.view](ctx, out, self)
        return out

    def build(
        self, ctx: Ctx, body: Mapping[str, Any], old: Mapping[str, Any] | None, parent_key: Any = None
    ) -> dict[str, Any]:
        """A record from a request body: defaults, identifiers, server fields, `prepare`."""
        record: dict[str, Any] = copy.deepcopy(dict(self.defaults)) if old is None else {}
        record.update(copy.deepcopy(dict(body)))
        record.update({k: v for k, v in self.match.items() if not callable(v)})
        if old is not None:  # identifiers and server-side fields survive a replace
            for k, v in old.items():
                if k.startswith("_") or k in self.extra_ids or k == self.key:
                    record[k] = v
        else:
            record["_created"] = iso(ctx.now)
            for record_field, sequence in self.extra_ids.items():
                record.setdefault(record_field, ctx.next_id(sequence))
        if parent_key is not None:
            record["_parent"] = str(parent_key)
        record["_updated"] = iso(ctx.now)
        if self.prepare:
            record = TRANSFORMS[self.prepare](ctx, record, old)
        return record

    # ---------------------------------------------------------------- actions

    def list(self, ctx: Ctx) -> Reply:
        return self.page(ctx, self.parent_key(ctx))

    def create(self, ctx: Ctx) -> Reply:
        parent_key = self.parent_key(ctx)
        body = dict(ctx.body or {})
        if self.id_source == "sequence":
            body[self.key] = ctx.next_id(self.sequence or self.kind)
        elif self.id_source == "singleton":
            body[self.key] = self.key
        key = body.get(self.key)
        if self.id_source != "sequence" and ctx.get(self.kind, self.store_key(key, parent_key)) is not None:
            code, message = self.duplicate
            ctx.fail(422, code, message.replace("{key}", f"{self.key} {key!r}"))
        record = self.build(ctx, body, None, parent_key)
        self.save(ctx, record, parent_key)
        return ctx.reply(self.to_view(ctx, record))

    def read(self, ctx: Ctx) -> Reply:
        return ctx.reply(self.to_view(ctx, self.find(ctx)))

    def update(self, ctx: Ctx) -> Reply:
        old = self.find(ctx)
        parent_key = self.parent_key(ctx)
        record = self.build(ctx, dict(ctx.body or {}), old, parent_key)
        self.save(ctx, record, parent_key)
        return ctx.reply(self.to_view(ctx, record))

    def patch(self, ctx: Ctx) -> Reply:
        old = self.find(ctx)
        merged = {k: v for k, v in old.items() if not k.startswith("_")}
        merged.update(ctx.body or {})
        record = self.build(ctx, merged, old, self.parent_key(ctx))
        self.save(ctx, record, self.parent_key(ctx))
        return ctx.reply(self.to_view(ctx, record))

    def delete(self, ctx: Ctx) -> Reply:
        record = self.find(ctx)
        ctx.delete(self.kind, self.store_key(record[self.key], self.parent_key(ctx)))
        return ctx.reply(None)


def page_window(ctx: Ctx) -> tuple[int, int | None]:
    """The request's `offset` and `limit` (the parameter's default, else no limit)."""
    offset = int(ctx.query.get("offset") or 0)
    limit = ctx.query.get("limit")
    if limit is None:
        limit_param = next((p for p in ctx.op.parameters if p.get("name") == "limit"), None)
        limit = ((limit_param or {}).get("schema") or {}).get("default")
    return offset, None if limit is None else int(limit)


def _envelope(ctx: Ctx) -> tuple[dict[str, Any], str | None]:
    status = int(ctx.op.success_statuses[0])
    schema = ctx.engine.shaper.merged(ctx.op.response_schema(status) or {})
    if schema.get("type") == "array":
        return {}, None
    props = schema.get("properties") or {}
    return props, next((n for n, s in props.items() if ctx.engine.shaper.merged(s).get("type") == "array"), "items")


def wants_enabled_counts(ctx: Ctx) -> bool:
    return "active_promotions_count" in _envelope(ctx)[0]


def paged_reply(
    ctx: Ctx,
    records: list[Any],
    *,
    total: int | None = None,
    offset: int | None = None,
    enabled: tuple[int, int] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Reply:
    """Answer a list operation in whatever envelope its schema has.

    `records` is the whole list, paged here by the request's offset and limit; or, with
    `total`, the page already read from the store (with `enabled`: the counts of enabled
    and disabled records, for envelopes that show them).
    """
    window_offset, limit = page_window(ctx)
    if total is None:
        total, offset = len(records), window_offset
        page = records[offset : None if limit is None else offset + limit]
        if enabled is None:
            active = sum(1 for r in records if isinstance(r, Mapping) and r.get("is_enabled"))
            enabled = (active, sum(1 for r in records if isinstance(r, Mapping)) - active)
    else:
        page, offset = records, window_offset if offset is None else offset
    props, array_field = _envelope(ctx)
    if array_field is None:
        return ctx.reply(page)
    data: dict[str, Any] = {array_field: page}
    envelope = {
        "has_more": offset + len(page) < total,
        "total_items_count": total,
        "total_count": total,
        "total": total,
        "count": total,
        "total_promotions_count": total,
        "active_promotions_count": (enabled or (0, 0))[0],
        "inactive_promotions_count": (enabled or (0, 0))[1],
    }
    data.update({k: v for k, v in envelope.items() if k in props and k != array_field})
    data.update(extra or {})
    return ctx.reply(data)


def _not(value: Any) -> Callable[[Any], bool]:
    return lambda v: v != value


# ------------------------------------------------------------------ the table


def _code_promotion(name: str, path: str, what: str) -> Resource:
    """Coupons, promo codes, unique offers: named by external_id, created disabled, with a promotion_id."""
    return Resource(
        name,
        name,
        f"{P3}/admin/{path}",
        (f"{P3}/admin/{path}/{{external_id}}",),
        "external_id",
        defaults={"is_enabled": False},
        extra_ids={"promotion_id": "promotion"},
        view="promotion_view",
        by_enabled=True,
        not_found=(9802, f"[0401-9802]: {what} not found"),
    )


def _numbered(name: str, collection: str, item: str, param: str, sequence: str, **options: Any) -> Resource:
    """A resource numbered by a sequence and named in paths by `param` (shown under that name too)."""
    return Resource(
        name,
        name,
        collection,
        (item,),
        "id",
        id_source="sequence",
        sequence=sequence,
        lookup={param: "id"},
        aliases={param: "id"},
        **options,
    )


def _item(name: str, path: str, param: str, match: Mapping[str, Any], **options: Any) -> Resource:
    """An item type: a record of kind `item` (SKUs and item ids are project-wide) named by SKU."""
    return Resource(
        name,
        "item",
        f"{P}/admin/items/{path}",
        (f"{P}/admin/items/{path}/sku/{{{param}}}",),
        "sku",
        match=match,
        extra_ids={"item_id": "item"},
        prepare="item_prepare",
        view="item_admin_view",
        list_order="order",
        not_found=(4001, "[0401-4001]: Item with sku = '{key}' not found"),
        **options,
    )


_PROMOTION_NOT_FOUND = (9502, "[0401-9502]: Can not find promotion with ID = {key}")
_CHAIN = {"prepare": "chain_prepare", "view": "chain_view", "list_order": "order"}

RESOURCES: list[Resource] = [
    # LiveOps: promotions (every promotion also has a numeric promotion_id, from one sequence)
    _code_promotion("coupon", "coupon", "Coupon"),
    _code_promotion("promo_code", "promocode", "Promo code"),
    _code_promotion("unique_offer", "unique_catalog_offer", "Unique catalog offer"),
    _numbered(
        "discount",
        f"{P3}/admin/promotion/item",
        f"{P3}/admin/promotion/{{promotion_id}}/item",
        "promotion_id",
        "promotion",
        defaults={"is_enabled": False},
        view="promotion_view",
        not_found=_PROMOTION_NOT_FOUND,
        by_enabled=True,
    ),
    _numbered(
        "bonus",
        f"{P3}/admin/promotion/bonus",
        f"{P3}/admin/promotion/{{promotion_id}}/bonus",
        "promotion_id",
        "promotion",
        defaults={"is_enabled": False},
        view="promotion_view",
        not_found=_PROMOTION_NOT_FOUND,
        by_enabled=True,
    ),
    _numbered(
        "filter_rule",
        f"{P}/admin/user/attribute/rule",
        f"{P}/admin/user/attribute/rule/{{rule_id}}",
        "rule_id",
        "filter_rule",
        not_found=(4001, "[0401-4001]: Rule with id = {key} not found"),
        by_enabled=True,
    ),
    # LiveOps: value points and chains
    _item("value_point", "value_points", "item_sku", {"type": "value_point"}, defaults={"is_enabled": True}),
    Resource(
        "reward_chain",
        "reward_chain",
        f"{P3}/admin/reward_chain",
        (f"{P3}/admin/reward_chain/id/{{reward_chain_id}}",),
        "reward_chain_id",
        id_source="sequence",
        sequence="reward_chain",
        not_found=(9901, "[0401-4001]: Reward chain not found"),
        by_enabled=True,
        **_CHAIN,
    ),
    _numbered(
        "daily_chain",
        f"{P}/admin/daily_chain",
        f"{P}/admin/daily_chain/id/{{daily_chain_id}}",
        "daily_chain_id",
        "daily_chain",
        not_found=(6201, "[0401-6201]: Chain not found"),
        **_CHAIN,
    ),
    _numbered(
        "offer_chain",
        f"{P}/admin/offer_chain",
        f"{P}/admin/offer_chain/id/{{offer_chain_id}}",
        "offer_chain_id",
        "offer_chain",
        not_found=(6201, "[0401-6201]: Chain not found"),
        **_CHAIN,
    ),
    # upsell: one configuration per project (its calls are hooks; the row names its storage)
    Resource(
        "upsell",
        "upsell",
        f"{P}/admin/items/upsell",
        (f"{P}/admin/items/upsell",),
        "upsell",
        id_source="singleton",
        defaults={"is_enabled": False},
        not_found=(9901, "[0401-4001]: Upsell is not configured for this project"),
    ),
    # Catalog: item types
    _item("virtual_item", "virtual_items", "item_sku", {"type": "virtual_good"}),
    _item("virtual_currency", "virtual_currency", "virtual_currency_sku", {"type": "virtual_currency"}),
    _item(
        "currency_package",
        "virtual_currency/package",
        "item_sku",
        {"type": "bundle", "bundle_type": "virtual_currency_package"},
    ),
    _item(
        "bundle",
        "bundle",
        "sku",
        {"type": "bundle", "bundle_type": _not("virtual_currency_package")},
        defaults={"bundle_type": "standard"},
    ),
    Resource(
        "game",
        "item",
        f"{P}/admin/items/game",
        (f"{P}/admin/items/game/id/{{item_id}}", f"{P}/admin/items/game/sku/{{item_sku}}"),
        "sku",
        match={"type": "unit"},
        extra_ids={"item_id": "item"},
        lookup={"item_id": "item_id", "item_sku": "sku"},
        prepare="item_prepare",
        view="item_admin_view",
        list_order="order",
        not_found=(4001, "[0401-4001]: Item with sku = '{key}' not found"),
    ),
    # Catalog: organization
    Resource(
        "group",
        "group",
        f"{P}/admin/items/groups",
        (f"{P}/admin/items/groups/{{external_id}}",),
        "external_id",
        extra_ids={"id": "group"},
        defaults={"is_enabled": True},
        view="group_view",
        list_order="order",
        not_found=(4403, "[0401-4403]: Item group not found"),
    ),
    Resource(
        "attribute",
        "attribute",
        f"{P}/admin/attribute",
        (f"{P}/admin/attribute/{{external_id}}",),
        "external_id",
        view="attribute_view",
        not_found=(9901, "[0401-9901]: Attribute not found."),
    ),
    Resource(
        "attribute_value",
        "attribute_value",
        f"{P}/admin/attribute/{{external_id}}/value",
        (f"{P}/admin/attribute/{{external_id}}/value/{{value_external_id}}",),
        "external_id",
        parent=("attribute", "external_id"),
        lookup={"value_external_id": "external_id"},
        not_found=(9906, "[0401-9906]: Attribute value not found."),
        duplicate=(9907, "[0401-9907]: The attribute value already exists."),
    ),
    _numbered(
        "region",
        f"{P}/admin/region",
        f"{P}/admin/region/{{region_id}}",
        "region_id",
        "region",
        not_found=(1600, "[0401-1600]: Region not found"),
    ),
]

_GENERIC = {
    ("collection", "GET"): "list",
    ("collection", "POST"): "create",
    ("item", "GET"): "read",
    ("item", "PUT"): "update",
    ("item", "PATCH"): "patch",
    ("item", "DELETE"): "delete",
}


class ResourceTable:
    """Binds the rows to the spec: which generic action serves which operation."""

    def __init__(self, spec: Spec, rows: list[Resource] | None = None):
        self.by_name = {r.name: r for r in rows or RESOURCES}
        self._actions: dict[str, tuple[Resource, str]] = {}
        templates = {op.path for op in spec.operations.values()}
        for resource in self.by_name.values():
            for path in [resource.collection, *resource.items]:
                if path and path not in templates:
                    raise ValueError(f"resource {resource.name}: {path} is not a path of the spec")
        for op in spec.operations.values():
            for resource in self.by_name.values():
                place = (
                    "collection" if op.path == resource.collection else "item" if op.path in resource.items else None
                )
                if resource.id_source == "singleton" and place:
                    name = {"GET": "read", "POST": "create", "PUT": "update", "DELETE": "delete"}.get(op.method)
                else:
                    name = _GENERIC.get((place, op.method)) if place else None
                if name:
                    self._actions[op.operation_id] = (resource, name)
                    break

    def action_for(self, op: Operation) -> tuple[Resource, str] | None:
        return self._actions.get(op.operation_id)

    def indexes(self) -> list[Index]:
        """The store indexes the rows' lists and lookups read."""
        return [index for resource in self.by_name.values() for index in resource.indexes()]
