"""What a local developer tool lets web pages do: one WSGI middleware for the mock and the proxy.

The mock and the validating proxy listen on loopback, and every web page the developer
opens can send requests to loopback. `Exposure` decides, before the application sees a
request, what such a request may do; every refusal is an error body in the API's format.

- **Host** (DNS rebinding): the `Host` header must name the address the server is bound to:
  for a loopback server `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`; for a server bound
  to all addresses (`0.0.0.0`, `::`) also any IP address and this machine's host names; for
  one address, that address. Names given with `--allow-host` are added (`.example.com` names
  a domain and its subdomains, `*` any name). Anything else: 403.
- **CORS** (the API's paths): browsers may call from loopback origins (`http(s)://localhost:*`,
  `127.0.0.1:*`, `[::1]:*`) with credentials, from the origins named with `--cors-origin` with
  credentials, and from any origin without credentials when `*` is named (a wildcard never
  carries credentials). Other cross-origin requests are refused (403) before they reach the
  application, preflight or not.
- **Control endpoints** (`control_prefixes`: `/__mock__` of the mock, `/__proxy__` of the proxy):
  no cross-origin browser request at all, whatever the CORS settings (an `Origin` other than
  the server's own, or `Sec-Fetch-Site: cross-site|same-site` except for a page navigation);
  a body only as JSON (a form or `text/plain` POST, which any page may send without a
  preflight, is refused with 415); and a control token (`Authorization: Bearer <token>`)
  whenever one is set, as it always is for a server bound to a non-loopback address. Pages
  the server serves itself are same-origin: they may call the control endpoints (with the
  token when one is set). The `public_paths` below a control prefix (a page's HTML and
  static files, which hold no data) load without the token, so that a browser can open
  them; the page then sends the token on its own control calls.
- **Size**: a body larger than `max_body_bytes` (default 1 MiB) is refused with 413 before the
  application reads it.
- **Methods and targets**: CONNECT and TRACE get 405; a request target that is not a path 400.
"""

from __future__ import annotations

import dataclasses
import hmac
import io
import ipaddress
import json
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from .errors import api_error

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::", "*")
REFUSED_METHODS = ("CONNECT", "TRACE", "TRACK")
_SIMPLE_METHODS = ("GET", "HEAD")
_EXPOSED_HEADERS = ("x-transaction-id", "allow")
_ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_ALLOWED_HEADERS = "Authorization, Content-Type, x-unauthorized-id, x-user"


def is_loopback(host: str) -> bool:
    """A loopback name or address (`localhost`, `*.localhost`, 127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def new_control_token() -> str:
    return secrets.token_urlsafe(24)


def split_host(host: str) -> tuple[str, str]:
    """`name[:port]` or `[v6][:port]` -> (lower-case name without brackets, port or "")."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest[1:] if rest.startswith(":") else ""
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name.rstrip("."), port
    return host.rstrip("."), ""


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _origin_key(scheme: str, netloc: str) -> str | None:
    """`scheme://name:port` with the default port made explicit, or None for a malformed origin."""
    name, port = split_host(netloc)
    if scheme not in ("http", "https") or not name or (port and not port.isdigit()):
        return None
    return f"{scheme}://{name}:{port or ('443' if scheme == 'https' else '80')}"


