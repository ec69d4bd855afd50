"""One-file bundles of a multi-file OpenAPI description.

`bundle(root)` gives one document whose references are all internal: every schema,
response, parameter, request body, header, example and link that the source files
define by name and reference becomes a named entry of `components`, and each
reference points there (`#/components/schemas/Coupon`). Path items referenced from
the root are inlined, as OpenAPI 3.0 has no place for them in `components`. This is
the form that mock servers (Prism), documentation renderers (Redoc, Swagger UI) and
code generators read best: class names come from component names, and the file stays
small. `Spec.from_path()` gives the other form, every reference replaced by its
target (`xsolla-contract spec bundle --dereference`).

A component keeps the name it has in its source file (`Coupon`, `Unauthorized`,
`ProjectId`). When two files define different things under one name, each gets its
file's name in front (`OfferChainsStep`, `DailyChainsStep`).

Which kind of component a reference names follows from where the reference stands:
the walk below follows the structure of an OpenAPI 3.0 document (an operation's
`parameters` hold parameters, a media type's `schema` a schema, ...), so a property
that happens to be called `parameters` is still a schema.
"""

from __future__ import annotations

import copy
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from . import _refs
from .errors import DanglingReferencesError, Problem, SpecError, SpecValidationError

__all__ = ["BundleStats", "bundle", "write_document", "FORMATS"]

# kind of object -> its section of `components`
SECTIONS = {
    "schema": "schemas",
    "response": "responses",
    "parameter": "parameters",
    "requestBody": "requestBodies",
    "header": "headers",
    "example": "examples",
    "link": "links",
    "callback": "callbacks",
}
_SECTION_KINDS: dict[str, str | None] = {section: kind for kind, section in SECTIONS.items()}
_SECTION_KINDS["securitySchemes"] = None  # no references inside
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAMETER = {"schema": ("one", "schema"), "content": ("map", "mediaType"), "examples": ("map", "example")}

# The structure of an OpenAPI 3.0 document: kind of object -> {key: (how it holds them, kind of what it holds)}.
# "one": an object, "map": a mapping of names to objects, "list": a list of objects. Everything else is data.
STRUCTURE: dict[str, dict[str, tuple[str, str]]] = {
    "root": {"paths": ("map", "pathItem")},
    "pathItem": {"parameters": ("list", "parameter"), **{m: ("one", "operation") for m in _METHODS}},
    "operation": {
        "parameters": ("list", "parameter"),
        "requestBody": ("one", "requestBody"),
        "responses": ("map", "response"),
        "callbacks": ("map", "callback"),
    },
    "callback": {},  # a mapping of expressions to path items: see `_walk_callback`
    "parameter": _PARAMETER,
    "header": _PARAMETER,
    "requestBody": {"content": ("map", "mediaType")},
    "response": {"headers": ("map", "header"), "content": ("map", "mediaType"), "links": ("map", "link")},
    "mediaType": {"schema": ("one", "schema"), "examples": ("map", "example"), "encoding": ("map", "encoding")},
    "encoding": {"headers": ("map", "header")},
    "schema": {
        "properties": ("map", "schema"),
        "patternProperties": ("map", "schema"),
        "items": ("one", "schema"),
        "not": ("one", "schema"),
        "additionalProperties": ("one", "schema"),
        "allOf": ("list", "schema"),
        "anyOf": ("list", "schema"),
        "oneOf": ("list", "schema"),
    },
}

_SCHEMA_HOLDERS = frozenset(STRUCTURE["schema"])  # a pointer starting here is inside one schema
_DEFINITIONS = ("definitions", "$defs")  # JSON Schema's places for named schemas: not valid in a 3.0 schema

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


@dataclass(frozen=True)
class _Target:
    """A named definition in a source file: the file and the pointer to the definition."""

    kind: str
    file: Path
    pointer: tuple[str, ...]


class _Pending:
    """A reference to a component whose final name is known only after the walk."""

    __slots__ = ("target", "rest")

    def __init__(self, target: _Target, rest: tuple[str, ...]):
        self.target, self.rest = target, rest


