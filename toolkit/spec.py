"""Loading the OpenAPI description and the table of its operations.

`Spec.from_path()` resolves every `$ref` of a multi-file description with prance,
validates the result with openapi-spec-validator, and keeps the resolved document
in a cache keyed by the content of the source files, so that the next load in any
process only re-hashes the files and reads one JSON document.

Everything else in the toolkit (validators, the mock, the fuzz suites, the pytest
plugin) works from a `Spec` and its `operations` table.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import _refs
from .errors import DanglingReferencesError, Problem, SpecError, SpecValidationError, UnknownOperationError

__all__ = ["BUNDLED_SPEC", "BUNDLED_WEBHOOKS", "Operation", "Spec", "Match"]

BUNDLED_SPEC = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"
# The companion description of the webhooks Xsolla sends to the game's server (OpenAPI 3.1 `webhooks`).
BUNDLED_WEBHOOKS = BUNDLED_SPEC.with_name("webhooks.yaml")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_CACHE_FORMAT = 1


def _cache_dir() -> Path | None:
    setting = os.environ.get("XSOLLA_CONTRACT_CACHE", "")
    if setting.lower() in ("0", "off", "no", "false"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xsolla-contract"


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with everything resolved."""

    operation_id: str
    method: str
    path: str
    tags: tuple[str, ...]
    summary: str
    parameters: tuple[Mapping[str, Any], ...]
    request_body: Mapping[str, Any] | None
    responses: Mapping[str, Mapping[str, Any]]
    security: tuple[Mapping[str, Any], ...] | None
    definition: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def tag(self) -> str:
        return self.tags[0] if self.tags else ""

    @property
    def request_schema(self) -> Mapping[str, Any] | None:
        if not self.request_body:
            return None
        content = self.request_body.get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema")

    @property
    def request_content_types(self) -> tuple[str, ...]:
        return tuple((self.request_body or {}).get("content", {}) or ())

    def response_schema(self, status: int | str) -> Mapping[str, Any] | None:
        response = self.responses.get(str(status)) or {}
        content = response.get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), {})
        return media.get("schema")

    @property
    def success_statuses(self) -> tuple[str, ...]:
        return tuple(s for s in self.responses if s.startswith("2"))

    @property
    def security_schemes(self) -> frozenset[str]:
        """Every scheme named by any of the operation's security alternatives."""
        return frozenset(name for req in self.security or () for name in req)

    @property
    def auth_optional(self) -> bool:
        """True when one alternative is the empty requirement (anonymous access)."""
        return self.security is not None and (len(self.security) == 0 or any(len(r) == 0 for r in self.security))

    def parameters_in(self, location: str) -> list[Mapping[str, Any]]:
        return [p for p in self.parameters if p.get("in") == location]

    @cached_property
    def header_names(self) -> tuple[str, ...]:
        """The header parameters' names, lower-cased (as requests' headers are read)."""
        return tuple(str(p.get("name", "")).lower() for p in self.parameters_in("header"))

    @cached_property
    def has_cookies(self) -> bool:
        return bool(self.parameters_in("cookie"))

    @property
    def links(self) -> dict[str, dict[str, Any]]:
        """Links by response status: {status: {link name: link object}}."""
        return {s: dict(r.get("links") or {}) for s, r in self.responses.items() if r.get("links")}

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method} {self.path})"


@dataclass(frozen=True)
class Match:
    operation: Operation
    path_params: dict[str, str]


class _Router:
    """Path template matching; literal segments win over parameters (`/cart/fill` over `/cart/{id}`)."""

    def __init__(self, operations: Iterable[Operation]):
        by_path: dict[str, dict[str, Operation]] = {}
        for op in operations:
            by_path.setdefault(op.path, {})[op.method] = op
        self._routes: dict[int, list[tuple[int, re.Pattern[str], str, dict[str, Operation]]]] = {}
        for template, methods in by_path.items():
            segments = template.strip("/").split("/")
            literal = sum(1 for s in segments if not s.startswith("{"))
            pattern = re.compile(
                "^/"
                + "/".join(
                    f"(?P<{s[1:-1]}>[^/]+)" if s.startswith("{") and s.endswith("}") else re.escape(s) for s in segments
                )
                + "$"
            )
            self._routes.setdefault(len(segments), []).append((literal, pattern, template, methods))
        for routes in self._routes.values():
            routes.sort(key=lambda r: -r[0])
        self.templates = list(by_path)
        self._seen: dict[str, tuple[str, dict[str, Operation], dict[str, str]] | None] = {}

    _SEEN = 4096  # paths whose match is remembered (a server sees the same paths again and again)

    def match_path(self, path: str) -> tuple[str, dict[str, Operation], dict[str, str]] | None:
        found = self._seen.get(path, _UNSEEN)
        if found is _UNSEEN:
            found = self._match(path)
            if len(self._seen) >= self._SEEN:
                self._seen.clear()
            self._seen[path] = found
        return None if found is None else (found[0], found[1], dict(found[2]))

    def forget(self) -> None:
        self._seen.clear()

    def _match(self, path: str) -> tuple[str, dict[str, Operation], dict[str, str]] | None:
        from urllib.parse import unquote

        segments = path.strip("/").split("/")
        for _literal, pattern, template, methods in self._routes.get(len(segments), ()):
            m = pattern.match("/" + "/".join(segments))
            if m:
                return template, methods, {k: unquote(v) for k, v in m.groupdict().items()}
        return None


