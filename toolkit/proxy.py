"""A validating reverse proxy in front of the real service or the mock.

Requests are forwarded unchanged (minus hop-by-hop headers); both directions are
validated and the violations recorded per operation. `GET /__proxy__/report`
summarises them. With `strict`, a request that breaks the contract is answered
with the API's 422 (or 404 when it matches no operation) instead of being
forwarded. An unreachable upstream is a 502 in the API's error format.

Only paths below the upstream's base URL are forwarded: the path is normalised first
(dot segments removed, percent-encoded ones too) and refused when it climbs above the
root or names a tool's control endpoints (`/__...`); what is forwarded is re-encoded, so
the upstream reads the same path. The proxy answers to the same exposure rules as the
mock (`exposure.py`: Host, CORS, control endpoints, size limit; CONNECT is refused). The
HAR file it writes has credentials redacted unless `keep_secrets` (see `har.redact`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from .errors import api_error
from .exposure import Exposure, ExposurePolicy
from .har import har_entry, redact, write_har
from .validation import HttpRequest, HttpResponse, Validator, as_request

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-encoding",
    "host",
}


CONTROL_PREFIX = "/__proxy__"
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"  # RFC 3986 pchar besides unreserved letters and digits


def _error(status: int, code: int, message: str, extended: Any = None) -> HttpResponse:
    body = api_error(status, code, message, extended)
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())


def _fully_decoded(segment: str) -> str:
    for _ in range(5):  # %252e -> %2e -> .
        decoded = unquote(segment)
        if decoded == segment:
            break
        segment = decoded
    return segment


def forwarded_path(path: str) -> str | None:
    """`path` normalised and percent-encoded for the upstream, or None when it may not be forwarded:
    it climbs above the root (`..`, also percent-encoded), hides a separator or NUL in a segment,
    or names a tool's control endpoints (`/__mock__`, `/__proxy__`)."""
    kept: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        plain = _fully_decoded(segment)
        if any(c in plain for c in "/\\\x00"):
            return None
        if plain == "..":
            if not kept:
                return None
            kept.pop()
        elif plain != ".":
            kept.append(segment)
        elif index == len(segments) - 1:
            kept.append("")  # `/a/.` is `/a/`
    if kept and _fully_decoded(kept[0]).startswith("__"):
        return None
    return "/" + "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in kept)


