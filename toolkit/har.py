"""HAR files (what browsers and proxies export): read, write, and validate against the spec."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .validation import HttpRequest, HttpResponse, Validator, Violation

API_PREFIXES = ("/v2/", "/v3/")


class HarError(ValueError):
    """The file is not a HAR document."""


def _headers(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in items or []}


def read_har(path: str | os.PathLike[str]) -> list[tuple[HttpRequest, HttpResponse]]:
    """The request/response pairs of a HAR file, in order."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = data["log"]["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise HarError(f"{path}: not a HAR file ({exc})") from None
    pairs = []
    for entry in entries:
        req, resp = entry.get("request") or {}, entry.get("response") or {}
        url = req.get("url", "")
        parts = urlsplit(url)
        query = [(q.get("name", ""), q.get("value", "")) for q in req.get("queryString") or []]
        if not query and parts.query:
            from urllib.parse import parse_qsl

            query = parse_qsl(parts.query, keep_blank_values=True)
        post = req.get("postData") or {}
        req_headers = _headers(req.get("headers"))
        if post.get("mimeType") and "content-type" not in req_headers:
            req_headers["content-type"] = post["mimeType"]
        body = post.get("text")
        content = resp.get("content") or {}
        text = content.get("text") or ""
        resp_body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()
        resp_headers = _headers(resp.get("headers"))
        if content.get("mimeType") and "content-type" not in resp_headers and resp_body:
            resp_headers["content-type"] = content["mimeType"]
        pairs.append(
            (
                HttpRequest(
                    str(req.get("method", "GET")).upper(),
                    parts.path or "/",
                    query,
                    req_headers,
                    body.encode() if body else None,
                    parts.netloc,
                ),
                HttpResponse(int(resp.get("status", 0)), resp_headers, resp_body),
            )
        )
    return pairs


def har_entry(
    request: HttpRequest,
    response: HttpResponse,
    base_url: str,
    started: datetime | None = None,
    elapsed_ms: float = 0.0,
) -> dict[str, Any]:
    """One HAR 1.2 entry for an exchange (`base_url`: scheme://host the request went to)."""
    from urllib.parse import urlencode

    query = f"?{urlencode(request.query)}" if request.query else ""
    entry: dict[str, Any] = {
        "startedDateTime": (started or datetime.now(UTC)).isoformat(),
        "time": round(elapsed_ms, 3),
        "request": {
            "method": request.method,
            "url": f"{base_url.rstrip('/')}{request.path}{query}",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in request.headers.items()],
            "queryString": [{"name": k, "value": v} for k, v in request.query],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(request.body or b""),
        },
        "response": {
            "status": response.status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": k, "value": v} for k, v in response.headers.items()],
            "content": {
                "size": len(response.body),
                "mimeType": response.headers.get("content-type", ""),
                "text": response.body.decode("utf-8", errors="replace"),
            },
            "cookies": [],
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(response.body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(elapsed_ms, 3), "receive": 0},
    }
    if request.body:
        entry["request"]["postData"] = {
            "mimeType": request.headers.get("content-type", ""),
            "text": request.body.decode("utf-8", errors="replace"),
        }
    return entry


REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey"}
)
_SECRET_WORDS = ("token", "secret", "password", "api_key", "apikey", "api-key", "signature")
_SECRET_FIELDS = frozenset({"token", "access_token", "refresh_token", "api_key", "password", "secret"})


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADERS or any(word in lowered for word in _SECRET_WORDS)


def _redacted_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, _, credential = value.partition(" ")
        if scheme.lower() == "basic":  # keep the project id (it is in every path anyway), not the key
            try:
                ident = base64.b64decode(credential.strip(), validate=True).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                ident = ""
            if ident.isascii() and ident.isdigit():
                return "Basic " + base64.b64encode(f"{ident}:{REDACTED}".encode()).decode()
        return f"{scheme} {REDACTED}" if credential else REDACTED
    if lowered == "cookie":
        names = [pair.split("=", 1)[0].strip() for pair in value.split(";") if pair.strip()]
        return "; ".join(f"{name}={REDACTED}" for name in names)
    if lowered == "set-cookie":
        first, sep, attributes = value.partition(";")
        return f"{first.split('=', 1)[0].strip()}={REDACTED}{sep}{attributes}"
    return REDACTED