_UNSEEN: Any = object()


class Spec:
    """A resolved, validated OpenAPI description and its operations table."""

    def __init__(self, document: Mapping[str, Any], *, source: str = "<dict>", warnings_: Iterable[str] = ()):
        self.document = document
        self.source = source
        self.warnings = list(warnings_)
        self.operations: dict[str, Operation] = dict(_operations(document, document.get("paths")))
        # OpenAPI 3.1 `webhooks`: requests the API's provider sends, by name (the name is their `path`)
        self.webhooks: dict[str, Operation] = {op.path: op for _, op in _operations(document, document.get("webhooks"))}
        self._router = _Router(self.operations.values())

    def forget(self) -> None:
        """Drop the remembered path matches (the mock's reset gives their memory back)."""
        self._router.forget()

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_path(
        cls, path: str | os.PathLike[str] | None = None, *, lenient: bool = False, cache: bool = True
    ) -> Spec:
        """Load, resolve and validate the description at `path` (default: the bundled one).

        By default a `$ref` that cannot be resolved is an error naming every such
        reference and where it is used. With `lenient=True` each of them accepts
        anything instead, and `Spec.warnings` lists them.
        """
        root = Path(path) if path is not None else BUNDLED_SPEC
        if not root.is_file():
            raise SpecError(str(root), [Problem(str(root), "no such file")])
        root = root.resolve()
        cache_dir = _cache_dir() if cache else None
        index_file = None
        if cache_dir is not None:
            index_file = cache_dir / f"index-{hashlib.sha256(f'{root}|{lenient}'.encode()).hexdigest()[:24]}.json"
            cached = _read_cache(index_file)
            if cached is not None:
                document, warns = cached
                return cls(document, source=str(root), warnings_=warns)
        document, files, warns = _resolve(root, lenient=lenient)
        if index_file is not None:
            _write_cache(index_file, files, document, warns)
        return cls(document, source=str(root), warnings_=warns)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, validate: bool = True, source: str = "<dict>") -> Spec:
        """Wrap an already resolved document (no `$ref`s across files)."""
        if validate:
            problems = validation_problems(document)
            if problems:
                raise SpecValidationError(source, problems)
        return cls(document, source=source)

    # --------------------------------------------------------------- operations

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise UnknownOperationError(
                operation_id, difflib.get_close_matches(operation_id, self.operations, n=3, cutoff=0.5)
            ) from None

    def find(self, method: str, path: str) -> Match | None:
        """The operation serving `method path` (a concrete path, without the server prefix)."""
        found = self._router.match_path(path)
        if not found:
            return None
        _template, methods, params = found
        op = methods.get(method.upper())
        return Match(op, params) if op else None

    def methods_for(self, path: str) -> list[str]:
        """The methods the spec allows on a concrete path (empty when no template matches)."""
        found = self._router.match_path(path)
        return sorted(found[1]) if found else []

    def nearest(self, method: str, path: str, n: int = 3) -> list[Operation]:
        """Operations whose path looks most like `path` (for 'did you mean' messages)."""
        pattern = re.sub(r"\{[^}]+\}", "{}", path)
        shapes = {re.sub(r"\{[^}]+\}", "{}", t): t for t in self._router.templates}
        concrete = re.sub(r"/\d+(?=/|$)", "/{}", path)
        close = difflib.get_close_matches(concrete, list(shapes), n=n, cutoff=0.0) or difflib.get_close_matches(
            pattern, list(shapes), n=n, cutoff=0.0
        )
        ops: list[Operation] = []
        for shape in close:
            template = shapes[shape]
            candidates = [o for o in self.operations.values() if o.path == template]
            candidates.sort(key=lambda o: o.method != method.upper())
            ops.extend(candidates[:1])
        return ops[:n]

    def by_tag(self) -> Counter[str]:
        return Counter(op.tag for op in self.operations.values())

    def by_security(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for op in self.operations.values():
            names = sorted(op.security_schemes)
            if not names:
                counts["(none)"] += 1
            for name in names:
                counts[name] += 1
        return counts

    @property
    def tag_groups(self) -> dict[str, list[str]]:
        return {g["name"]: list(g.get("tags", [])) for g in self.document.get("x-tagGroups", [])}

    @cached_property
    def openapi(self):  # -> openapi_core.OpenAPI
        """openapi-core as it comes, for this spec, built once (the spec is already validated).

        The validators use their own configured object (`_core.core_for`); this one is the
        baseline the benchmarks compare them with."""
        from openapi_core import Config, OpenAPI

        document = dict(self.document)
        document["servers"] = [{"url": "/"}]
        return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))

    def __repr__(self) -> str:
        return f"<Spec {self.source} operations={len(self.operations)}>"


