"""The client catalog: what a storefront lists, derived from the admin state.

Every catalog read (virtual items, currencies, packages, bundles, sellable
items, games and game keys, the group tree) shows the items an admin created,
filtered by `visibility.catalog_visible` and shown as `item_views` describe them
for the request's user, country, locale and promo code. Lists are in `order`,
then creation order. A token is optional: without one the catalog is not
personalized (no user limits, no personal offers).

Scale: a list request costs the same whatever the size of the store. The store
keeps the catalog index (`CATALOG`: each list and group, in display order; game
keys are entries of their game's record), so a page is one ordered read of the
store. Items whose visibility depends on the request (periods, regions, per-user
limits: `CONDITIONAL`; items named by filter rules and unique offers) are checked
per request, and those hidden from this user are left out of the page and the
total. Work that depends on the request and not on the item (the user's offers and
uses) is done once per request; the part of an item view that depends on the
record alone is rendered once per store generation and locale.

Between writes to the items, a list keeps its count, its conditional entries and
the pages read (by what they leave out); a record is read into its `Entry` once
per stored content; and the whole view of an item, currency or bundle is kept by
the content of every record it shows and by what the request changes in it
(offers, limits, periods), so an answer is assembled from kept views whenever
nothing it shows has changed. Lists and single items of the same schema share them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...toolkit._json import dumps, loads
from ..context import Ctx, index
from ..rules import item_views, items, limits, prices, value_points, visibility
from .games import game_key_fields
from .registry import hook

if TYPE_CHECKING:
    from ..context import Reply

CATALOG_TYPES = ("virtual_good", "virtual_currency", "bundle", "unit")
INHERITED = ("name", "description", "long_description", "image_url", "media_list", "attributes", "groups")
ALL_GROUP = "all"  # the group every item belongs to
CACHED_PARTS = 20_000  # rendered parts of item views kept per store generation and locale


def _is_package(record: Mapping[str, Any]) -> bool:
    return record.get("type") == "bundle" and record.get("bundle_type") == "virtual_currency_package"


# Which records each catalog call lists.
KINDS: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "virtual_items": lambda r: r.get("type") == "virtual_good",
    "virtual_currency": lambda r: r.get("type") == "virtual_currency",
    "currency_packages": _is_package,
    "bundles": lambda r: r.get("type") == "bundle" and not _is_package(r),
    "sellable": lambda r: r.get("type") in ("virtual_good", "virtual_currency", "bundle", "game_key"),
    "games": lambda r: r.get("type") == "unit",
    "game_keys": lambda r: r.get("type") == "game_key",
}


# ----------------------------------------------------------------- records


def _display_order(record: Mapping[str, Any]) -> tuple[bool, int]:
    return record.get("order") is None, record.get("order") or 0


def game_key_record(game: Mapping[str, Any], unit: Mapping[str, Any]) -> dict[str, Any]:
    """A game key as the catalog sees it: its own sale conditions, the game's texts where it has none."""
    record = {k: game.get(k) for k in INHERITED if game.get(k)}
    record.update({k: v for k, v in unit.items() if v not in (None, [], {}) or k not in record})
    record.update({"type": "game_key", "_game_sku": game["sku"], "_game_enabled": bool(game.get("is_enabled", True))})
    return record


