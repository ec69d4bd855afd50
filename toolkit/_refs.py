"""Find every ``$ref`` of a multi-file OpenAPI description before resolving it.

prance stops at the first reference it cannot resolve. To name *every* dangling
reference and where it is used (and, in lenient mode, to neutralise them before
prance runs) we walk the documents ourselves: parse each file once, follow the
references it makes to other files, and check that each target file exists and
that each JSON pointer lands on something. Resolution itself stays prance's job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

try:  # the C loader is several times faster on large specs
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """PyYAML with YAML 1.2 booleans (only true/false), as prance's loader reads the files:
    `countries: [NO, SE]` is Norway and Sweden, not False and Sweden."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

REMOTE_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class DanglingRef:
    """A ``$ref`` whose target does not exist."""

    ref: str  # the reference as written
    file: Path  # the document that contains it
    where: str  # JSON pointer of the ``$ref`` inside that document
    reason: str  # what is missing

    def __str__(self) -> str:
        return f"{self.ref!r} used in {self.file.name} at {human_pointer(self.where)}: {self.reason}"


def human_pointer(pointer: str) -> str:
    """`/paths/~1v2~1items/get` -> `paths -> /v2/items -> get`."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/") if p != ""]
    return " -> ".join(parts) or "(document root)"


@dataclass
class RefScan:
    """The documents reachable from a root, and the references that dangle."""

    root: Path
    documents: dict[Path, object] = field(default_factory=dict)
    dangling: list[DanglingRef] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return sorted(self.documents)


def load_document(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def _pointer_get(doc: object, pointer: str) -> tuple[bool, str]:
    """Follow a JSON pointer; answer (found, the part that was missing)."""
    if pointer in ("", "/"):
        return True, ""
    node = doc
    walked = ""
    for raw in pointer.lstrip("/").split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        walked += "/" + raw
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, dict) and part.isdigit() and int(part) in node:
            node = node[int(part)]  # YAML status codes written without quotes
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, walked
    return True, ""


def _walk_refs(node: object, pointer: str = ""):
    """Yield (pointer of the object holding $ref, ref string)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield pointer, ref
        for key, value in node.items():
            if key == "$ref":
                continue
            yield from _walk_refs(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_refs(value, f"{pointer}/{index}")


def scan(root: Path) -> RefScan:
    """Parse the root and every local document it references, and check each reference."""
    root = root.resolve()
    result = RefScan(root=root)
    docs = result.documents

    def document(path: Path) -> object:
        if path not in docs:
            docs[path] = load_document(path)
        return docs[path]

    done: set[Path] = set()
    queue = [root]
    while queue:
        path = queue.pop()
        if path in done:
            continue
        done.add(path)
        for where, ref in _walk_refs(document(path)):
            parts = urlsplit(ref)
            if parts.scheme in REMOTE_SCHEMES:
                result.remote.append(ref)
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file():
                result.dangling.append(DanglingRef(ref, path, where, f"file {target.name} does not exist"))
                continue
            found, missing = _pointer_get(document(target), parts.fragment)
            if not found:
                result.dangling.append(DanglingRef(ref, path, where, f"{target.name} has nothing at #{missing}"))
            if target not in done:
                queue.append(target)
    return result


def _placeholder_for(where: str, ref: str) -> object | None:
    """What a dangling reference becomes in lenient mode; None means drop the entry."""
    parts = where.strip("/").split("/")
    note = f"Unresolved reference {ref}; accepted as anything."
    if len(parts) >= 2 and parts[-2] == "responses":
        return {"description": note}
    if len(parts) >= 2 and parts[-2] == "parameters":
        return None
    if parts and parts[-1] in ("requestBody",):
        return None
    if len(parts) == 2 and parts[0] == "paths":
        return {}
    return {"description": note}  # a schema that accepts any value


def _set(doc: object, where: str, value: object | None) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in where.strip("/").split("/")]
    parent = doc
    for part in parts[:-1]:
        parent = (
            parent[int(part)] if isinstance(parent, list) else (parent[part] if part in parent else parent[int(part)])
        )
    last = parts[-1]
    if isinstance(parent, list):
        if value is None:
            parent.pop(int(last))
        else:
            parent[int(last)] = value
    else:
        key = last if last in parent else int(last)
        if value is None:
            del parent[key]
        else:
            parent[key] = value


def neutralised_copy(result: RefScan) -> tuple[Path, Path]:
    """Mirror the documents into a temporary tree with dangling references replaced.

    Answers (the temporary directory, the root inside it). The tree keeps the
    documents' relative layout, so the references that do resolve keep working.
    """
    base = Path(os.path.commonpath([str(p.parent) for p in result.documents]))
    tmp = Path(tempfile.mkdtemp(prefix="xsolla-contract-lenient-"))
    by_file: dict[Path, list[DanglingRef]] = {}
    for d in result.dangling:
        by_file.setdefault(d.file, []).append(d)
    try:
        for path, doc in result.documents.items():
            target = tmp / path.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            refs = sorted(by_file.get(path, []), key=lambda d: d.where, reverse=True)
            if refs:
                for d in refs:  # deepest/last first so list indices stay valid
                    _set(doc, d.where, _placeholder_for(d.where, d.ref))
            target.write_text(json.dumps(doc) if path.suffix == ".json" else yaml.safe_dump(doc))
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, tmp / result.root.relative_to(base)
