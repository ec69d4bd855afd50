"""The OpenAPI 3.0 schema dialect as draft 4 JSON Schema, for the compiled checks.

`nullable` becomes a `null` type (and a `None` enum member); keywords JSON Schema
does not know are dropped; everything else is draft 4, which OpenAPI 3.0 builds on.
`_core` compiles these translations with `jsonschema_rs` for the yes/no answer
that precedes openapi-core's own validation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

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
