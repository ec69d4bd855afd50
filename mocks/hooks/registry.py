"""The hook registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..resources import TRANSFORMS

if TYPE_CHECKING:
    from ..context import Ctx, Reply

HOOKS: dict[str, Callable[[Ctx], Reply]] = {}


def hook(*operation_ids: str) -> Callable[[Callable[[Ctx], Reply]], Callable[[Ctx], Reply]]:
    """Register a function as the behaviour of one or more operations."""

    def register(fn: Callable[[Ctx], Reply]) -> Callable[[Ctx], Reply]:
        for op_id in operation_ids:
            if op_id in HOOKS:
                raise ValueError(f"{op_id} already has a hook ({HOOKS[op_id].__name__})")
            HOOKS[op_id] = fn
        return fn

    return register


def transform(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a record transform the resource table names (`prepare` / `view`)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        TRANSFORMS[name] = fn
        return fn

    return register


def set_field(resource: str, field: str, value: Any) -> Callable[[Ctx], Reply]:
    """A hook that sets (or with value="toggle", flips) one field of a resource's record."""

    def action(ctx: Ctx) -> Reply:
        res = ctx.resource(resource)
        record = res.find(ctx)
        record[field] = (not record.get(field)) if value == "toggle" else value
        res.save(ctx, record, res.parent_key(ctx))
        return ctx.reply(None)

    action.__name__ = f"set_{resource}_{field}"
    return action