@dataclass(frozen=True)
class BundleStats:
    operations: int
    components: dict[str, int]  # section -> count

    def describe(self) -> str:
        parts = ", ".join(f"{section} {n}" for section, n in self.components.items() if n)
        return f"{self.operations} operations, {sum(self.components.values())} named components ({parts})"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _pointer(fragment: str) -> tuple[str, ...]:
    return tuple(unquote(p).replace("~1", "/").replace("~0", "~") for p in fragment.strip("/").split("/") if p)


def _get(document: Any, pointer: tuple[str, ...]) -> Any:
    node = document
    for part in pointer:
        if isinstance(node, list):
            node = node[int(part)]
        elif part in node:
            node = node[part]
        else:
            node = node[int(part)]  # YAML keys written as numbers (status codes)
    return node


def _pascal(stem: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", stem) if w)


class _Bundler:
    def __init__(self, scan: _refs.RefScan):
        self.root = scan.root
        self.documents = scan.documents
        self.components: dict[_Target, Any] = {}  # filled as the walk meets references

    # ------------------------------------------------------------ references

    def _named(self, file: Path, pointer: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Split a pointer into the named definition it is in, and the rest inside it.

        A reference to a whole file, or into a file that is one schema (`item.yaml#/properties/sku`),
        names the file's content (named after the file)."""
        if not pointer or pointer[0] in _SCHEMA_HOLDERS:
            size = 0
        elif pointer[0] == "components":
            size = 3
        elif pointer[0] in _SECTION_KINDS or pointer[0] in ("paths", *_DEFINITIONS):
            size = 2  # a file's own sections: schemas/<Name>, paths/<key>, definitions/<Name>
        else:
            size = 1  # a shared file whose top-level keys are the names
        return pointer[:size], pointer[size:]

    def ref(self, kind: str, file: Path, ref: str) -> Any:
        parts = urlsplit(ref)
        if parts.scheme:
            return {"$ref": ref}  # remote references stay as they are
        target_file = (file.parent / unquote(parts.path)).resolve() if parts.path else file
        pointer = _pointer(parts.fragment)
        if kind == "pathItem":  # no components for path items in 3.0: inline
            return self.walk("pathItem", target_file, _get(self.documents[target_file], pointer))
        named, rest = self._named(target_file, pointer)
        target = _Target(kind, target_file, named)
        if target not in self.components:
            self.components[target] = None  # placeholder first: recursive schemas end here
            self.components[target] = self.walk(kind, target_file, _get(self.documents[target_file], named))
        return {"$ref": _Pending(target, rest)}

    # --------------------------------------------------------- the structure

    def walk(self, kind: str, file: Path, node: Any) -> Any:
        """A copy of `node` (an object of this kind in `file`) with its references made internal."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            return self.ref(kind, file, node["$ref"])
        if not isinstance(node, dict):
            return copy.deepcopy(node)
        if kind == "callback":
            return {expression: self.walk("pathItem", file, item) for expression, item in node.items()}
        holds = STRUCTURE.get(kind, {})
        out: dict[str, Any] = {}
        for key, value in node.items():
            how, inner = holds.get(key, ("data", ""))
            if kind == "schema" and key in _DEFINITIONS:
                continue  # what they hold becomes a component where it is referenced
            if how == "one" and isinstance(value, dict):
                out[key] = self.walk(inner, file, value)
            elif how == "map" and isinstance(value, dict):
                out[key] = {name: self.walk(inner, file, v) for name, v in value.items()}
            elif how == "list" and isinstance(value, list):
                out[key] = [self.walk(inner, file, v) for v in value]
            elif kind == "root" and key == "components" and isinstance(value, dict):
                out[key] = {
                    section: {name: self.walk(_SECTION_KINDS[section], file, v) for name, v in entries.items()}
                    if _SECTION_KINDS.get(section) and isinstance(entries, dict)
                    else copy.deepcopy(entries)
                    for section, entries in value.items()
                }
            else:
                out[key] = copy.deepcopy(value)  # examples, defaults, enums, extensions: data
        return out

    # ----------------------------------------------------------------- names

    def names(self, document: dict[str, Any]) -> dict[_Target, str]:
        """A component name per target: its own name, or with its file's name in front on a clash."""
        taken: dict[str, set[str]] = {}
        for section, entries in (document.get("components") or {}).items():
            taken[section] = set(entries or ())
        by_section: dict[str, list[_Target]] = {}
        for target in self.components:
            if target.file == self.root and target.pointer[:1] == ("components",):
                continue  # the root's own components keep their place
            by_section.setdefault(SECTIONS[target.kind], []).append(target)
        names: dict[_Target, str] = {}
        for section, targets in by_section.items():
            targets.sort(key=lambda t: (str(t.file), t.pointer))
            plain = Counter(_own_name(t) for t in targets)
            for target in targets:
                name = _own_name(target)
                if plain[name] > 1 or name in taken.get(section, ()):
                    name = _pascal(target.file.stem) + name
                    if name in taken.get(section, ()):
                        name = _pascal(target.file.parent.name) + name
                base, n = name, 2
                while name in taken.setdefault(section, set()):
                    name, n = f"{base}{n}", n + 1
                taken[section].add(name)
                names[target] = name
        return names


def _own_name(target: _Target) -> str:
    name = target.pointer[-1] if target.pointer else _pascal(target.file.stem)
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)  # the characters component names may use


def _finish(node: Any, names: dict[_Target, str], root: Path) -> Any:
    """Replace the pending references with their final `#/components/...` pointers."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, _Pending):
            target = ref.target
            if target.file == root and target.pointer[:1] == ("components",):
                pointer = target.pointer + ref.rest
            else:
                pointer = ("components", SECTIONS[target.kind], names[target], *ref.rest)
            return {**node, "$ref": "#/" + "/".join(_escape(p) for p in pointer)}
        return {k: _finish(v, names, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_finish(v, names, root) for v in node]
    return node


def bundle(root: str | os.PathLike[str]) -> tuple[dict[str, Any], BundleStats]:
    """One document with named components and internal references only (see the module docstring)."""
    from .spec import HTTP_METHODS, validation_problems

    path = Path(root)
    if not path.is_file():
        raise SpecError(str(path), [Problem(str(path), "no such file")])
    try:
        scan = _refs.scan(path)
    except (ValueError, OSError) as exc:
        raise SpecError(str(path), [Problem(getattr(exc, "filename", None) or str(path), str(exc))]) from exc
    if scan.dangling:
        raise DanglingReferencesError(str(path), scan.dangling)
    bundler = _Bundler(scan)
    source = scan.documents[scan.root]
    document = bundler.walk("root", scan.root, source)
    names = bundler.names(document)
    components: dict[str, Any] = dict(document.get("components") or {})
    added: Counter[str] = Counter()
    for target, value in sorted(bundler.components.items(), key=lambda kv: (kv[0].kind, names.get(kv[0], ""))):
        if target in names:
            components.setdefault(SECTIONS[target.kind], {})[names[target]] = value
            added[SECTIONS[target.kind]] += 1
    document["components"] = components
    document = _finish(document, names, scan.root)
    problems = validation_problems(document)
    if problems:
        raise SpecValidationError(str(path), problems)
    operations = sum(
        1 for item in (document.get("paths") or {}).values() for m in HTTP_METHODS if isinstance(item.get(m), dict)
    )
    return document, BundleStats(operations, {s: added[s] for s in SECTIONS.values()})


def write_document(document: Any, out: str | os.PathLike[str]) -> Path:
    """Write a document as JSON or YAML, chosen by the file's extension (see `FORMATS`)."""
    import json
    import tempfile

    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"{out.name}: cannot tell the format from {out.suffix or 'a name without extension'!r}; "
            f"name the file {', '.join(FORMATS)}"
        )
    if fmt == "yaml":
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the C emitter: seconds, not a minute, for 8 MB
        text = yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    else:
        text = json.dumps(document, indent=1, ensure_ascii=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".bundle-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    return out
