"""Lint rules `xsolla-contract spec check` applies on top of OpenAPI validity.

- every operation (and webhook) states its security (an explicit `security: []` counts);
- every operation has a 2xx response, with a schema or explicitly without content;
- every example (media types, parameters, schemas) is valid against its schema;
- links name existing operations and parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from openapi_schema_validator import OAS30Validator, OAS31Validator, oas30_format_checker, oas31_format_checker

from .errors import Problem
from .spec import Operation, Spec

__all__ = ["lint"]


def _schema_errors(schema: Mapping[str, Any], value: Any, v31: bool = False) -> list[str]:
    if v31:
        validator = OAS31Validator(schema, format_checker=oas31_format_checker)
    else:
        validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _media_examples(media: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if "example" in media:
        yield "example", media["example"]
    for name, ex in (media.get("examples") or {}).items():
        if isinstance(ex, Mapping) and "value" in ex:
            yield f"examples/{name}", ex["value"]


def _schema_examples(schema: Any, where: str, seen: set[str]) -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    """Schema-level `example`s anywhere inside a schema (each distinct one once)."""
    if isinstance(schema, Mapping):
        if "example" in schema:
            key = json.dumps([schema], sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                yield where, schema, schema["example"]
        for k in ("properties",):
            for name, sub in (schema.get(k) or {}).items():
                yield from _schema_examples(sub, f"{where}.{name}", seen)
        for k in ("items", "additionalProperties", "not"):
            if isinstance(schema.get(k), Mapping):
                yield from _schema_examples(schema[k], f"{where}[{k}]", seen)
        for k in ("allOf", "oneOf", "anyOf"):
            for i, sub in enumerate(schema.get(k) or []):
                yield from _schema_examples(sub, f"{where}<{k}{i}>", seen)


def _lint_operation(op: Operation, spec: Spec, seen: set[str], v31: bool = False) -> Iterator[Problem]:
    here = f"{op.method} {op.path} ({op.operation_id})"
    if not op.definition.get("operationId"):
        yield Problem(here, "no operationId")
    if op.security is None:
        yield Problem(here, "no security requirement (write `security: []` for public calls)")
    if not op.success_statuses:
        yield Problem(here, "no 2xx response")
    for status in op.success_statuses:
        content = op.responses[status].get("content") or {}
        for ctype, media in content.items():
            if "schema" not in media:
                yield Problem(
                    f"{here} response {status} {ctype}",
                    "content without a schema "
                    "(describe the body, or drop `content` for an explicit no-content response)",
                )
    media_sets: list[tuple[str, Mapping[str, Any]]] = []
    for ctype, media in ((op.request_body or {}).get("content") or {}).items():
        media_sets.append((f"request body {ctype}", media))
    for status, response in op.responses.items():
        for ctype, media in (response.get("content") or {}).items():
            media_sets.append((f"response {status} {ctype}", media))
    for label, media in media_sets:
        schema = media.get("schema")
        if schema is None:
            continue
        for name, value in _media_examples(media):
            for err in _schema_errors(schema, value, v31):
                yield Problem(f"{here} {label} {name}", f"example does not match its schema at {err}")
        for where, sub, value in _schema_examples(schema, "schema", seen):
            for err in _schema_errors(sub, value, v31):
                yield Problem(f"{here} {label} {where}", f"schema example is invalid at {err}")
    for param in op.parameters:
        schema = param.get("schema")
        if schema is not None and "example" in param:
            value = param["example"]
            if param.get("in") == "path" and isinstance(value, str) and schema.get("type") == "integer":
                value = int(value) if value.isdigit() else value
            for err in _schema_errors(schema, value, v31):
                yield Problem(f"{here} parameter {param.get('name')}", f"example does not match its schema at {err}")
    for status, links in op.links.items():
        for name, link in links.items():
            target_id = link.get("operationId")
            if target_id not in spec.operations:
                yield Problem(f"{here} response {status} link {name}", f"unknown operationId {target_id!r}")
                continue
            target = spec.operations[target_id]
            known = {p.get("name") for p in target.parameters}
            for pname in link.get("parameters") or {}:
                bare = pname.split(".", 1)[-1]
                if bare not in known:
                    yield Problem(f"{here} response {status} link {name}", f"{target_id} has no parameter {bare!r}")


def lint(spec: Spec) -> list[Problem]:
    """Every lint problem of a loaded spec (empty when clean)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    v31 = str(spec.document.get("openapi", "")).startswith("3.1")
    for op in [*spec.operations.values(), *spec.webhooks.values()]:
        problems.extend(_lint_operation(op, spec, seen, v31))
    return problems
