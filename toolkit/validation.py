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

The checking is openapi-core's: one `OpenAPI` object per spec (`_core.core_for`)
finds the operation, deserializes and casts parameters per their style, checks
security, media types, bodies, statuses and headers; this module turns its errors
into `Violation`s. `_core` configures that object through openapi-core's extension
points so that it is fast enough to sit in a proxy or a mock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema_path import SchemaPath
from openapi_core.datatypes import Parameters, RequestParameters
from openapi_core.deserializing.exceptions import DeserializeError
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import HeaderValidationError, MissingData
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

from . import strict_json
from ._core import compile_schema, core_for, security_providers
from ._json import copy_value as _copy_value
from ._json import media_loads
from ._lru import Lru
from .spec import Operation, Spec

__all__ = [
    "UNREADABLE_BODY",
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

UNREADABLE_BODY = "a body readable as its content type"
JSON_TYPE = "application/json"  # `Violation.expected` of a body that cannot be parsed


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


# ------------------------------------------------------------ openapi-core


class _CoreRequest:
    """An `HttpRequest` as openapi-core reads requests (its `Request` protocol)."""

    host_url = "http://contract.local"

    check_security = True  # False: the caller authenticates (the mock's engine)

    def __init__(self, method: str, path: str, req: HttpRequest | None):
        self.method = method.lower()
        self.path = path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(req.query if req else []),
            header=Headers(list(req.headers.items()) if req else []),
            cookie=ImmutableMultiDict(_cookies(req.headers.get("cookie", "")) if req else []),
        )
        self.content_type = req.headers.get("content-type", "") if req else ""  # a boundary keeps its case
        self.body = req.body if req else None


class _CoreResponse:
    """An `HttpResponse` as openapi-core reads responses."""

    def __init__(self, resp: HttpResponse):
        self.status_code = resp.status
        self.data = resp.body
        self.content_type = resp.headers.get("content-type", "")
        self.headers = Headers(list(resp.headers.items()))


def _cookies(header: str) -> list[tuple[str, str]]:
    pairs = (part.strip().partition("=") for part in header.split(";") if "=" in part)
    return [(name, value) for name, _, value in pairs]


def _schema_errors(exc: BaseException | None) -> list[Any] | None:
    """The jsonschema errors behind an openapi-core error, when a schema rejected the value."""
    while exc is not None:
        if isinstance(exc, InvalidSchemaValue):
            return sorted(exc.schema_errors, key=lambda e: [str(p) for p in e.absolute_path])
        exc = exc.__cause__
    return None


def _pointer(error: Any) -> str:
    return "/" + "/".join(str(p) for p in error.absolute_path) if error.absolute_path else ""