# ---------------------------------------------------------------------- helpers


def _operations(document: Mapping[str, Any], items: Mapping[str, Any] | None) -> Iterable[tuple[str, Operation]]:
    """(operationId, Operation) for every operation of a map of path items (`paths` or `webhooks`)."""
    for path, item in (items or {}).items():
        shared = list(item.get("parameters") or [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            params = {(p.get("name"), p.get("in")): p for p in shared}
            params.update({(p.get("name"), p.get("in")): p for p in op.get("parameters") or []})
            security = op.get("security", document.get("security"))
            op_id = op.get("operationId") or f"{method.upper()} {path}"
            yield (
                op_id,
                Operation(
                    operation_id=op_id,
                    method=method.upper(),
                    path=path,
                    tags=tuple(op.get("tags") or ()),
                    summary=op.get("summary", ""),
                    parameters=tuple(params.values()),
                    request_body=op.get("requestBody"),
                    responses={str(k): v for k, v in (op.get("responses") or {}).items()},
                    security=None if security is None else tuple(security),
                    definition=op,
                ),
            )


def validation_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Every error openapi-spec-validator finds, each with the place it is at."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    version = str(document.get("openapi", ""))
    validator_cls = OpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator
    problems = []
    for error in validator_cls(document).iter_errors():
        where = " -> ".join(str(p) for p in error.absolute_path) or "(document root)"
        problems.append(Problem(where, error.message.strip().splitlines()[0]))
    return problems


def _hash_files(files: Iterable[Path]) -> dict[str, str]:
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(files)}


def _read_cache(index_file: Path) -> tuple[dict[str, Any], list[str]] | None:
    try:
        index = json.loads(index_file.read_text())
        if index.get("format") != _CACHE_FORMAT:
            return None
        for name, digest in index["files"].items():
            if hashlib.sha256(Path(name).read_bytes()).hexdigest() != digest:
                return None
        document = json.loads((index_file.parent / index["document"]).read_text())
        return document, list(index.get("warnings", []))
    except (OSError, ValueError, KeyError):
        return None


def _write_cache(index_file: Path, files: list[Path], document: Mapping[str, Any], warns: list[str]) -> None:
    try:
        index_file.parent.mkdir(parents=True, exist_ok=True)
        hashes = _hash_files(files)
        digest = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:24]
        blob = index_file.parent / f"resolved-{digest}.json"
        tmp = blob.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(document, separators=(",", ":")))
        os.replace(tmp, blob)
        index = {"format": _CACHE_FORMAT, "files": hashes, "document": blob.name, "warnings": warns}
        tmp = index_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index))
        os.replace(tmp, index_file)
    except OSError:
        pass  # a read-only home only costs speed


def _resolve(root: Path, *, lenient: bool) -> tuple[dict[str, Any], list[Path], list[str]]:
    """Cold path: check references, resolve with prance, validate. Returns (document, files, warnings)."""
    import prance
    from prance.util.url import ResolutionError

    try:
        scan = _refs.scan(root)
    except (ValueError, OSError) as exc:  # YAML/JSON syntax errors, unreadable files
        raise SpecError(str(root), [Problem(getattr(exc, "filename", None) or str(root), str(exc))]) from exc
    warns: list[str] = []
    target, tmpdir = root, None
    if scan.dangling:
        if not lenient:
            raise DanglingReferencesError(str(root), scan.dangling)
        warns = [f"unresolved reference accepted as anything: {d}" for d in scan.dangling]
        for w in warns:
            warnings.warn(w, stacklevel=3)
        tmpdir, target = _refs.neutralised_copy(scan)

    recursions: list[str] = []

    def on_recursion(limit, parsed_url, recursions_=()):
        recursions.append(parsed_url.geturl() if hasattr(parsed_url, "geturl") else str(parsed_url))
        return {"description": "Recursive schema, accepted as anything below this depth."}

    try:
        parser = prance.ResolvingParser(
            str(target),
            lazy=True,
            backend="openapi-spec-validator",
            strict=False,
            recursion_limit_handler=on_recursion,
        )
        try:
            parser.parse()
        except prance.ValidationError:
            resolved = parser.specification
            problems = validation_problems(resolved) if isinstance(resolved, Mapping) else []
            raise SpecValidationError(str(root), problems or [Problem(str(root), "not an OpenAPI document")]) from None
        except ResolutionError as exc:
            raise DanglingReferencesError(str(root), [Problem(str(root), str(exc))]) from exc
        document = json.loads(json.dumps(parser.specification))  # str keys, no shared nodes
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    warns += [f"recursive reference cut at depth 1: {r}" for r in sorted(set(recursions))]
    return document, scan.files, warns


def bundle_to(spec: Spec, out: str | os.PathLike[str]) -> Path:
    """Write the resolved description (every `$ref` replaced) as one JSON or YAML file.

    `toolkit.bundle.bundle()` gives the form with named components and internal references."""
    from .bundle import write_document

    return write_document(spec.document, out)