@dataclass(frozen=True)
class ExposurePolicy:
    """Who may reach a server and how (see the module's docstring)."""

    bind_host: str = "127.0.0.1"
    allow_hosts: tuple[str, ...] = ()
    cors: bool = True
    cors_origins: tuple[str, ...] = ()
    control_prefixes: tuple[str, ...] = ()
    control_token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # GET/HEAD of these control paths need no control token (an entry ending in "*" is a prefix)
    public_paths: tuple[str, ...] = ()
    # response headers a cross-origin page may read, besides x-transaction-id and allow
    expose_headers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for origin in self.cors_origins:
            if origin != "*" and _origin_key(*urlsplit(origin)[:2]) is None:
                raise ValueError(f"--cors-origin {origin!r}: give scheme://host[:port], e.g. http://192.168.1.20:5173")
        if self.max_body_bytes <= 0:
            raise ValueError("the request size limit must be a positive number of bytes")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.bind_host)

    @cached_property
    def _host_names(self) -> frozenset[str]:
        names = {split_host(h)[0] if not h.startswith(".") else h.lower() for h in self.allow_hosts}
        bound = self.bind_host.strip("[]").lower()
        if bound not in WILDCARD_ADDRESSES:
            names.add(bound)
        if bound in WILDCARD_ADDRESSES or not self.loopback:
            for name in (socket.gethostname(), socket.getfqdn()):
                names.add(name.lower().rstrip("."))
        return frozenset(names)

    @cached_property
    def _trusted_origins(self) -> frozenset[str]:
        keys = (_origin_key(*urlsplit(o)[:2]) for o in self.cors_origins if o != "*")
        return frozenset(k for k in keys if k)

    def host_allowed(self, host: str | None) -> bool:
        """Does the `Host` header name this server? (No header: a client that is not a browser.)"""
        if not host:
            return True
        if "*" in self.allow_hosts:
            return True
        name, port = split_host(host)
        if port and not port.isdigit():
            return False
        if name in self._host_names or any(n.startswith(".") and ("." + name).endswith(n) for n in self._host_names):
            return True
        bound = self.bind_host.strip("[]").lower()
        if is_loopback(name):
            return self.loopback or bound in WILDCARD_ADDRESSES
        return bound in WILDCARD_ADDRESSES and _is_ip(name)

    def origin_trust(self, origin: str) -> str | None:
        """How far a (cross-) origin is trusted: "credentials", "anonymous" (`*`), or None."""
        if not self.cors or origin == "null":
            return None
        scheme, netloc = urlsplit(origin)[:2]
        key = _origin_key(scheme, netloc)
        if key is None:
            return None
        if is_loopback(split_host(netloc)[0]) or key in self._trusted_origins:
            return "credentials"
        return "anonymous" if "*" in self.cors_origins else None

    def is_control(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.control_prefixes)

    def is_public(self, path: str) -> bool:
        """A control path that holds no data (`public_paths`): readable without the control token."""
        return any(path.startswith(p[:-1]) if p.endswith("*") else path == p for p in self.public_paths)

    def with_control_token(self) -> ExposurePolicy:
        """This policy; bound off loopback without a control token, with a new one (to print)."""
        if self.loopback or self.control_token:
            return self
        return dataclasses.replace(self, control_token=new_control_token())


def same_origin(environ: dict[str, Any], origin: str) -> bool:
    """Is `origin` this server itself (the page was served by it)?"""
    host = environ.get("HTTP_HOST") or ""
    scheme, netloc = urlsplit(origin)[:2]
    key = _origin_key(scheme, netloc)
    return bool(host) and key is not None and key in (_origin_key("http", host), _origin_key("https", host))


def error_response(
    start_response: Any, status: int, code: int, message: str, headers: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    """Answer with an error body in the API's format."""
    from http import HTTPStatus

    body = json.dumps(api_error(status, code, message)).encode()
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    start_response(
        f"{status} {reason}".strip(),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers],
    )
    return [body]