def catalog_records(record: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(part, catalog record) of a stored item: the item itself (part ""), and a game's keys."""
    if record.get("type") not in CATALOG_TYPES:
        return []
    out: list[tuple[str, Mapping[str, Any]]] = [("", record)]
    if record["type"] == "unit":
        for n, unit in enumerate(record.get("unit_items") or []):
            out.append((items.key_part(n, unit.get("sku")), game_key_record(record, unit)))
    return out


def resolve(record: Mapping[str, Any], part: str) -> Mapping[str, Any]:
    """The catalog record of an index entry (a game key for a part of a game)."""
    return record if not part else dict(catalog_records(record))[part]


def _game_on_sale(record: Mapping[str, Any]) -> bool:
    """A game key is sold only while its game is enabled."""
    return record.get("type") != "game_key" or record.get("_game_enabled", True)


def _listable(record: Mapping[str, Any]) -> bool:
    """Shown by some request: enabled, in the store, its game on sale."""
    return bool(record.get("is_enabled", True) and record.get("is_show_in_store", True) and _game_on_sale(record))


def _conditional(record: Mapping[str, Any]) -> bool:
    """Shown or not depending on the request: time windows, regions, per-user limits."""
    return bool(
        record.get("periods") or record.get("regions") or limits.per_user_total(record.get("limits")) is not None
    )


def _list_values(record: Mapping[str, Any]) -> list[str]:
    groups = list(dict.fromkeys(_groups_of(record)))
    return [f"{kind}/{group}" for kind, test in KINDS.items() if test(record) for group in ("", *groups)]


def _sort(record: Mapping[str, Any]) -> Any:
    order = record.get("order")
    return order if isinstance(order, (int, float)) and not isinstance(order, bool) else None


def _entries(record: Mapping[str, Any], conditional_only: bool) -> list[tuple[str, Any, str]]:
    return [
        (value, _sort(r), part)
        for part, r in catalog_records(record)
        if _listable(r) and (not conditional_only or _conditional(r))
        for value in _list_values(r)
    ]


@index(items.ITEM, "catalog")
def CATALOG(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802 - an index, named as a constant
    """Every list (`<list>/`) and list in a group (`<list>/<group>`) an item can be shown in."""
    return _entries(record, conditional_only=False)


@index(items.ITEM, "catalog_conditional")
def CONDITIONAL(key: str, record: Any) -> list[tuple[str, Any, str]]:  # noqa: N802
    """The same entries, of the items shown or not depending on the request."""
    return _entries(record, conditional_only=True)


def by_sku(ctx: Ctx, sku: str) -> tuple[str, str, Mapping[str, Any]] | None:
    """(key, part, catalog record) of an SKU (a game key is a part of its game)."""
    found = items.get(ctx, sku)
    if found is not None:
        return sku, "", found
    owner = ctx.get("game_key_owner", sku)
    game = items.get(ctx, owner["game_sku"]) if owner else None
    for part, record in catalog_records(game or {}):
        if part and record.get("sku") == sku:
            return game["sku"], part, record
    return None


def entry_by_item_id(ctx: Ctx, item_id: Any) -> Entry | None:
    rows = ctx.tx.find_raw(ctx.project_id, items.BY_ID, str(item_id), limit=1)
    return _entry(_parsed(ctx), rows[0][2], rows[0][1]) if rows else None


def entry_by_sku(ctx: Ctx, sku: str) -> Entry | None:
    """The entry of an item record by SKU (not game keys), by its content as stored."""
    content = _content(ctx, sku)
    return None if content == b"null" else _entry(_parsed(ctx), content.decode(), "")


# -------------------------------------------------------------- visibility


def _options(ctx: Ctx) -> dict[str, Any]:
    return {
        "country": ctx.query.get("country"),
        "promo_code": ctx.query.get("promo_code"),
        "show_inactive": bool(ctx.query.get("show_inactive_time_limited_items")),
    }


def visible(ctx: Ctx, record: Mapping[str, Any]) -> bool:
    """Whether this request's user sees the item."""
    user = ctx.principal.user_id
    return _game_on_sale(record) and visibility.catalog_visible(ctx, record, user=user, **_options(ctx))


def _groups_of(record: Mapping[str, Any]) -> list[str]:
    return record.get("groups") or []


def _named(ctx: Ctx) -> list[tuple[str, str, Mapping[str, Any], set[str]]]:
    """The catalog entries enabled filter rules and unique offers name (their visibility depends on
    the user): (key, part, record, the lists they are in)."""

    def build() -> list[tuple[str, str, Mapping[str, Any], set[str]]]:
        rules = ctx.records(ctx.resource("filter_rule").enabled_index, "|1")
        offers = ctx.records(ctx.resource("unique_offer").enabled_index, "|1")
        refs = [(i.get("sku"), i.get("item_id")) for r in rules for i in r.get("items") or []]
        refs += [(i if isinstance(i, str) else i.get("sku"), None) for o in offers for i in o.get("items") or []]
        found: dict[tuple[str, str], tuple[str, str, Mapping[str, Any], set[str]]] = {}
        for sku, item_id in refs:
            rows = []
            if sku and (hit := by_sku(ctx, sku)):
                rows.append(hit)
            if item_id is not None:
                rows += ctx.find(items.BY_ID, item_id)
            for key, part, record in rows:
                entry = resolve(record, part) if record.get("type") == "unit" and part else record
                if _listable(entry):
                    found[(key, part)] = (key, part, entry, set(_list_values(entry)))
        return list(found.values())

    found = _items(ctx)
    if found.named is None:
        found.named = build()
    return found.named


class Entry:
    """A catalog record as the store holds it (its text and part), with what its views depend on
    worked out once: entries are kept by stored content and read only."""

    __slots__ = ("record", "stored", "sku", "whole", "parts", "limited", "timed", "vc_skus", "plain")

    def __init__(self, record: Mapping[str, Any], stored: tuple[Any, str]):
        self.record, self.stored, self.sku = record, stored, record.get("sku")
        self.whole = record.get("type") in WHOLE_TYPES  # its whole view is kept
        self.parts = tuple(c["sku"] for c in record.get("content") or () if c.get("sku")) if "content" in record else ()
        self.limited, self.timed = bool(record.get("limits")), bool(record.get("periods"))
        self.vc_skus = tuple(v["sku"] for v in record.get("vc_prices") or () if v.get("sku"))
        self.plain = self.whole and not (self.parts or self.limited or self.timed)  # no other record, no time


def _entry(parsed: dict[Any, Any], raw: str, part: str) -> Entry:
    found = parsed.get((raw, part))
    if found is None:
        found = parsed[(raw, part)] = Entry(resolve(loads(raw), part), (raw, part))
    return found


CACHED_PAGES = 256  # pages of a list kept per store generation (by offset, limit and what they leave out)


class Listing:
    """A list (`<list>/<group>`) while no item is written: how many entries it has, those shown or not
    depending on the request, and the pages read so far by what they leave out."""

    def __init__(self, ctx: Ctx, value: str, parsed: dict[Any, Any]):
        self.value, self.parsed = value, parsed
        self.total = ctx.count(CATALOG, value)
        self.conditional = [
            ((key, part), _entry(parsed, raw, part).record)
            for key, part, raw in ctx.tx.find_raw(ctx.project_id, CONDITIONAL, value)
        ]
        self.pages: dict[tuple[int, int | None, frozenset[tuple[str, str]]], list[Entry]] = {}

    def page(self, ctx: Ctx, offset: int, limit: int | None, hidden: set[tuple[str, str]]) -> list[Entry]:
        key = (offset, limit, frozenset(hidden))
        found = self.pages.get(key)
        if found is None:
            rows = ctx.tx.find_raw(ctx.project_id, CATALOG, self.value, offset=offset, limit=limit, exclude=hidden)
            found = [_entry(self.parsed, raw, part) for _, part, raw in rows]
            if len(self.pages) >= CACHED_PAGES:
                self.pages.clear()
            self.pages[key] = found
        return found


def _parsed(ctx: Ctx) -> dict[Any, Entry]:
    """The entries of catalog records by stored content (the text and part); read only."""
    return _shared(ctx, ("catalog_records", ctx.project_id), BY_CONTENT)


class Items:
    """What the catalog reads of the items and of the filter rules and unique offers that name them,
    kept until the next write to one of them: the lists read so far, the content of items by SKU,
    the entries rules and offers name."""

    DEPENDS = (items.ITEM, "filter_rule", "unique_offer")

    def __init__(self) -> None:
        self.listings: dict[str, Listing] = {}
        self.contents: dict[str, bytes] = {}
        self.named: list[tuple[str, str, Mapping[str, Any], set[str]]] | None = None


def _items(ctx: Ctx) -> Items:
    def current() -> Items:
        found = ctx.cached(("catalog_items", ctx.project_id), Items, Items.DEPENDS)
        for kept in (found.listings, found.contents):
            if len(kept) >= CACHED_PARTS:
                kept.clear()
        return found

    return ctx.memo(("catalog_items", ctx.project_id), current)


def listing(ctx: Ctx, value: str) -> Listing:
    """The list `<list>/<group>` as the store holds it now (read once per write to the items)."""
    listings = _items(ctx).listings
    found = listings.get(value)
    if found is None:
        found = listings[value] = Listing(ctx, value, _parsed(ctx))
    return found


def hidden_entries(ctx: Ctx, value: str, found: Listing | None = None) -> set[tuple[str, str]]:
    """The entries of a list (`<list>/<group>`) this request's user does not see."""
    candidates = dict((found or listing(ctx, value)).conditional)
    for key, part, record, values in _named(ctx):
        if value in values:
            candidates.setdefault((key, part), record)
    return {entry for entry, record in candidates.items() if not visible(ctx, record)}


def visible_page(ctx: Ctx, kind: str, group: str | None, offset: int, limit: int | None) -> tuple[list, int]:
    """A page of the catalog records of a list the user sees, and how many he sees in all."""
    rows, total = visible_rows(ctx, kind, group, offset, limit)
    return [entry.record for entry in rows], total


def visible_rows(ctx: Ctx, kind: str, group: str | None, offset: int, limit: int | None) -> tuple[list[Entry], int]:
    """`visible_page` as entries: each record with what identifies its content (the stored text, the part)."""
    value = f"{kind}/{group or ''}"
    found = listing(ctx, value)
    hidden = hidden_entries(ctx, value, found)
    return found.page(ctx, offset, limit, hidden), found.total - len(hidden)


def require_group(ctx: Ctx) -> str | None:
    """The group of a per-group list (None for `all`); 404 4403 when no enabled group has this ID."""
    external_id = ctx.path["external_id"]
    group = ctx.get("group", external_id)
    if group is None and external_id == ALL_GROUP:
        return None
    if group is None or not group.get("is_enabled", True):
        ctx.fail(404, 4403, "[0401-4403]: Item group not found")
    return external_id


def game_keys(ctx: Ctx, game: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    keys = [record for part, record in catalog_records(game) if part]
    return sorted(keys, key=_display_order)


# ------------------------------------------------------------------- views


def _fields(ctx: Ctx) -> tuple[str, ...]:
    return tuple(ctx.query.get("additional_fields[]") or ())


def offer_view(ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any]:
    """What an item view shows that depends on the request: prices, limits, the type's live fields."""
    options = _options(ctx)
    view = item_views.offer_view(
        ctx, record, user=ctx.principal.user_id, country=options["country"], promo_code=options["promo_code"]
    )
    if record.get("type") == "bundle":
        view["total_content_price"] = _total_content_price(view.get("content") or [])
    elif record.get("type") == "game_key":
        view.update(game_key_fields(ctx, record))
    elif record.get("type") == "unit":
        keys = [item_view(ctx, k) for k in game_keys(ctx, record) if visible(ctx, k)]
        view.update(
            {
                "type": "unit",
                "unit_type": "game_key",
                "unit_items": keys,
                "price": None,
                "can_be_bought": any(k["can_be_bought"] for k in keys),
            }
        )
    return view


def item_view(ctx: Ctx, record: Mapping[str, Any]) -> dict[str, Any]:
    """An item as this request's user sees it, with the fields of its type (not rendered)."""
    return {**item_views.static_view(ctx, record, _fields(ctx)), **offer_view(ctx, record)}


# Rendered item views are kept by content: the stored text of the item, and whatever else they
# show (value points, currencies, bonus items) by the stored text of those records; so a write to
# one item leaves the others' views as they are. What they read by kind is in these dependencies.
STATIC_DEPENDS = ("group",)
OFFER_DEPENDS = ("group", "discount", "bonus", "promo_code")
# Types whose whole view is kept: the records they name decide it (not so a game's keys: their stock)
WHOLE_TYPES = ("virtual_good", "virtual_currency", "bundle")


def _contents(ctx: Ctx) -> dict[str, bytes]:
    return _items(ctx).contents


def _content(ctx: Ctx, sku: str, contents: dict[str, bytes] | None = None) -> bytes:
    """What identifies the content of an item record (read once per write to the items)."""
    contents = _contents(ctx) if contents is None else contents
    found = contents.get(sku)
    if found is None:
        found = contents[sku] = dumps(items.get(ctx, sku))
    return found


def _promotion_id(promo: Mapping[str, Any]) -> Any:
    return promo.get("_kind"), promo.get("promotion_id") or promo.get("id")


def _cache(ctx: Ctx, name: str, schema: Mapping[str, Any], depends: tuple[str, ...], *scope: Any) -> dict[Any, Any]:
    """A per-generation map of rendered parts (one per locale, schema and what else the request
    shows them for: `scope`)."""
    return _shared(ctx, (name, ctx.project_id, id(schema), ctx.locale, *scope), depends)


# no kind is named so: a map that depends on it lasts until the store is loaded or cleared
BY_CONTENT = ("(content)",)


def _shared(ctx: Ctx, key: tuple[Any, ...], depends: tuple[str, ...]) -> dict[Any, Any]:
    """A map shared by the requests while the kinds it `depends` on are not written (bounded)."""

    def current() -> dict[Any, Any]:
        found = ctx.cached(key, dict, depends)
        if len(found) >= CACHED_PARTS:
            found.clear()
        return found

    return ctx.memo(key, current)


class Renderer:
    """Renders the item views of one request through the item schema: the record's part once per
    content (and locale); for items, currencies and bundles the whole view once per content and
    what the request changes in it (price, promotions, limits, and those of a bundle's items); the
    request part of games and game keys every time.

    The maps are per locale, schema, additional fields (and country, for whole views); within them
    a view is kept by the entry of its record (one per stored content) and the content of what
    else it shows (value points, currencies, bonus items)."""

    def __init__(self, ctx: Ctx, schema: Mapping[str, Any]):
        self.ctx, self.schema, self.shaper = ctx, schema, ctx.engine.shaper
        self.closed = self.shaper.closed(schema)
        self.fields = _fields(ctx)
        # what depends on the request and not on the item: once
        options = _options(ctx)
        self.user, self.country = ctx.principal.user_id, options["country"]
        self.statics = _cache(ctx, "catalog_static", schema, STATIC_DEPENDS, self.fields)
        self.views = _cache(ctx, "catalog_view", schema, OFFER_DEPENDS, self.fields, self.country)
        self.offers = prices.offers(ctx, self.user, options["promo_code"])
        self.parsed = _parsed(ctx)
        self.rewards = value_points.reward_index(ctx)
        self.contents: dict[str, bytes] = {}
        self.priced_in: dict[tuple[str, ...], tuple[bytes, ...]] = {}
        self.parts: dict[str, tuple[Any, ...] | None] = {}  # what the items bundles hold show

    def earned(self, sku: str) -> tuple[Any, ...]:
        """What the record's part of the view shows besides the record: the value points it earns."""
        earned = self.rewards.get(sku)
        if not earned:
            return ()
        return tuple((r["sku"], r["amount"], self.content(r["sku"])) for r in earned)

    def content(self, sku: str) -> bytes:
        found = self.contents.get(sku)
        if found is None:
            found = self.contents[sku] = _content(self.ctx, sku, _contents(self.ctx))
        return found

    def given(self, sku: str) -> bytes:
        """What identifies the record a bonus gives (`items.find`): an item's content, a game key's game's."""
        content = self.content(sku)
        if content == b"null":
            owner = self.ctx.get("game_key_owner", sku)
            if owner:
                return b"key of " + self.content(owner.get("game_sku"))
        return content

    def currencies(self, skus: tuple[str, ...]) -> tuple[bytes, ...]:
        """The content of the currencies of an item's virtual prices (once per request)."""
        if not skus:
            return ()
        found = self.priced_in.get(skus)
        if found is None:
            found = self.priced_in[skus] = tuple([self.content(sku) for sku in skus])
        return found

    def part(self, sku: Any) -> Entry | None:
        """The entry of an item a bundle holds (None: not an item record, such as a game key)."""
        if not isinstance(sku, str):
            return None
        content = self.content(sku)
        found = self.parsed.get((content, ""))
        if found is None:
            record = loads(content)
            if not isinstance(record, dict):
                return None
            found = self.parsed[(content, "")] = Entry(record, (content, ""))
        return found

    def parts_key(self, entry: Entry) -> tuple[Any, ...] | None:
        """What the items a bundle holds show in its view (None: some part's view is not kept)."""
        if not entry.parts:
            return ()
        out = []
        for sku in entry.parts:
            found = self.parts.get(sku, False)
            if found is False:
                part = self.part(sku)
                offers = prices.offers(self.ctx, self.user)  # the parts' offers: no promo code
                found = self.parts[sku] = (
                    None
                    if part is None
                    else (part, self.earned(sku), self.currencies(part.vc_skus), self.offer_key(part, offers))
                )
            if found is None:
                return None
            out.append(found)
        return tuple(out)

    def offer_key(self, entry: Entry, offers: prices.Offers | None = None) -> tuple[Any, ...] | None:
        """What the request's part of an item's view shows besides the item, the currencies it is
        priced in, the request's country and the kinds of OFFER_DEPENDS (None: nothing, the item has
        no offer, limits or periods)."""
        offers = offers or self.offers
        if not (entry.limited or entry.timed or entry.sku in offers.skus):
            return None
        ctx, record = self.ctx, entry.record
        percent, applied = offers.discount(entry.sku)
        bonuses = offers.bonuses.get(entry.sku)
        state = limits.user_limit_state(ctx, record, self.user) if entry.limited else None
        buyable = visibility.can_buy(ctx, record, self.user, state) if state or entry.timed else None
        return (
            percent,
            tuple([_promotion_id(p) for p in applied]) if applied else (),
            tuple([(_promotion_id(p), *[self.given(b.get("sku", "")) for b in p.get("bonus") or ()]) for p in bonuses])
            if bonuses
            else (),
            None if state is None else dumps(state),  # built in one order: the same state, the same text
            buyable,
        )

    def static(self, entry: Entry, earned: tuple[Any, ...]) -> dict[str, Any]:
        key = (entry, earned)
        found = self.statics.get(key)
        if found is None:
            view = item_views.static_view(self.ctx, entry.record, self.fields)  # a part: nothing made up for the rest
            found = self.statics[key] = self.shaper.render_fields(self.schema, view, self.ctx.locale)
        return found

    def __call__(self, entry: Entry) -> dict[str, Any]:
        if entry.plain and self.closed and entry.sku not in self.offers.skus and not self.rewards.get(entry.sku):
            # the most common: the view of the item alone, and the currencies it is priced in
            found = self.views.get((entry, (), self.currencies(entry.vc_skus), None, ()))
            if found is not None:
                return found
        ctx, shaper, record = self.ctx, self.shaper, entry.record
        if not self.closed:
            return shaper.render(self.schema, item_view(ctx, record), ctx.locale)
        earned = self.earned(entry.sku)
        parts = self.parts_key(entry) if entry.whole else None
        if parts is None:
            part = shaper.render_fields(self.schema, offer_view(ctx, record), ctx.locale)
            return shaper.assemble(self.schema, part, self.static(entry, earned))
        key = (entry, earned, self.currencies(entry.vc_skus), self.offer_key(entry), parts)
        found = self.views.get(key)
        if found is None:
            part = shaper.render_fields(self.schema, offer_view(ctx, record), ctx.locale)
            found = self.views[key] = shaper.assemble(self.schema, part, self.static(entry, earned))
        return found


def _item_schema(ctx: Ctx, in_list: bool) -> Mapping[str, Any]:
    """The schema of the call's items (the first of its content: lists and single items share views)."""
    shaper = ctx.engine.shaper
    schema = ctx.op.response_schema(int(ctx.op.success_statuses[0]))
    if in_list:
        schema = shaper.merged(shaper.merged(schema)["properties"]["items"])["items"]
    return shaper.same(schema)


def _total_content_price(content: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """What the bundle's content would cost bought item by item (null without real-currency prices)."""
    priced = [c for c in content if c.get("price")]
    if not priced:
        return None
    currency = priced[0]["price"]["currency"]
    same = [c for c in priced if c["price"]["currency"] == currency]

    def total(field: str) -> str:
        return str(
            prices.money(sum((Decimal(c["price"][field]) * int(c.get("quantity", 1)) for c in same), Decimal(0)))
        )

    return {
        "amount": total("amount"),
        "amount_without_discount": total("amount_without_discount"),
        "currency": currency,
    }


# ------------------------------------------------------------ catalog calls

LISTS = {
    "get-virtual-items": "virtual_items",
    "get-virtual-items-group": "virtual_items",
    "get-virtual-currency": "virtual_currency",
    "get-virtual-currency-package": "currency_packages",
    "get-bundle-list": "bundles",
    "get-bundle-list-in-group": "bundles",
    "get-sellable-items": "sellable",
    "get-sellable-items-group": "sellable",
    "get-games-list": "games",
    "get-games-group": "games",
    "get-game-keys-group": "game_keys",
}


@hook(*LISTS)
def catalog_list(ctx: Ctx) -> Reply:
    """A page of the catalog: the items of the call's kind (and group) the user sees, in display order."""
    group = require_group(ctx) if "external_id" in ctx.path else None
    offset, limit = int(ctx.query.get("offset") or 0), int(ctx.query.get("limit") or 50)
    rows, total = visible_rows(ctx, LISTS[ctx.op.operation_id], group, offset, limit)
    schema = _item_schema(ctx, in_list=True)
    reply = ctx.reply({"items": [], "has_more": offset + len(rows) < total, "total_items_count": total})
    reply.body["items"] = list(map(Renderer(ctx, schema), rows))
    return reply


@hook("get-all-virtual-items")
def all_virtual_items(ctx: Ctx) -> Reply:
    """Every virtual item the user sees, in short view (SKU, texts, groups), without paging."""
    records, _ = visible_page(ctx, "virtual_items", None, 0, None)
    return ctx.reply(
        {
            "items": [
                {
                    "sku": r["sku"],
                    "name": r.get("name"),
                    "description": r.get("description"),
                    "groups": item_views.group_refs(ctx, _groups_of(r)),
                }
                for r in records
            ]
        }
    )


SINGLE = {
    "get-virtual-items-sku": ("item_sku", "virtual_items"),
    "get-virtual-currency-sku": ("virtual_currency_sku", "virtual_currency"),
    "get-virtual-currency-package-sku": ("virtual_currency_package_sku", "currency_packages"),
    "get-bundle": ("sku", "bundles"),
    "get-sellable-item-by-sku": ("sku", "sellable"),
    "get-sellable-item-by-id": ("item_id", "sellable"),
    "get-game-by-sku": ("item_sku", "games"),
    "get-game-key-by-sku": ("item_sku", "game_keys"),
}


@hook(*SINGLE)
def catalog_item(ctx: Ctx) -> Reply:
    """One item of the call's kind, as the user sees it; 404 when it is unknown or not shown to him."""
    param, kind = SINGLE[ctx.op.operation_id]
    ident = ctx.path[param]
    entry = entry_by_item_id(ctx, ident) if param == "item_id" else entry_by_sku(ctx, ident)
    if entry is not None:
        record: Mapping[str, Any] | None = entry.record
    else:  # a game key (a part of its game's record), or none
        found = by_sku(ctx, ident) if param != "item_id" else None
        record = found[2] if found else None
    if record is None or not KINDS[kind](record) or not visible(ctx, record):
        what = "id = " + str(ident) if param == "item_id" else f"sku = '{ident}'"
        ctx.fail(404, 4001, f"[0401-4001]: Item with {what} not found")
    if entry is None:
        return ctx.reply(item_view(ctx, record))
    return ctx.reply(Renderer(ctx, _item_schema(ctx, in_list=False))(entry), rendered=True)


@hook("get-item-groups")
def item_groups(ctx: Ctx) -> Reply:
    """The enabled groups as a tree: top-level groups in order, each with its enabled children."""
    groups = sorted((g for g in ctx.values("group") if g.get("is_enabled", True)), key=_display_order)
    known = {g["external_id"] for g in ctx.values("group")}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for group in groups:
        parent = group.get("parent_external_id")
        children.setdefault(parent if parent in known else None, []).append(group)

    def node(group: Mapping[str, Any], level: int) -> dict[str, Any]:
        return {
            **{k: group.get(k) for k in ("external_id", "name", "description", "image_url", "order")},
            "level": level,
            "parent_external_id": group.get("parent_external_id") if level else None,
            "children": [node(c, level + 1) for c in children.get(group["external_id"], [])],
        }

    return ctx.reply({"groups": [node(g, 0) for g in children.get(None, [])]})