class ValidatingProxy:
    """WSGI app: forwards to `upstream`, validates both directions, keeps a report."""

    def __init__(
        self,
        validator: Validator,
        upstream: str,
        *,
        strict: bool = False,
        har_path: str | None = None,
        timeout: float = 30.0,
        keep_secrets: bool = False,
        policy: ExposurePolicy | None = None,
    ):
        import requests

        self.validator = validator
        self.upstream = upstream.rstrip("/")
        self.strict = strict
        self.har_path = har_path
        self.keep_secrets = keep_secrets
        self.timeout = timeout
        self.policy = policy or ExposurePolicy(control_prefixes=(CONTROL_PREFIX,))
        if CONTROL_PREFIX not in self.policy.control_prefixes:
            raise ValueError(f"the proxy's policy must treat {CONTROL_PREFIX} as control endpoints")
        self._exposed = Exposure(self._serve, self.policy)
        self.session = requests.Session()
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._last_write = 0.0
        self.exchanges: Counter[str] = Counter()
        self.request_violations: dict[str, Counter[str]] = defaultdict(Counter)
        self.response_violations: dict[str, Counter[str]] = defaultdict(Counter)
        self.unmatched: Counter[str] = Counter()
        self.rejected = 0
        self.upstream_errors = 0

    # ----------------------------------------------------------------- WSGI
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._exposed(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from werkzeug.wrappers import Request

        req = Request(environ)
        if req.path == CONTROL_PREFIX + "/report":
            response = HttpResponse(200, {"content-type": "application/json"}, json.dumps(self.report()).encode())
        else:
            request = as_request(req)
            response = self.exchange(request)
        start_response(
            f"{response.status} {_REASONS.get(response.status, '')}".strip(),
            [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
            + [("Content-Length", str(len(response.body)))],
        )
        return [response.body]

    def exchange(self, request: HttpRequest) -> HttpResponse:
        started, clock = datetime.now(UTC), time.perf_counter()
        checked = self.validator.validate_request(request)
        op = checked.operation.operation_id if checked.operation else None
        problems = [v for v in checked.violations if v.kind != "security"]
        with self._lock:
            if op is None:
                self.unmatched[f"{request.method} {request.path}"] += 1
            else:
                self.exchanges[op] += 1
                for v in checked.violations:
                    self.request_violations[op][f"{v.where}: {v.message}"] += 1
        if self.strict and (op is None or problems):
            with self._lock:
                self.rejected += 1
            if op is None:
                response = _error(404, 0, f"[0401-0000]: {checked.violations[0].message}")
            else:
                response = _error(
                    422,
                    1102,
                    f"[0401-1102]: Unprocessable Entity. {problems[0].message}",
                    [{"property": v.where, "message": v.message} for v in problems],
                )
        else:
            response = self._forward(request)
            if checked.operation is not None and response.status != 502:
                for v in self.validator.response_violations(checked.operation, response):
                    with self._lock:
                        self.response_violations[op or "?"][f"{v.where}: {v.message}"] += 1
        self._record(request, response, started, (time.perf_counter() - clock) * 1000)
        return response

    def _forward(self, request: HttpRequest) -> HttpResponse:
        import requests

        path = forwarded_path(self.validator.strip_base(request.path))
        if path is None:
            return _error(
                400,
                0,
                f"[0401-0000]: Bad Request. {request.path} is not below the upstream's base path once normalised; "
                "not forwarded",
            )
        headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
        try:
            upstream = self.session.request(
                request.method,
                self.upstream + path,
                params=request.query,
                headers=headers,
                data=request.body,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            with self._lock:
                self.upstream_errors += 1
            return _error(
                502, 0, f"[0401-0502]: Bad Gateway. Upstream {self.upstream} is unreachable: {type(exc).__name__}"
            )
        return HttpResponse(upstream.status_code, {k.lower(): v for k, v in upstream.headers.items()}, upstream.content)

    def _record(self, request: HttpRequest, response: HttpResponse, started: datetime, elapsed_ms: float) -> None:
        if not self.har_path:
            return
        forwarded = HttpRequest(
            request.method,
            self.validator.strip_base(request.path),
            request.query,
            {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP},
            request.body,
        )
        entry = har_entry(forwarded, response, self.upstream, started, elapsed_ms)
        if not self.keep_secrets:
            entry = redact(entry)
        with self._lock:
            self._entries.append(entry)
            if time.monotonic() - self._last_write > 1.0:
                self.flush_locked()

    def flush(self) -> None:
        with self._lock:
            self.flush_locked()

    def flush_locked(self) -> None:
        if self.har_path:
            write_har(self.har_path, list(self._entries))
            self._last_write = time.monotonic()

    def report(self) -> dict[str, Any]:
        with self._lock:
            ops = {}
            for op in sorted(self.exchanges):
                ops[op] = {
                    "exchanges": self.exchanges[op],
                    "request_violations": dict(self.request_violations.get(op, {})),
                    "response_violations": dict(self.response_violations.get(op, {})),
                }
            violations = (
                sum(sum(c.values()) for c in self.request_violations.values())
                + sum(sum(c.values()) for c in self.response_violations.values())
                + sum(self.unmatched.values())
            )
            return {
                "upstream": self.upstream,
                "strict": self.strict,
                "exchanges": sum(self.exchanges.values()),
                "violations": violations,
                "rejected": self.rejected,
                "upstream_errors": self.upstream_errors,
                "operations": ops,
                "unmatched": dict(self.unmatched),
            }


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
