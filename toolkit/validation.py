"""Validate HTTP requests and responses against the spec.

    validator = Validator(Spec.from_path())
    result = validator.validate(response)          # a requests/httpx response: both directions
    result.raise_for_violations()                  # ContractViolation (an AssertionError)

Accepted inputs: `requests.Response` / `requests.PreparedRequest`, `httpx.Response` /
`httpx.Request`, werkzeug/Flask request and response objects (and Flask test
client responses), plain dicts (`{"method", "url" or "path", "headers", "body"}` and
`{"status", "headers", "body"}`), and this module's `HttpRequest` / `HttpResponse`.

Every problem is a `Violation`: which operation, where (a parameter, or a JSON
pointer into the body), what was expected, what came, and a readable message. A
request that matches no operation, an undocumented status code or content type,
and a missing or malformed credential are violations too.

Semantics are openapi-core's: parameters are deserialized per their style and
schema, bodies and responses are checked by openapi-schema-validator's
`OAS30Validator`. The per-operation plans (parameter casts, compiled schemas) are
built once per `Validator`, which is what makes it fast enough to sit in a proxy
or a mock.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ._schema import SchemaCheck
from .spec import Operation, Spec

__all__ = [
    "ContractViolation",
    "HttpRequest",
    "HttpResponse",
    "ValidationResult",
    "Validator",
    "Violation",
    "as_request",
    "as_response",
]


# ----------------------------------------------------------------- data model


@dataclass
class HttpRequest:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes | None = None
    host: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Violation:
    """One way a request or response breaks the contract."""

    # no-operation | security | parameter | body | request-content-type | status | response-content-type | response-body
    kind: str
    where: str  # e.g. "query limit", "request body /items/0/sku", "response 200 body /has_more"
    expected: str
    actual: str
    message: str
    operation: str | None = None

    def __str__(self) -> str:
        op = f"[{self.operation}] " if self.operation else ""
        return f"{op}{self.where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind,
            "where": self.where,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


class ContractViolation(AssertionError):
    """Raised by the asserting helpers; pytest reports it as a test failure."""

    def __init__(self, title: str, violations: Iterable[Violation]):
        self.title = title
        self.violations = list(violations)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [self.title] + [f"  - {v}" for v in self.violations]
        return "\n".join(lines)


@dataclass
class ValidationResult:
    request: HttpRequest
    response: HttpResponse | None
    operation: Operation | None
    path_params: dict[str, Any] = field(default_factory=dict)
    query_params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def __bool__(self) -> bool:
        return self.ok

    @property
    def title(self) -> str:
        target = str(self.operation) if self.operation else f"{self.request.method} {self.request.path}"
        n = len(self.violations)
        return f"{target}: {n} contract violation{'s' if n != 1 else ''}"

    def raise_for_violations(self) -> ValidationResult:
        if self.violations:
            raise ContractViolation(self.title, self.violations)
        return self


# ------------------------------------------------------------------- adapters


def _lower(headers: Any) -> dict[str, str]:
    items = headers.items() if hasattr(headers, "items") else headers
    return {str(k).lower(): str(v) for k, v in items}


def _split_url(url: str) -> tuple[str, list[tuple[str, str]], str]:
    parts = urlsplit(url)
    return parts.path or "/", parse_qsl(parts.query, keep_blank_values=True), parts.netloc


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode()
    if hasattr(body, "read"):
        return body.read()
    return bytes(body)


def as_request(obj: Any) -> HttpRequest:
    """Convert a request object of a supported library (or a dict) into an `HttpRequest`."""
    if isinstance(obj, HttpRequest):
        return obj
    if isinstance(obj, Mapping):
        path, query, host = _split_url(obj.get("url") or obj.get("path") or "/")
        query += (
            list((obj.get("query") or {}).items())
            if isinstance(obj.get("query"), Mapping)
            else list(obj.get("query") or [])
        )
        return HttpRequest(
            str(obj.get("method", "GET")).upper(),
            path,
            query,
            _lower(obj.get("headers") or {}),
            _body_bytes(obj.get("body", obj.get("json"))),
            host,
        )
    module = type(obj).__module__.split(".")[0]
    if module == "requests":  # PreparedRequest
        path, query, host = _split_url(obj.url)
        return HttpRequest(obj.method.upper(), path, query, _lower(obj.headers), _body_bytes(obj.body), host)
    if module == "httpx":
        path, query, host = _split_url(str(obj.url))
        try:
            content = obj.content
        except Exception:  # noqa: BLE001 - a streaming request not read yet
            content = obj.read()
        return HttpRequest(obj.method.upper(), path, query, _lower(obj.headers), content or None, host)
    if hasattr(obj, "environ") and hasattr(obj, "get_data"):  # werkzeug / flask request
        return HttpRequest(
            obj.method.upper(),
            obj.path,
            list(obj.args.items(multi=True)),
            _lower(obj.headers),
            obj.get_data(cache=True) or None,
            obj.host,
        )
    raise TypeError(f"cannot read a request from {type(obj).__name__}")


def as_response(obj: Any) -> HttpResponse:
    """Convert a response object of a supported library (or a dict) into an `HttpResponse`."""
    if isinstance(obj, HttpResponse):
        return obj
    if isinstance(obj, Mapping):
        return HttpResponse(
            int(obj.get("status", obj.get("status_code", 200))),
            _lower(obj.get("headers") or {}),
            _body_bytes(obj.get("body", obj.get("json"))) or b"",
        )
    module = type(obj).__module__.split(".")[0]
    if module == "requests":
        return HttpResponse(obj.status_code, _lower(obj.headers), obj.content or b"")
    if module == "httpx":
        return HttpResponse(obj.status_code, _lower(obj.headers), obj.read() or b"")
    if hasattr(obj, "status_code") and hasattr(obj, "get_data"):  # werkzeug / flask response
        return HttpResponse(obj.status_code, _lower(obj.headers), obj.get_data() or b"")
    raise TypeError(f"cannot read a response from {type(obj).__name__}")


def _request_of(response: Any) -> Any:
    """The request a library response carries, when it carries one."""
    module = type(response).__module__.split(".")[0]
    if module in ("requests", "httpx"):
        return response.request
    req = getattr(response, "request", None)
    if req is not None and hasattr(req, "environ"):
        return req
    return None


# ----------------------------------------------------------------- the plans


def _cast(value: str, schema: Mapping[str, Any]) -> Any:
    """Deserialize a primitive parameter value the way openapi-core does (raises ValueError)."""
    kind = schema.get("type")
    if kind == "integer":
        if not value.lstrip("-").isdigit():
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise ValueError(f"{value!r} is not a boolean")
    return value


@dataclass
class _ParamPlan:
    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]
    check: SchemaCheck
    is_array: bool


@dataclass
class _Plan:
    params: list[_ParamPlan]
    body_required: bool
    body_types: tuple[str, ...]
    body_check: SchemaCheck | None
    responses: dict[str, tuple[Mapping[str, Any], dict[str, SchemaCheck | None]]]


class Validator:
    """Validates exchanges against one spec; build one per spec and reuse it."""

    def __init__(self, spec: Spec, *, base_paths: Iterable[str] | None = None):
        self.spec = spec
        if base_paths is None:
            base_paths = {urlsplit(s.get("url", "")).path.rstrip("/") for s in spec.document.get("servers", [])}
        self.base_paths = sorted({b for b in base_paths if b and b != "/"}, key=len, reverse=True)
        self.schemes = (spec.document.get("components") or {}).get("securitySchemes") or {}
        self._plans: dict[str, _Plan] = {}

    # -- public ---------------------------------------------------------------

    def validate_request(self, request: Any) -> ValidationResult:
        req = as_request(request)
        result = ValidationResult(req, None, None)
        path = self.strip_base(req.path)
        match = self.spec.find(req.method, path)
        if match is None:
            allowed = self.spec.methods_for(path)
            if allowed:
                msg = f"{req.method} is not allowed on {path}; allowed: {', '.join(allowed)}"
            else:
                near = ", ".join(str(o) for o in self.spec.nearest(req.method, path))
                msg = f"no operation matches {req.method} {path}" + (f"; nearest: {near}" if near else "")
            result.violations.append(
                Violation("no-operation", f"{req.method} {path}", "a documented operation", f"{req.method} {path}", msg)
            )
            return result
        op = result.operation = match.operation
        plan = self._plan(op)
        out = result.violations
        out.extend(self._check_security(op, req))
        self._check_params(op, plan, req, match.path_params, result)
        self._check_body(op, plan, req, result)
        return result

    def validate_response(self, request: Any, response: Any | None = None) -> ValidationResult:
        """Validate a response (and the request it answers). With one argument, the
        request is taken from the response object (requests/httpx/Flask test client)."""
        if response is None:
            response, request = request, _request_of(request)
            if request is None:
                raise TypeError("this response does not carry its request; pass both")
        result = self.validate_request(request)
        resp = result.response = as_response(response)
        if result.operation is not None:
            result.violations.extend(self.response_violations(result.operation, resp))
        return result

    validate = validate_response

    def assert_valid(self, request: Any, response: Any | None = None) -> ValidationResult:
        return self.validate_response(request, response).raise_for_violations()

    def strip_base(self, path: str) -> str:
        for base in self.base_paths:
            if path == base or path.startswith(base + "/"):
                return path[len(base) :] or "/"
        return path

    def response_violations(self, op: Operation, resp: HttpResponse) -> list[Violation]:
        plan = self._plan(op)
        status = str(resp.status)
        entry = plan.responses.get(status) or plan.responses.get(f"{status[0]}XX") or plan.responses.get("default")
        name = op.operation_id
        if entry is None:
            documented = ", ".join(sorted(plan.responses))
            return [
                Violation(
                    "status",
                    f"response {status}",
                    f"one of {documented}",
                    status,
                    f"status {status} is not documented (documented: {documented})",
                    name,
                )
            ]
        definition, media = entry
        if not media:
            if resp.body.strip():
                return [
                    Violation(
                        "response-body",
                        f"response {status} body",
                        "no content",
                        f"{len(resp.body)} bytes",
                        f"status {status} is documented without a body",
                        name,
                    )
                ]
            return []
        ctype = resp.content_type
        if ctype not in media:
            if not resp.body and ctype == "":
                return [
                    Violation(
                        "response-body",
                        f"response {status} body",
                        "a body",
                        "empty body",
                        f"status {status} must have a {'/'.join(media)} body",
                        name,
                    )
                ]
            return [
                Violation(
                    "response-content-type",
                    f"response {status} content-type",
                    " or ".join(media),
                    ctype or "(none)",
                    f"content type {ctype or '(none)'} is not documented for {status}",
                    name,
                )
            ]
        check = media[ctype]
        if check is None:
            return []
        if not (ctype == "application/json" or ctype.endswith("+json")):
            text = resp.body.decode("utf-8", errors="replace")
            return [
                Violation("response-body", f"response {status} body", "matches the schema", _short(text), msg, name)
                for _ptr, msg in check.errors(text)
            ]
        try:
            data = resp.json()
        except ValueError as exc:
            return [
                Violation(
                    "response-body",
                    f"response {status} body",
                    "JSON",
                    resp.body[:60].decode(errors="replace"),
                    f"body is not valid JSON: {exc}",
                    name,
                )
            ]
        return [
            Violation(
                "response-body",
                f"response {status} body {ptr or '/'}",
                "matches the schema",
                _short(_at(data, ptr)),
                msg,
                name,
            )
            for ptr, msg in check.errors(data)
        ]

    # -- plans ----------------------------------------------------------------

    def _plan(self, op: Operation) -> _Plan:
        plan = self._plans.get(op.operation_id)
        if plan is not None:
            return plan
        params = []
        for p in op.parameters:
            schema = p.get("schema") or {}
            params.append(
                _ParamPlan(
                    p["name"],
                    p["in"],
                    bool(p.get("required")) or p["in"] == "path",
                    schema,
                    SchemaCheck(schema),
                    schema.get("type") == "array",
                )
            )
        body = op.request_body or {}
        content = body.get("content") or {}
        body_schema = (content.get("application/json") or {}).get("schema")
        responses = {}
        for status, resp in op.responses.items():
            media = {
                ct.lower(): (SchemaCheck(m["schema"]) if m.get("schema") else None)
                for ct, m in (resp.get("content") or {}).items()
            }
            responses[status] = (resp, media)
        plan = _Plan(
            params,
            bool(body.get("required")),
            tuple(c.lower() for c in content),
            SchemaCheck(body_schema) if body_schema else None,
            responses,
        )
        self._plans[op.operation_id] = plan
        return plan

    def _check_security(self, op: Operation, req: HttpRequest) -> list[Violation]:
        if not op.security:  # None or [] : nothing required
            return []
        reasons = []
        for requirement in op.security:
            missing = [self._credential_problem(name, req) for name in requirement]
            missing = [m for m in missing if m]
            if not missing:
                return []
            reasons.append(" and ".join(missing))
        wanted = " or ".join("+".join(r) or "(anonymous)" for r in op.security)
        return [
            Violation(
                "security",
                "request credentials",
                wanted,
                "; ".join(reasons),
                f"no valid credentials for {wanted}: {'; '.join(reasons)}",
                op.operation_id,
            )
        ]

    def _credential_problem(self, name: str, req: HttpRequest) -> str | None:
        scheme = self.schemes.get(name, {})
        kind = scheme.get("type")
        if kind == "http":
            auth = req.headers.get("authorization", "")
            want = scheme.get("scheme", "").lower()
            prefix, _, value = auth.partition(" ")
            if not auth:
                return f"{name}: no Authorization header"
            if prefix.lower() != want or not value.strip():
                return f"{name}: Authorization is not a {want.title()} credential"
            if want == "basic":
                try:
                    decoded = base64.b64decode(value.strip(), validate=True).decode()
                except (binascii.Error, UnicodeDecodeError):
                    return f"{name}: Basic credential is not base64"
                if ":" not in decoded:
                    return f"{name}: Basic credential is not id:key"
            return None
        if kind == "apiKey":
            where = scheme.get("in")
            key = scheme.get("name", "")
            if where == "header" and not req.headers.get(key.lower()):
                return f"{name}: no {key} header"
            if where == "query" and key not in dict(req.query):
                return f"{name}: no {key} query parameter"
            return None
        return None

    def _check_params(
        self, op: Operation, plan: _Plan, req: HttpRequest, path_params: Mapping[str, str], result: ValidationResult
    ) -> None:
        query: dict[str, list[str]] = {}
        for k, v in req.query:
            query.setdefault(k, []).append(v)
        for p in plan.params:
            where = f"{p.location} {p.name}"
            if p.location == "path":
                raw: list[str] | None = [path_params[p.name]] if p.name in path_params else None
            elif p.location == "query":
                raw = query.get(p.name)
            elif p.location == "header":
                raw = [req.headers[p.name.lower()]] if p.name.lower() in req.headers else None
            else:
                continue
            if raw is None:
                if p.required:
                    result.violations.append(
                        Violation(
                            "parameter",
                            where,
                            "a value",
                            "(missing)",
                            f"required {p.location} parameter {p.name!r} is missing",
                            op.operation_id,
                        )
                    )
                continue
            try:
                if p.is_array:
                    values = raw if len(raw) > 1 or "," not in raw[0] else raw[0].split(",")
                    value: Any = [_cast(v, p.schema.get("items") or {}) for v in values]
                else:
                    value = _cast(raw[-1], p.schema)
            except ValueError as exc:
                result.violations.append(
                    Violation(
                        "parameter", where, str(p.schema.get("type")), raw[-1], f"{p.name}: {exc}", op.operation_id
                    )
                )
                continue
            for ptr, msg in p.check.errors(value):
                result.violations.append(
                    Violation(
                        "parameter",
                        where + ptr,
                        "matches the schema",
                        _short(value),
                        f"{p.name}: {msg}",
                        op.operation_id,
                    )
                )
            (result.path_params if p.location == "path" else result.query_params)[p.name] = value

    def _check_body(self, op: Operation, plan: _Plan, req: HttpRequest, result: ValidationResult) -> None:
        has_body = bool(req.body and req.body.strip())
        if not plan.body_types:
            return  # bodies of operations without a requestBody are ignored, as openapi-core does
        if not has_body:
            if plan.body_required:
                result.violations.append(
                    Violation(
                        "body",
                        "request body",
                        "a JSON body",
                        "(empty)",
                        "the request body is required",
                        op.operation_id,
                    )
                )
            return
        ctype = req.content_type
        if ctype not in plan.body_types:
            result.violations.append(
                Violation(
                    "request-content-type",
                    "request content-type",
                    " or ".join(plan.body_types),
                    ctype or "(none)",
                    f"content type {ctype or '(none)'} is not accepted",
                    op.operation_id,
                )
            )
            return
        if plan.body_check is None:
            return
        try:
            data = req.json()
        except ValueError as exc:
            result.violations.append(
                Violation(
                    "body",
                    "request body",
                    "JSON",
                    req.body[:60].decode(errors="replace"),
                    f"the request body is not valid JSON: {exc}",
                    op.operation_id,
                )
            )
            return
        result.body = data
        for ptr, msg in plan.body_check.errors(data):
            result.violations.append(
                Violation(
                    "body",
                    f"request body {ptr or '/'}",
                    "matches the schema",
                    _short(_at(data, ptr)),
                    msg,
                    op.operation_id,
                )
            )


def _at(data: Any, pointer: str) -> Any:
    node = data
    for part in pointer.strip("/").split("/") if pointer else []:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
    return node


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
