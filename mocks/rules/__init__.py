"""Domain rules the hooks share, one module per concept.

    periods       time windows (periods, date ranges) and recurrent resets
    conditions    user-attribute conditions
    items         items by SKU (game keys included), their catalog type and texts
    inventory     users' inventories: grants, balances, charges
    limits        uses of items, promotions and codes; per-user limits
    promotions    promotions of every type, which are usable, codes
    prices        prices after discounts, the promotions behind them
    value_points  the value points a purchase earns
    orders        orders and their fulfilment
    visibility    whether a client catalog lists an item and sells it
    item_views    an item as client catalog calls show it

Rules work on a `Ctx` (one request, one store transaction) and on records as the
resource table stores them; hooks combine them. Rules never build responses and
never import hooks or the engine. Import the concept you need
(`from ..rules import prices`) and call it by name (`prices.price_view(...)`).
"""