def _redacted_body(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text
    found = False

    def scrub(node: Any) -> Any:
        nonlocal found
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key.lower() in _SECRET_FIELDS and isinstance(value, str):
                    out[key], found = REDACTED, True
                else:
                    out[key] = scrub(value)
            return out
        if isinstance(node, list):
            return [scrub(item) for item in node]
        return node

    cleaned = scrub(data)
    return json.dumps(cleaned, ensure_ascii=False) if found else text


def redact(entry: dict[str, Any]) -> dict[str, Any]:
    """A HAR entry without credentials: Authorization (a Basic credential keeps its project id),
    cookies, API-key and token headers, query parameters named like secrets, and the `token`
    fields of JSON bodies (payment tokens) are replaced by `[redacted]`."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    entry = json.loads(json.dumps(entry))
    for side in ("request", "response"):
        part = entry.get(side) or {}
        for header in part.get("headers") or []:
            if _secret_name(str(header.get("name", ""))):
                header["value"] = _redacted_header(str(header["name"]), str(header.get("value", "")))
        for cookie in part.get("cookies") or []:
            cookie["value"] = REDACTED
        body = part.get("postData") if side == "request" else part.get("content")
        if body and isinstance(body.get("text"), str) and "json" in str(body.get("mimeType", "")):
            body["text"] = _redacted_body(body["text"])
    request = entry.get("request") or {}
    for item in request.get("queryString") or []:
        if _secret_name(str(item.get("name", ""))):
            item["value"] = REDACTED
    parts = urlsplit(str(request.get("url", "")))
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(_secret_name(k) for k, _ in query):
        query = [(k, REDACTED if _secret_name(k) else v) for k, v in query]
        request["url"] = urlunsplit(parts._replace(query=urlencode(query)))
    return entry


def write_har(path: str | os.PathLike[str], entries: list[dict[str, Any]]) -> None:
    """Write entries as a HAR 1.2 file (atomically)."""
    from .. import __version__

    document = {
        "log": {"version": "1.2", "creator": {"name": "xsolla-contract", "version": __version__}, "entries": entries}
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".har-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


@dataclass
class TrafficReport:
    """Violations of a set of exchanges, grouped by operation."""

    checked: int = 0
    skipped: int = 0
    by_operation: dict[str, list[tuple[int, Violation]]] = field(default_factory=lambda: defaultdict(list))
    exchanges: Counter[str] = field(default_factory=Counter)
    unmatched: list[tuple[int, str]] = field(default_factory=list)

    @property
    def violation_count(self) -> int:
        return sum(len(v) for v in self.by_operation.values()) + len(self.unmatched)

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    def add(self, index: int, validator: Validator, request: HttpRequest, response: HttpResponse) -> None:
        result = validator.validate_response(request, response)
        self.checked += 1
        if result.operation is None:
            self.unmatched.append((index, result.violations[0].message))
            return
        self.exchanges[result.operation.operation_id] += 1
        for violation in result.violations:
            self.by_operation[result.operation.operation_id].append((index, violation))

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "skipped": self.skipped,
            "violations": self.violation_count,
            "operations": {
                op: {
                    "exchanges": self.exchanges[op],
                    "violations": [{"entry": i, **v.as_dict()} for i, v in self.by_operation.get(op, [])],
                }
                for op in sorted(self.exchanges)
            },
            "unmatched": [{"entry": i, "message": m} for i, m in self.unmatched],
        }

    def text(self) -> str:
        lines = [
            f"{self.checked} exchanges checked ({self.skipped} non-API entries skipped), "
            f"{len(self.exchanges)} operations, {self.violation_count} violations"
        ]
        for op in sorted(self.exchanges):
            found = self.by_operation.get(op, [])
            lines.append(
                f"{'FAIL' if found else 'ok  '} {op}: {self.exchanges[op]} exchange(s)"
                + (f", {len(found)} violation(s)" if found else "")
            )
            for index, violation in found:
                lines.append(f"       entry {index}: {violation.where}: {violation.message}")
        if self.unmatched:
            lines.append(f"FAIL {len(self.unmatched)} entries match no operation:")
            lines += [f"       entry {i}: {m}" for i, m in self.unmatched]
        return "\n".join(lines)


def validate_pairs(
    validator: Validator, pairs: Iterable[tuple[HttpRequest, HttpResponse]], only_api: bool = True
) -> TrafficReport:
    report = TrafficReport()
    for index, (request, response) in enumerate(pairs):
        path = validator.strip_base(request.path)
        if only_api and not path.startswith(API_PREFIXES):
            report.skipped += 1
            continue
        report.add(index, validator, request, response)
    return report