class Exposure:
    """WSGI middleware applying an `ExposurePolicy` in front of `app`."""

    def __init__(self, app: Callable[..., Any], policy: ExposurePolicy):
        self.app, self.policy = app, policy

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        policy = self.policy
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        if method in REFUSED_METHODS:
            return error_response(
                start_response,
                405,
                0,
                f"Method is not allowed. {method} is not served here",
                [("Allow", _ALLOWED_METHODS)],
            )
        if not path.startswith("/"):  # e.g. CONNECT's host:port, or a target the server did not make a path
            return error_response(start_response, 400, 0, "[0401-0000]: Bad Request. The request target is not a path")
        host = environ.get("HTTP_HOST")
        if not policy.host_allowed(host):
            name = split_host(host or "")[0]
            return error_response(
                start_response,
                403,
                0,
                f"[0401-0000]: Forbidden. Host {name!r} does not name this server (bound to {policy.bind_host}); "
                f"allow it with --allow-host {name}",
            )
        control = policy.is_control(path)
        origin = environ.get("HTTP_ORIGIN")
        cross = origin is not None and not same_origin(environ, origin)
        cors: list[tuple[str, str]] = []
        if control:
            refusal = self._control_refusal(environ, method, cross, path)
            if refusal is not None:
                status, code, message = refusal
                return error_response(start_response, status, code, message)
        elif origin is not None:
            trust = policy.origin_trust(origin)
            if trust is None and cross:
                return error_response(
                    start_response,
                    403,
                    0,
                    f"[0401-0000]: Forbidden. Origin {origin} may not call this server; "
                    f"allow it with --cors-origin {origin}",
                )
            exposed = (*_EXPOSED_HEADERS, *policy.expose_headers)
            cors = _cors_headers(origin, trust, exposed) if trust else []  # a page of this server needs none
            if method == "OPTIONS" and cors:  # a preflight (the API has no OPTIONS operations)
                requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or _ALLOWED_HEADERS
                start_response(
                    "204 No Content",
                    [
                        *cors,
                        ("Access-Control-Allow-Methods", _ALLOWED_METHODS),
                        ("Access-Control-Allow-Headers", requested),
                        ("Access-Control-Max-Age", "600"),
                        ("Content-Length", "0"),
                    ],
                )
                return [b""]
        refusal = _read_body(environ, policy.max_body_bytes)
        if refusal is not None:
            return error_response(start_response, *refusal, cors)
        if not cors:
            return self.app(environ, start_response)

        def with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            taken = {name.lower() for name, _ in headers}
            return start_response(status, [*headers, *(h for h in cors if h[0].lower() not in taken)], exc_info)

        return self.app(environ, with_cors)

    def _control_refusal(
        self, environ: dict[str, Any], method: str, cross: bool, path: str
    ) -> tuple[int, int, str] | None:
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "")
        navigation = method in _SIMPLE_METHODS and environ.get("HTTP_SEC_FETCH_MODE") == "navigate"
        if cross or (fetch_site in ("cross-site", "same-site") and not navigation):
            return (
                403,
                0,
                "[0401-0000]: Forbidden. Control endpoints answer no cross-origin browser request; "
                "call them from a test, a shell, or a page this server serves",
            )
        token = self.policy.control_token
        if token and not (method in _SIMPLE_METHODS and self.policy.is_public(path)):
            scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
                return (
                    401,
                    1501,
                    "[0401-1501]: Authorization failed: control endpoints need 'Authorization: Bearer <control token>' "
                    "(the token the server printed at start, or --control-token)",
                )
        if method not in _SIMPLE_METHODS and method != "OPTIONS" and _has_body(environ):
            ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
            if ctype != "application/json" and not ctype.endswith("+json"):
                return (
                    415,
                    1102,
                    f"[0401-1102]: Unsupported Media Type. Control endpoints read JSON bodies "
                    f"(Content-Type: application/json), not {ctype or 'a body without a content type'}",
                )
        return None


def _cors_headers(origin: str, trust: str, exposed: Iterable[str]) -> list[tuple[str, str]]:
    expose = ("Access-Control-Expose-Headers", ", ".join(exposed))
    if trust == "credentials":
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            expose,
            ("Vary", "Origin"),
        ]
    return [("Access-Control-Allow-Origin", "*"), expose]


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or ""
    return (length.isdigit() and int(length) > 0) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_body(environ: dict[str, Any], limit: int) -> tuple[int, int, str] | None:
    """Refuse a body above `limit` before anyone reads it; a body of unknown length is read
    here, at most `limit` bytes, and handed on with its length."""
    too_large = (
        413,
        0,
        f"[0401-0000]: Request Entity Too Large. The request body is larger than {limit} bytes "
        "(the server's --max-body)",
    )
    length = (environ.get("CONTENT_LENGTH") or "").strip()
    if length:
        if not length.isdigit():
            return 400, 0, "[0401-0000]: Bad Request. Content-Length is not a number"
        return too_large if int(length) > limit else None
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get("wsgi.input_terminated"):
        stream = environ.get("wsgi.input")
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            return too_large
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
    return None