def _message(error: Any) -> str:
    """jsonschema's message; for oneOf/anyOf, that of the branch that came closest. A long value
    is shortened where the message quotes it (a 1 MB string makes no readable message)."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        head = _shortened(error.message, error.instance).split(" is not valid")[0]
        return f"{head} matches no variant; closest: {_shortened(deepest.message, deepest.instance)}"
    return _shortened(error.message, error.instance)


def _shortened(message: str, instance: Any, limit: int = 80) -> str:
    if len(message) <= 2 * limit:
        return message
    quoted = repr(instance)
    if len(quoted) > limit and quoted in message:
        return message.replace(
            quoted, quoted[: limit - 5] + "...'" if isinstance(instance, str) else quoted[:limit] + "..."
        )
    return message if len(message) <= 1000 else message[:997] + "..."


def _cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


class Validator:
    """Validates exchanges against one spec with openapi-core; build one per spec and reuse it."""

    def __init__(self, spec: Spec, *, base_paths: Iterable[str] | None = None, verdicts: int = 512):
        """`verdicts`: how many verdicts on responses are remembered by content (0: none)."""
        self.spec = spec
        if base_paths is None:
            base_paths = {urlsplit(s.get("url", "")).path.rstrip("/") for s in spec.document.get("servers", [])}
        self.base_paths = sorted({b for b in base_paths if b and b != "/"}, key=len, reverse=True)
        self.schemes = (spec.document.get("components") or {}).get("securitySchemes") or {}
        self.core = core_for(spec)
        # verdicts by content, within 8 MB of bodies; accepted requests within 4 MB (a body and its parsed copy)
        self.verdicts = Lru(verdicts, 8 * 1024 * 1024, lambda key, _: len(key[-1]))
        self.accepted = Lru(4096, 4 * 1024 * 1024, lambda key, _: 256 + 3 * len(key[-1] or b""))
        self._compiled: dict[tuple[str, str, str], Any] = {}  # (operation, status or request, content type) -> check

    # -- public ---------------------------------------------------------------

    def validate_request(self, request: Any, *, security: bool = True) -> ValidationResult:
        """Validate a request. `security=False` leaves its credentials to the caller (which then
        authenticates it itself): parameters and body are checked whatever the credentials.

        Without credentials to check, the verdict is a function of the operation and what of the
        request it reads (path, query, declared headers and cookies, content type, body): a request
        identical in those to one accepted a moment ago is accepted again (`accepted`, bounded),
        with values of its own."""
        req = as_request(request)
        path = self.strip_base(req.path)
        match = self.spec.find(req.method, path)
        key = None if security or match is None else _accepted_key(match, req)
        if key is not None:
            found = self.accepted.get(key)
            if found is not None:
                path_params, query_params, body = found
                return ValidationResult(
                    req, None, match.operation, dict(path_params), _copy_value(query_params), _copy_value(body)
                )
            quick = self._quick_body(match.operation, req, key)
            if quick is not None:
                return quick
        result = self._validate_request(req, path, match, security)
        if key is not None and not result.violations:
            accepted = (result.path_params, _copy_value(result.query_params), _copy_value(result.body))
            self.accepted.put(key, accepted)
            if req.body:  # the same parameters with another body: see _quick_body
                self.accepted.put((*key[:-1], _PARAMETERS_ONLY), (*accepted[:2], None))
        return result

    def _quick_body(self, op: Operation, req: HttpRequest, key: tuple[Any, ...]) -> ValidationResult | None:
        """A quick yes for a new JSON body with parameters accepted before: the body read strictly
        and accepted by the compiled check of the operation's schema for its content type, which is
        documented as it is (openapi-core would find nothing either). None: check it in full."""
        if not req.body:
            return None
        params = self.accepted.get((*key[:-1], _PARAMETERS_ONLY))
        if params is None:
            return None
        ctype = req.headers.get("content-type", "")
        if not (ctype == JSON_TYPE or ctype.endswith("+json")):
            return None
        check = self._compiled_check(op, "request", (op.request_body or {}).get("content"), ctype)
        if check is None:
            return None
        body, refused = _strict_json_body(op, req)
        if refused is not None or body is _NOT_READ or not check.is_valid(body):
            return None
        return ValidationResult(req, None, op, dict(params[0]), _copy_value(params[1]), body)

    def _validate_request(self, req: HttpRequest, path: str, match: Any, security: bool) -> ValidationResult:
        result = ValidationResult(req, None, None)
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
        core_request = _CoreRequest(req.method, path, req)
        core_request.check_security = security
        body, refused = _strict_json_body(op, req)
        if refused is not None:  # openapi-core checks the rest of the request, not a body it would misread
            core_request.body = None
            result.violations.append(refused)
        try:
            for error in self.core.request_validator.iter_errors(core_request):
                if refused is None or not isinstance(error, MissingRequiredRequestBody):
                    result.violations.extend(self._request_violations(op, req, match.path_params, error))
        except _UNREADABLE as exc:  # openapi-core's form parsers assert or fail to decode on broken bodies
            result.violations.append(_unreadable_body(op, req.content_type, req.body, exc))
        validated = getattr(core_request.parameters, "validated", None)
        result.path_params = dict(match.path_params)
        if isinstance(validated, Parameters):
            result.path_params.update(validated.path)
            result.query_params = dict(validated.query)
        body_ok = not any(v.kind in ("body", "request-content-type") for v in result.violations)
        if req.body and op.request_body and body_ok:
            try:
                result.body = req.json() if body is _NOT_READ else body
            except ValueError:
                result.body = None
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

    def forget(self) -> None:
        """Drop what validation remembers to go faster (accepted parameter sets)."""
        forget = getattr(self.core.request_validator, "forget", None)
        if forget is not None:
            forget()
        self.verdicts.clear()
        self.accepted.clear()

    def strip_base(self, path: str) -> str:
        for base in self.base_paths:
            if path == base or path.startswith(base + "/"):
                return path[len(base) :] or "/"
        return path

    def response_violations(self, op: Operation, resp: HttpResponse) -> list[Violation]:
        """What is wrong with a response to `op` (the operation the request matched).

        The verdict is a function of the operation, the status, the headers the spec describes
        and the body: an answer identical to one checked a moment ago gets that answer's verdict
        again (`verdicts`, bounded; a mock serving the same page to many clients checks it once)."""
        key = self._verdict_key(op, resp)
        if key is not None:
            found = self.verdicts.get(key)
            if found is not None:
                return list(found)
        out = self._check_response(op, resp)
        if key is not None:
            self.verdicts.put(key, tuple(out))
        return out

    def _verdict_key(self, op: Operation, resp: HttpResponse) -> tuple[Any, ...] | None:
        documented = op.responses.get(str(resp.status)) or {}
        if documented.get("headers") or not isinstance(resp.body, bytes):  # headers the spec checks: always check
            return None
        return op.operation_id, resp.status, resp.headers.get("content-type", ""), resp.body

    def _conforms(self, op: Operation, resp: HttpResponse) -> bool:
        """A quick yes: the answer's status and content type are documented as they are, with no
        headers to check, and the compiled check of the schema (`_core`) accepts the body. Then
        openapi-core would find nothing either; any other answer gets its full check."""
        status = str(resp.status)
        documented = op.responses.get(status)
        if documented is None or documented.get("headers") or not isinstance(resp.body, bytes):
            return False
        if not documented.get("content"):
            return not resp.body.strip()  # documented without a body, and none came
        check = self._compiled_check(op, status, documented["content"], resp.headers.get("content-type", ""))
        if check is None:
            return False
        try:
            return check.is_valid(media_loads(resp.body))
        except ValueError:
            return False

    def _compiled_check(self, op: Operation, where: str, content: Any, ctype: str) -> Any:
        """The compiled check of the schema documented for `ctype` in `content` (the request's or a
        status's), built once; None when that content type is not documented as it is or the schema
        has no compiled check."""
        key = (op.operation_id, where, ctype)
        if key in self._compiled:
            return self._compiled[key]
        media = (content or {}).get(ctype)
        if not isinstance(media, Mapping):
            return None  # not kept: content types nobody documented are not remembered
        schema = media.get("schema")
        check = self._compiled[key] = compile_schema(schema) if schema is not None else None
        return check

    def _check_response(self, op: Operation, resp: HttpResponse) -> list[Violation]:
        if self._conforms(op, resp):
            return []
        status = str(resp.status)
        where = f"response {status}"
        out: list[Violation] = []
        core_request = _CoreRequest(op.method, op.path, None)  # the router maps the template to `op`
        for error in self.core.response_validator.iter_errors(core_request, _CoreResponse(resp)):
            out.extend(self._response_violations(op, resp, error))
        if not out:
            documented = op.responses.get(status) or op.responses.get(f"{status[0]}XX") or op.responses.get("default")
            if documented is not None and not documented.get("content") and resp.body.strip():
                out.append(
                    Violation(
                        "response-body",
                        f"{where} body",
                        "no content",
                        f"{len(resp.body)} bytes",
                        f"status {status} is documented without a body",
                        op.operation_id,
                    )
                )
        return out

    # -- openapi-core errors as violations -------------------------------------

    def _request_violations(
        self, op: Operation, req: HttpRequest, path_params: Mapping[str, str], error: Exception
    ) -> list[Violation]:
        name = op.operation_id
        if isinstance(error, SecurityValidationError):
            wanted = " or ".join("+".join(r) or "(anonymous)" for r in op.security or ())
            reasons = "; ".join(self._credential_problems(op, req)) or str(_cause(error))
            return [
                Violation(
                    "security",
                    "request credentials",
                    wanted,
                    reasons,
                    f"no valid credentials for {wanted}: {reasons}",
                    name,
                )
            ]
        if isinstance(error, MissingRequiredParameter):
            return [
                Violation(
                    "parameter",
                    f"{error.location} {error.name}",
                    "a value",
                    "(missing)",
                    f"required {error.location} parameter {error.name!r} is missing",
                    name,
                )
            ]
        if isinstance(error, ParameterValidationError):
            where = f"{error.location} {error.name}"
            errors = _schema_errors(error)
            raw = _raw_parameter(req, path_params, error.location, error.name)
            if errors is None:
                cause = _cause(error)
                actual = raw if isinstance(raw, str) else _short(raw)
                return [Violation("parameter", where, "a valid value", actual, f"{error.name}: {cause}", name)]
            return [
                Violation(
                    "parameter",
                    where + _pointer(e),
                    "matches the schema",
                    _short(e.instance),
                    f"{error.name}: {_message(e)}",
                    name,
                )
                for e in errors
            ]
        if isinstance(error, MissingRequiredRequestBody):
            return [Violation("body", "request body", "a JSON body", "(empty)", "the request body is required", name)]
        cause = _cause(error)
        if isinstance(cause, MediaTypeNotFound):
            ctype = req.content_type or "(none)"
            accepted = " or ".join(cause.availableMimetypes)
            return [
                Violation(
                    "request-content-type",
                    "request content-type",
                    accepted,
                    ctype,
                    f"content type {ctype} is not accepted (accepted: {accepted})",
                    name,
                )
            ]
        if isinstance(cause, DeserializeError):
            return [_unreadable_body(op, req.content_type, req.body, cause.__cause__ or cause)]
        errors = _schema_errors(error)
        if errors is not None:
            return [
                Violation(
                    "body",
                    f"request body {_pointer(e) or '/'}",
                    "matches the schema",
                    _short(e.instance),
                    _message(e),
                    name,
                )
                for e in errors
            ]
        return [Violation("body", "request", "a valid request", type(cause).__name__, str(cause), name)]

    def _response_violations(self, op: Operation, resp: HttpResponse, error: Exception) -> list[Violation]:
        name, status = op.operation_id, str(resp.status)
        where = f"response {status}"
        if isinstance(error, ResponseNotFound):
            documented = ", ".join(sorted(op.responses))
            return [
                Violation(
                    "status",
                    where,
                    f"one of {documented}",
                    status,
                    f"status {status} is not documented (documented: {documented})",
                    name,
                )
            ]
        if isinstance(error, MissingData):
            return [
                Violation(
                    "response-body", f"{where} body", "a body", "empty body", f"status {status} must have a body", name
                )
            ]
        if isinstance(error, HeaderValidationError):
            header = f"{where} header {error.name}"
            return [Violation("response-header", header, "a valid header", "", _describe(error), name)]
        cause = _cause(error)
        if isinstance(cause, MediaTypeNotFound):
            ctype = resp.content_type or "(none)"
            return [
                Violation(
                    "response-content-type",
                    f"{where} content-type",
                    " or ".join(cause.availableMimetypes),
                    ctype,
                    f"content type {ctype} is not documented for {status}",
                    name,
                )
            ]
        if isinstance(cause, DeserializeError):
            detail = _describe(cause.__cause__ or cause)
            sample = resp.body[:60].decode(errors="replace")
            return [
                Violation(
                    "response-body",
                    f"{where} body",
                    f"a readable {resp.content_type} body",
                    sample,
                    f"body is not valid {resp.content_type}: {detail}",
                    name,
                )
            ]
        errors = _schema_errors(error)
        if errors is not None:
            return [
                Violation(
                    "response-body",
                    f"{where} body {_pointer(e) or '/'}",
                    "matches the schema",
                    _short(e.instance),
                    _message(e),
                    name,
                )
                for e in errors
            ]
        return [Violation("response-body", where, "a valid response", type(cause).__name__, str(cause), name)]

    def _credential_problems(self, op: Operation, req: HttpRequest) -> list[str]:
        """Why each security alternative failed, in openapi-core's providers' words."""
        parameters = _CoreRequest(req.method, req.path, req).parameters
        problems = []
        for requirement in op.security or ():
            for scheme_name in requirement:
                scheme = self.schemes.get(scheme_name)
                if scheme is None:
                    continue
                try:
                    security_providers.create(SchemaPath.from_dict(scheme))(parameters)
                except SecurityProviderError as exc:
                    problems.append(f"{scheme_name}: {exc}")
        return problems


_NOT_READ = object()
_PARAMETERS_ONLY = ("parameters only",)  # in place of the body: a verdict on the parameters alone
_ACCEPTED_BODY_BYTES = 8 * 1024  # larger bodies are always checked (and never kept)


def _accepted_key(match: Any, req: HttpRequest) -> tuple[Any, ...] | None:
    """What a request's verdict depends on when its credentials are not checked (None: no key)."""
    if req.body is not None and len(req.body) > _ACCEPTED_BODY_BYTES:
        return None
    op = match.operation
    headers = req.headers
    declared = op.header_names
    return (
        op.operation_id,
        tuple(match.path_params.items()),
        tuple(req.query),
        tuple(headers.get(name) for name in declared) if declared else (),
        headers.get("cookie") if op.has_cookies else None,
        headers.get("content-type"),
        req.body,
    )


def _strict_json_body(op: Operation, req: HttpRequest) -> tuple[Any, Violation | None]:
    """A JSON request body read strictly (`strict_json`): NaN, Infinity, numbers out of range,
    unpaired surrogates and deep nesting are violations, not values. (_NOT_READ, None) when the
    body is not JSON the operation takes."""
    ctype = req.content_type
    if not req.body or not (ctype == JSON_TYPE or ctype.endswith("+json")) or ctype not in op.request_content_types:
        return _NOT_READ, None
    try:
        return strict_json.loads(req.body), None
    except strict_json.JsonRefused as exc:
        if exc.malformed:
            sample = req.body[:60].decode(errors="replace")
            message = f"the request body is not valid {ctype}: {exc}"
            return _NOT_READ, Violation("body", "request body", UNREADABLE_BODY, sample, message, op.operation_id)
        where = f"request body {exc.pointer or '/'}"
        return _NOT_READ, Violation("body", where, "a value the API can hold", "", str(exc), op.operation_id)


# What openapi-core's body parsers raise, besides its own errors, on bodies they cannot read.
_UNREADABLE = (AssertionError, UnicodeError, ValueError, LookupError)


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - some error messages fail to format on the bytes they carry
        return type(exc).__name__


def _unreadable_body(op: Operation, ctype: str, body: bytes | None, exc: BaseException) -> Violation:
    """A body that cannot be parsed as its content type: the API answers 400 to it."""
    sample = (body or b"")[:60].decode(errors="replace")
    return Violation(
        "body",
        "request body",
        UNREADABLE_BODY,
        sample,
        f"the request body is not valid {ctype or 'content'}: {_describe(exc)}",
        op.operation_id,
    )


def _raw_parameter(req: HttpRequest, path_params: Mapping[str, str], location: str, name: str) -> Any:
    if location == "query":
        values = [v for k, v in req.query if k == name]
        return values[-1] if len(values) == 1 else values or None
    if location == "header":
        return req.headers.get(name.lower())
    return path_params.get(name)


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
