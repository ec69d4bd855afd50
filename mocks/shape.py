"""Shape state into what the spec says a response looks like, and requests into state.

`Shaper.render(schema, value)` projects a stored record onto a response schema:
properties the schema has are kept (recursively), anything else is dropped,
required fields the record lacks are synthesized from the schema (default,
example, enum, type; `Shaper.synthesized`, when a list, collects what had to be
made up, so tests can tell that the mock sends every required field from its
state), `oneOf`/`anyOf` pick the variant the value fits, and
client-catalog texts (`CatalogText`) become the string of the requested locale.
So every response is built from state and conforms to the spec by construction;
nothing is hand-typed per endpoint.

`Shaper.normalize(schema, value)` prepares a request body for storage: localized
maps get the two-letter keys the service answers with (`en-US` -> `en`,
`zh-CN` -> `cn`, `zh-TW` -> `tw`; the last of two forms of one language wins).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
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


Renderer = Callable[[Any, "str | None"], Any]
_MISSING = object()


def _string(value: Any, locale: str | None) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return localize(value, locale) or ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _integer(value: Any, locale: str | None) -> Any:
    if isinstance(value, (bool, int, float)):
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return _MISSING


def _number(value: Any, locale: str | None) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return _MISSING


_SCALARS: dict[str | None, Renderer] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": lambda value, locale: bool(value),
}


class Shaper:
    def __init__(self) -> None:
        self._merged: dict[int, tuple[Mapping[str, Any], dict[str, Any]]] = {}
        self._renderers: dict[int, tuple[Mapping[str, Any], Renderer]] = {}
        self._fields: dict[int, tuple[Mapping[str, Any], list[tuple[str, Any, Renderer, bool, bool]]]] = {}
        self._same: dict[int, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        self._by_text: dict[str, Mapping[str, Any]] = {}
        self.synthesized: list[str] | None = None  # a list: what rendering made up for lack of state

    def _made_up(self, schema: Mapping[str, Any], what: str) -> Any:
        if self.synthesized is not None:
            self.synthesized.append(what)
        return self.synthesize(schema)

    # ---------------------------------------------------------------- schemas

    def same(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """The first schema met with the content of `schema`: the spec repeats schemas (a list's items
        and the single item), and what is rendered through one serves them all."""
        key = id(schema)
        hit = self._same.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        try:
            found = self._by_text.setdefault(json.dumps(schema, sort_keys=True, default=str), schema)
        except (TypeError, ValueError):  # keys that do not sort (numbers beside names), cycles
            found = schema
        self._same[key] = (schema, found)
        return found

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
        return self.renderer(schema)(value, locale)

    def renderer(self, schema: Mapping[str, Any]) -> Renderer:
        """The compiled renderer of a schema: the decisions that depend only on the schema
        (allOf folded, variants, required and nullable fields) are taken once."""
        key = id(schema)
        hit = self._renderers.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        cell: list[Renderer] = []
        self._renderers[key] = (schema, lambda value, locale: cell[0](value, locale))  # recursive schemas
        compiled = self._compile(schema)
        cell.append(compiled)
        self._renderers[key] = (schema, compiled)
        return compiled

    def _compile(self, schema: Mapping[str, Any]) -> Renderer:
        s = self.merged(schema)
        variants = s.get("oneOf") or s.get("anyOf")
        if variants:
            return self._compile_variants(s, variants)
        nullable = bool(s.get("nullable"))
        kind = s.get("type") or ("object" if "properties" in s else None)
        if kind == "object":
            return self._compile_object(s, nullable)
        if kind == "array":
            items = s.get("items")
            item = self.renderer(items) if items is not None else None

            def render_array(value: Any, locale: str | None) -> Any:
                if value is None:
                    return None if nullable else self._made_up(s, "an array for null")
                if not isinstance(value, list):
                    return self._made_up(s, f"an array for {type(value).__name__}")
                return [item(v, locale) for v in value] if item else list(value)

            return render_array
        scalar = _SCALARS.get(kind)
        if scalar is not None:

            def render_scalar(value: Any, locale: str | None) -> Any:
                if value is None:
                    return None if nullable else self._made_up(s, f"a {kind} for null")
                out = scalar(value, locale)
                return self._made_up(s, f"a {kind} for {value!r}") if out is _MISSING else out

            return render_scalar

        def render_any(value: Any, locale: str | None) -> Any:
            if value is None:
                return None if nullable else self._made_up(s, "a value for null")
            return copy.deepcopy(value)

        return render_any

    def _compile_variants(self, s: Mapping[str, Any], variants: list[Mapping[str, Any]]) -> Renderer:
        catalog_text = self.is_catalog_text(s)
        nullable = bool(s.get("nullable")) or any(self.merged(v).get("nullable") for v in variants)
        fits, closest, renderer = self._fits, self._closest, self.renderer

        def render_variant(value: Any, locale: str | None) -> Any:
            if catalog_text and isinstance(value, Mapping):
                return localize(value, locale)
            if value is None and not nullable:
                return self._made_up(s, "a variant for null")
            fitting = [v for v in variants if fits(v, value)]
            return renderer(closest(fitting, value) if fitting else variants[0])(value, locale)

        return render_variant

    def object_fields(self, schema: Mapping[str, Any]) -> list[tuple[str, Any, Renderer, bool, bool]]:
        """The properties of an object schema as its renderer handles them: (name, schema,
        renderer, required, kept when null), in the schema's order."""
        key = id(schema)
        hit = self._fields.get(key)
        if hit is not None and hit[0] is schema:
            return hit[1]
        s = self.merged(schema)
        required = set(s.get("required") or ())
        props = s.get("properties") or {}
        fields = [(name, sub, self.renderer(sub), name in required, self._nullable(sub)) for name, sub in props.items()]
        self._fields[key] = (schema, fields)
        return fields

    def closed(self, schema: Mapping[str, Any]) -> bool:
        """An object schema whose renderer keeps no properties beyond the declared ones."""
        s = self.merged(schema)  # cached: the check costs two lookups
        extra = s.get("additionalProperties")
        return "properties" in s and not (extra is True or (isinstance(extra, Mapping) and bool(extra)))

    def render_fields(self, schema: Mapping[str, Any], value: Mapping[str, Any], locale: str | None) -> dict[str, Any]:
        """The properties `value` has, rendered as the object's renderer renders them (no others:
        nothing is synthesized); a part of a (closed) object to `assemble` with other parts."""
        out: dict[str, Any] = {}
        for name, _sub, render, is_required, keeps_null in self.object_fields(schema):
            if name in value:
                v = value[name]
                if v is None and not is_required and not keeps_null:
                    continue
                out[name] = render(v, locale)
        return out

    def assemble(self, schema: Mapping[str, Any], *parts: Mapping[str, Any]) -> dict[str, Any]:
        """A (closed) object from parts rendered apart, the first part having a property giving it:
        the same as rendering the union of the parts' values at once."""
        out: dict[str, Any] = {}
        for name, sub, _render, is_required, _keeps_null in self.object_fields(schema):
            for part in parts:
                if name in part:
                    out[name] = part[name]
                    break
            else:
                if is_required:
                    out[name] = self._made_up(sub, f"required property {name!r}")
        return out

    def _compile_object(self, s: Mapping[str, Any], nullable: bool) -> Renderer:
        props = s.get("properties") or {}
        fields = self.object_fields(s)
        extra = s.get("additionalProperties")
        keep_extra = extra is True or (not props and extra is None) or (isinstance(extra, Mapping) and bool(extra))
        extra_renderer = self.renderer(extra) if isinstance(extra, Mapping) and extra else None

        def render_object(value: Any, locale: str | None) -> Any:
            if value is None:
                return None if nullable else self._made_up(s, "an object for null")
            if not isinstance(value, Mapping):
                return self._made_up(s, f"an object for {type(value).__name__}")
            out: dict[str, Any] = {}
            for name, sub, render, is_required, keeps_null in fields:
                if name in value:
                    v = value[name]
                    if v is None and not is_required and not keeps_null:
                        continue  # absent rather than invented
                    out[name] = render(v, locale)
                elif is_required:
                    out[name] = self._made_up(sub, f"required property {name!r}")
            if keep_extra:
                for k, v in value.items():
                    if k not in props and not str(k).startswith("_"):
                        out[k] = extra_renderer(v, locale) if extra_renderer else copy.deepcopy(v)
            return out

        return render_object

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
