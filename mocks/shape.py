"""Shape state into what the spec says a response looks like, and requests into state.

`Shaper.render(schema, value)` projects a stored record onto a response schema:
properties the schema has are kept (recursively), anything else is dropped,
required fields the record lacks are synthesized from the schema (default,
example, enum, type), `oneOf`/`anyOf` pick the variant the value fits, and
client-catalog texts (`CatalogText`) become the string of the requested locale.
So every response is built from state and conforms to the spec by construction;
nothing is hand-typed per endpoint.

`Shaper.normalize(schema, value)` prepares a request body for storage: localized
maps get the two-letter keys the service answers with (`en-US` -> `en`,
`zh-CN` -> `cn`, `zh-TW` -> `tw`; the last of two forms of one language wins).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .clock import iso

_SPECIAL_LOCALES = {"zh-CN": "cn", "zh-TW": "tw", "zh-cn": "cn", "zh-tw": "tw"}


def two_letter(key: str) -> str:
    return _SPECIAL_LOCALES.get(key, key[:2].lower() if len(key) == 5 and key[2] == "-" else key)


def localize(texts: Mapping[str, Any] | None, locale: str | None) -> str | None:
    """Pick the text of `locale`, else English, else any language."""
    if not texts:
        return None
    for key in (two_letter(locale or "en"), "en"):
        if texts.get(key):
            return texts[key]
    return next((v for v in texts.values() if v), None)


class Shaper:
    def __init__(self) -> None:
        self._merged: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = {}

    # ---------------------------------------------------------------- schemas

    def merged(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """The schema with `allOf` folded in (properties and required lists united)."""
        key = id(schema)
        hit = self._merged.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        out: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema.get("allOf") or ():
            sub = self.merged(part)
            props = dict(sub.get("properties") or {})
            props.update(out.get("properties") or {})
            if props:
                out["properties"] = props
            required = list(dict.fromkeys([*(out.get("required") or []), *(sub.get("required") or [])]))
            if required:
                out["required"] = required
            for k, v in sub.items():
                if k not in ("properties", "required") and k not in out:
                    out[k] = v
        self._merged[key] = (schema, out)
        return out

    @staticmethod
    def is_localized_map(schema: Mapping[str, Any]) -> bool:
        props = schema.get("properties") or {}
        return schema.get("type") == "object" and "en" in props and "de" in props

    def is_catalog_text(self, schema: Mapping[str, Any]) -> bool:
        variants = schema.get("anyOf") or schema.get("oneOf") or ()
        return any(v.get("type") == "string" for v in variants) and any(
            self.is_localized_map(self.merged(v)) for v in variants
        )

    def _nullable(self, schema: Mapping[str, Any]) -> bool:
        s = self.merged(schema)
        variants = s.get("oneOf") or s.get("anyOf") or ()
        return bool(s.get("nullable")) or any(self._nullable(v) for v in variants)

    def _closest(self, variants: list[Mapping[str, Any]], value: Any) -> Mapping[str, Any]:
        """Among variants a value fits, the one whose properties cover most of its keys."""
        if not isinstance(value, Mapping) or len(variants) == 1:
            return variants[0]
        return max(variants, key=lambda v: len(set(value) & set(self.merged(v).get("properties") or {})))

    def _fits(self, schema: Mapping[str, Any], value: Any) -> bool:
        s = self.merged(schema)
        if value is None:
            return bool(s.get("nullable"))
        kind = s.get("type")
        if "enum" in s and value not in s["enum"]:
            return False
        if kind == "object" or (kind is None and "properties" in s):
            if not isinstance(value, Mapping):
                return False
            if any(r not in value for r in s.get("required") or ()):
                return False
            for name, sub in (s.get("properties") or {}).items():
                if name in value and "enum" in sub and value[name] not in sub["enum"]:
                    return False
            if s.get("additionalProperties") is False:
                return all(k in (s.get("properties") or {}) for k in value)
            return True
        checks = {
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
        }
        if kind in checks:
            return checks[kind](value)
        variants = s.get("oneOf") or s.get("anyOf")
        if variants:
            return any(self._fits(v, value) for v in variants)
        return True

    # ----------------------------------------------------------------- output

    def render(self, schema: Mapping[str, Any] | None, value: Any, locale: str | None = None) -> Any:
        if schema is None:
            return value
        s = self.merged(schema)
        variants = s.get("oneOf") or s.get("anyOf")
        if variants:
            if isinstance(value, Mapping) and self.is_catalog_text(s):
                return localize(value, locale)
            if value is None and not s.get("nullable") and not any(self.merged(v).get("nullable") for v in variants):
                return self.synthesize(s)
            fitting = [v for v in variants if self._fits(v, value)]
            if fitting:
                return self.render(self._closest(fitting, value), value, locale)
            return self.render(variants[0], value, locale)
        if value is None:
            return None if s.get("nullable") else self.synthesize(s)
        kind = s.get("type") or ("object" if "properties" in s else None)
        if kind == "object":
            if not isinstance(value, Mapping):
                return self.synthesize(s)
            props = s.get("properties") or {}
            out: dict[str, Any] = {}
            required = s.get("required") or ()
            for name, sub in props.items():
                if name in value:
                    if value[name] is None and name not in required and not self._nullable(sub):
                        continue  # absent rather than invented
                    out[name] = self.render(sub, value[name], locale)
                elif name in required:
                    out[name] = self.synthesize(sub)
            extra = s.get("additionalProperties")
            if extra is True or (not props and extra is None) or (isinstance(extra, Mapping) and extra):
                sub = extra if isinstance(extra, Mapping) else None
                for k, v in value.items():
                    if k not in props and not str(k).startswith("_"):
                        out[k] = self.render(sub, v, locale) if sub else copy.deepcopy(v)
            return out
        if kind == "array":
            if not isinstance(value, list):
                return self.synthesize(s)
            items = s.get("items")
            return [self.render(items, v, locale) for v in value]
        if kind == "string":
            if isinstance(value, datetime):
                return iso(value)
            if isinstance(value, Mapping) and s.get("type") == "string":
                return localize(value, locale) or ""
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, float):
                return f"{value:.2f}"
            return value if isinstance(value, str) else str(value)
        if kind == "integer":
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, (int, float)):
                return int(value)
            if isinstance(value, str) and value.lstrip("-").isdigit():
                return int(value)
            return self.synthesize(s)
        if kind == "number":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            try:
                return float(value)
            except (TypeError, ValueError):
                return self.synthesize(s)
        if kind == "boolean":
            return bool(value)
        return copy.deepcopy(value)

    def synthesize(self, schema: Mapping[str, Any]) -> Any:
        """A minimal value valid against `schema` (for required fields state lacks)."""
        s = self.merged(schema)
        for key in ("default", "example"):
            if key in s:
                return copy.deepcopy(s[key])
        if s.get("enum"):
            return s["enum"][0]
        variants = s.get("oneOf") or s.get("anyOf")
        if variants:
            return self.synthesize(variants[0])
        if s.get("nullable"):
            return None
        kind = s.get("type") or ("object" if "properties" in s else None)
        if kind == "object":
            props = s.get("properties") or {}
            return {name: self.synthesize(props.get(name, {})) for name in s.get("required") or ()}
        if kind == "array":
            return [self.synthesize(s.get("items") or {}) for _ in range(int(s.get("minItems", 0)))]
        if kind == "string":
            if s.get("format") == "date-time":
                return "1970-01-01T00:00:00+00:00"
            return "x" * int(s.get("minLength", 0))
        if kind in ("integer", "number"):
            return s.get("minimum", 0) + (1 if s.get("exclusiveMinimum") else 0)
        if kind == "boolean":
            return False
        return None

    # ------------------------------------------------------------------ input

    def normalize(self, schema: Mapping[str, Any] | None, value: Any) -> Any:
        """Request body -> stored form: two-letter locale keys, and only the fields the schema
        declares (what the spec does not describe is not kept, so it can never come back)."""
        if schema is None or value is None:
            return value
        s = self.merged(schema)
        if isinstance(value, Mapping) and self.is_localized_map(s):
            out: dict[str, Any] = {}
            for key, text in value.items():
                short = two_letter(key)
                out.pop(short, None)
                out[short] = text
            return out
        variants = s.get("oneOf") or s.get("anyOf")
        if variants:
            for variant in variants:
                if self._fits(variant, value):
                    return self.normalize(variant, value)
            return value
        if isinstance(value, Mapping):
            props = s.get("properties") or {}
            extra = s.get("additionalProperties")
            if props and not extra:  # a described object: its undeclared keys are dropped
                return {k: self.normalize(props[k], v) for k, v in value.items() if k in props}
            return {
                k: self.normalize(props.get(k, extra if isinstance(extra, Mapping) else None), v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.normalize(s.get("items"), v) for v in value]
        return value
