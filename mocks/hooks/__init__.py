"""Named hooks: the domain behaviour of operations beyond plain CRUD.

Each module registers its hooks with `@hook("operation-id", ...)` (and record
transforms with `@transform("name")`); importing this package loads them all.
"""

from .registry import HOOKS, hook, transform  # noqa: F401
from . import (  # noqa: F401,E402  (registration side effects)
    items,
    promotions,
)

__all__ = ["HOOKS", "hook", "transform"]
