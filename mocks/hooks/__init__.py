"""Named hooks: the domain behaviour of operations beyond plain CRUD.

Each module registers its hooks with `@hook("operation-id", ...)` (and record
transforms with `@transform("name")`); importing this package loads them all.
"""

from . import (  # noqa: F401,E402  (registration side effects)
    cart,
    catalog,
    chains,
    codes,
    games,
    items,
    limits,
    offer_chains,
    orders,
    promotions,
    upsell,
)
from .registry import HOOKS, hook, transform  # noqa: F401

__all__ = ["HOOKS", "hook", "transform"]
