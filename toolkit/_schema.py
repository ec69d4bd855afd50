"""Compiled schema checks with openapi-core's semantics.

openapi-core validates with openapi-schema-validator's `OAS30Validator`. That is
pure Python and costs most of the time of a request/response validation. Here each
schema is compiled once into a `jsonschema_rs` (Rust) validator for the yes/no
answer on the hot path; only when it says "invalid" does `OAS30Validator` run, so
the violations (and their messages) are exactly the ones openapi-core reports.
The OpenAPI 3.0 dialect is translated for the fast path: `nullable` becomes a
`null` type, everything else is draft 4, which is what OpenAPI 3.0 builds on.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker

try:  # shipped with schemathesis; optional all the same
    import jsonschema_rs
except ImportError:  # pragma: no cover
    jsonschema_rs = None

_OAS_ONLY = ("nullable", "discriminator", "example", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly")


def to_json_schema(schema: Any) -> Any:
    """Translate an OpenAPI 3.0 schema into draft 4 JSON Schema (a copy)."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OAS_ONLY:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, Mapping):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "oneOf", "anyOf"):
            out[key] = [to_json_schema(s) for s in value]
        else:
            out[key] = copy.deepcopy(value)
    if schema.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


class SchemaCheck:
    """One schema, compiled: `errors(value)` lists (JSON pointer, message) pairs."""

    __slots__ = ("schema", "_fast", "_slow")

    def __init__(self, schema: Mapping[str, Any]):
        self.schema = schema
        self._slow: OAS30Validator | None = None
        self._fast = None
        if jsonschema_rs is not None:
            try:
                self._fast = jsonschema_rs.Draft4Validator(to_json_schema(schema), validate_formats=True)
            except Exception:  # noqa: BLE001 - a schema the fast path can't compile: slow path only
                self._fast = None

    @property
    def slow(self) -> OAS30Validator:
        if self._slow is None:
            self._slow = OAS30Validator(self.schema, format_checker=oas30_format_checker)
        return self._slow

    def errors(self, value: Any) -> list[tuple[str, str]]:
        if self._fast is not None and self._fast.is_valid(value):
            return []
        found = []
        for error in sorted(self.slow.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]):
            pointer = "/" + "/".join(str(p) for p in error.absolute_path) if error.absolute_path else ""
            found.append((pointer, _best_message(error)))
        return found


def _best_message(error) -> str:
    """For oneOf/anyOf failures, the message of the branch that came closest."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        return f"{error.message.split(' is not valid')[0]} matches no variant; closest: {deepest.message}"
    return error.message


_cache: dict[int, SchemaCheck] = {}


def check_for(schema: Mapping[str, Any]) -> SchemaCheck:
    """The compiled check of a schema object (cached by identity; schemas are immutable here)."""
    key = id(schema)
    found = _cache.get(key)
    if found is None or found.schema is not schema:
        found = _cache[key] = SchemaCheck(schema)
    return found
