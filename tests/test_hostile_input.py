"""Hostile input against the mock as users run it (`xsolla-contract mock`, on a free port).

The battery is a table of requests an attacker or a broken client sends: JSON the API
cannot mean, oversized bodies, malformed HTTP, forged credentials, control calls that
would break the mock. Each must get a 4xx in the API's error format; afterwards the mock
serves normal calls as before and its journal holds no answer >= 500.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

PROJECT = 44056
P = f"/api/v2/project/{PROJECT}"
ITEMS = f"{P}/admin/items/virtual_items"
ADMIN = {"Authorization": "Basic " + base64.b64encode(f"{PROJECT}:key".encode()).decode()}
JSON = {"Content-Type": "application/json"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_token(payload: str) -> str:
    """A JWT with this exact payload text (the mock without --jwt-secret does not check signatures)."""
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    return f"{header}.{b64url(payload.encode())}.{b64url(b'sig')}"


def basic(ident: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{ident}:key".encode()).decode()}


def item(amount: str = "1.99", name: str = '"Sword"', quantity: str = "1") -> bytes:
    return (
        f'{{"sku": "hostile_sword", "name": {{"en": {name}}}, '
        f'"prices": [{{"amount": {amount}, "currency": "USD", "is_default": true}}], '
        f'"limits": {{"per_user": {{"total": {quantity}}}}}}}'
    ).encode()


def nested(depth: int) -> bytes:
    return b'{"sku": "deep", "name": {"en": "x"}, "attributes": ' + b"[" * depth + b"]" * depth + b"}"


# (id, method, path, headers, body) over HTTP; raw requests are bytes sent as they are
HTTP: list[tuple[str, str, str, dict[str, str], bytes | None]] = [
    ("nesting-1000", "POST", ITEMS, {**ADMIN, **JSON}, nested(1000)),
    ("nesting-200", "POST", ITEMS, {**ADMIN, **JSON}, nested(200)),
    ("cart-nesting", "PUT", f"{P}/cart/fill", {**JSON, "Authorization": "Bearer x"}, b"[" * 5000 + b"]" * 5000),
    ("price-NaN", "POST", ITEMS, {**ADMIN, **JSON}, item(amount="NaN")),
    ("price-Infinity", "POST", ITEMS, {**ADMIN, **JSON}, item(amount="Infinity")),
    ("price--Infinity", "POST", ITEMS, {**ADMIN, **JSON}, item(amount="-Infinity")),
    ("price-1e400", "POST", ITEMS, {**ADMIN, **JSON}, item(amount="1e400")),
    ("limit-huge-int", "POST", ITEMS, {**ADMIN, **JSON}, item(quantity="1" * 5000)),
    ("name-lone-surrogate", "POST", ITEMS, {**ADMIN, **JSON}, item(name='"\\ud800"')),
    ("name-10MB", "POST", ITEMS, {**ADMIN, **JSON}, item(name=json.dumps("x" * 10_000_000))),
    ("body-not-utf8", "POST", ITEMS, {**ADMIN, **JSON}, b'{"sku": "\xff\xfe"}'),
    ("body-array", "POST", ITEMS, {**ADMIN, **JSON}, b"[]"),
    ("body-empty", "POST", ITEMS, {**ADMIN, **JSON}, b""),
    ("body-text-plain", "POST", ITEMS, {**ADMIN, "Content-Type": "text/plain"}, item()),
    ("query-limit-1e400", "GET", ITEMS + "?limit=1e400", ADMIN, None),
    ("query-limit-NaN", "GET", ITEMS + "?limit=NaN", ADMIN, None),
    ("path-long", "GET", P + "/items/" + "a" * 100_000, {}, None),
    ("path-nul", "GET", P + "/items/sku/a%00b", {}, None),
    ("path-project-arabic-digits", "GET", "/api/v2/project/٤٤٠٥٦/admin/items/virtual_items", ADMIN, None),
    ("control-under-base-path", "GET", "/api/__mock__/state", {}, None),
    ("basic-arabic-digits", "GET", ITEMS, basic("٤٤٠٥٦"), None),
    ("basic-leading-zero", "GET", ITEMS, basic("044056"), None),
    ("jwt-exp-NaN", "GET", f"{P}/cart", {"Authorization": "Bearer " + forged_token('{"sub":"u","exp":NaN}')}, None),
    (
        "jwt-exp-Infinity",
        "GET",
        f"{P}/cart",
        {"Authorization": "Bearer " + forged_token('{"sub":"u","exp":Infinity}')},
        None,
    ),
    (
        "jwt-exp-text",
        "GET",
        f"{P}/cart",
        {"Authorization": "Bearer " + forged_token('{"sub":"u","exp":"never"}')},
        None,
    ),
    ("jwt-exp-true", "GET", f"{P}/cart", {"Authorization": "Bearer " + forged_token('{"sub":"u","exp":true}')}, None),
    ("method-CONNECT", "CONNECT", "/api/v2/project/44056/items/groups", {}, None),
    ("method-TRACE", "TRACE", "/", {}, None),
    ("method-BREW", "BREW", P + "/items/groups", {}, None),
    ("host-rebinding", "GET", P + "/items/groups", {"Host": "attacker.example:8080"}, None),
    ("origin-foreign", "GET", P + "/items/groups", {"Origin": "https://attacker.example"}, None),
    ("origin-null", "PUT", f"{P}/cart/fill", {"Origin": "null", **JSON}, b'{"items": []}'),
    ("control-cross-origin", "POST", "/__mock__/reset", {"Origin": "http://localhost:3000"}, None),
    (
        "control-cross-site-fetch",
        "GET",
        "/__mock__/state",
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"},
        None,
    ),
    ("control-text-plain-token", "POST", "/__mock__/token", {"Content-Type": "text/plain"}, b'{"user": "x"}'),
    ("control-form-reset", "POST", "/__mock__/reset", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
    ("clock-advance-1e308", "POST", "/__mock__/clock", JSON, b'{"advance": 1e308}'),
    ("clock-advance-NaN", "POST", "/__mock__/clock", JSON, b'{"advance": NaN}'),
    ("clock-advance-1000-years", "POST", "/__mock__/clock", JSON, b'{"advance": 31600000000}'),
    ("clock-set-9999", "POST", "/__mock__/clock", JSON, b'{"set": "9999-12-31T23:59:59Z"}'),
    ("clock-set-year-1", "POST", "/__mock__/clock", JSON, b'{"set": "0001-01-01T00:00:00Z"}'),
    ("clock-duration-huge", "POST", "/__mock__/clock", JSON, b'{"advance": "P99999999999D"}'),
    ("clock-two-moves", "POST", "/__mock__/clock", JSON, b'{"advance": 1, "set": "2030-01-01"}'),
    ("token-array", "POST", "/__mock__/token", JSON, b"[1]"),
    ("token-ttl-huge", "POST", "/__mock__/token", JSON, b'{"ttl": 1e30}'),
    ("token-ttl-negative", "POST", "/__mock__/token", JSON, b'{"ttl": -5}'),
    ("token-user-object", "POST", "/__mock__/token", JSON, b'{"user": {"a": 1}}'),
    ("grant-NaN", "POST", "/__mock__/users/u/grant", JSON, b'{"sku": "gold", "quantity": NaN}'),
    ("grant-Infinity", "POST", "/__mock__/users/u/grant", JSON, b'{"sku": "gold", "quantity": Infinity}'),
    ("grant-fraction", "POST", "/__mock__/users/u/grant", JSON, b'{"sku": "gold", "quantity": 1.5}'),
    ("grant-zero", "POST", "/__mock__/users/u/grant", JSON, b'{"sku": "gold", "quantity": 0}'),
    ("grant-text", "POST", "/__mock__/users/u/grant", JSON, b'{"sku": "gold", "quantity": "5"}'),
    ("grant-project-text", "POST", "/__mock__/users/u/grant", JSON, b'{"sku": "gold", "project_id": "abc"}'),
    ("grant-not-json", "POST", "/__mock__/users/u/grant", JSON, b"{bad"),
    ("user-project-text", "GET", "/__mock__/users/u?project_id=abc", {}, None),
    ("user-project-arabic", "GET", "/__mock__/users/u?project_id=٤٤٠٥٦", {}, None),
    ("order-body-array", "POST", "/__mock__/orders/1", JSON, b"[]"),
    ("order-status-unknown", "POST", "/__mock__/orders/1", JSON, b'{"status": "stolen"}'),
    ("order-id-text", "POST", "/__mock__/orders/abc", JSON, b'{"status": "paid"}'),
    ("order-missing", "POST", "/__mock__/orders/999999", JSON, b'{"status": "paid"}'),
    ("state-records-text", "POST", "/__mock__/state", JSON, b'{"records": "nope"}'),
    ("state-NaN", "POST", "/__mock__/state", JSON, b'{"records": [[44056, "item", "x", NaN]]}'),
    ("state-clock-far", "POST", "/__mock__/state", JSON, b'{"records": [[0, "__mock__", "clock", {"offset": 1e300}]]}'),
    ("state-record-short", "POST", "/__mock__/state", JSON, b'{"records": [[1, "item"]]}'),
    ("state-unservable-item", "POST", "/__mock__/state", JSON, b'{"records": [[44056, "item", "x", "not a record"]]}'),
    ("reset-not-json", "POST", "/__mock__/reset", JSON, b"{bad"),
    ("fault-latency-NaN", "POST", "/__mock__/faults", JSON, b'{"latency_ms": NaN}'),
    ("fault-latency-1e400", "POST", "/__mock__/faults", JSON, b'{"latency_ms": 1e400}'),
    ("fault-nesting", "POST", "/__mock__/faults", JSON, b'{"operation": ' + b"[" * 500 + b"]" * 500 + b"}"),
    ("fault-text-plain", "POST", "/__mock__/faults", {"Content-Type": "text/plain"}, b'{"status": 500}'),
    ("fault-cross-origin", "POST", "/__mock__/faults", {**JSON, "Origin": "http://localhost:3000"}, b'{"status": 500}'),
]

RAW: list[tuple[str, bytes]] = [
    ("request-line-space", b"GET /a b HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    ("request-line-garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
    ("header-nul", b"GET /api/v2/project/44056/items/groups HTTP/1.1\r\nHost: {host}\r\nX-A: a\x00b\r\n\r\n"),
    ("header-no-colon", b"GET / HTTP/1.1\r\nHost: {host}\r\nnot a header\r\n\r\n"),
    ("header-300KB", b"GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n"),
    ("content-length-text", b"POST /__mock__/reset HTTP/1.1\r\nHost: {host}\r\nContent-Length: abc\r\n\r\n"),
    (
        "content-length-twice",
        b"POST /__mock__/reset HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ),
    ("transfer-encoding-gzip", b"POST /__mock__/reset HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip\r\n\r\n"),
    ("chunked-bad-size", b"POST /__mock__/reset HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    (
        "chunked-2MB",
        b"POST /api/v2/project/44056/admin/items/virtual_items HTTP/1.1\r\nHost: {host}\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"%x\r\n%s\r\n" % (65536, b"a" * 65536) for _ in range(32))
        + b"0\r\n\r\n",
    ),
    ("absolute-form-foreign", b"GET http://attacker.example/__mock__/state HTTP/1.1\r\nHost: attacker.example\r\n\r\n"),
    ("http-0.9", b"GET /\r\n\r\n"),
    ("path-dot-segments", b"GET /api/v2/../../__mock__/state HTTP/1.1\r\nHost: {host}\r\n\r\n"),
    ("path-encoded-dot-segments", b"GET /api/%2e%2e/%2e%2e/__mock__/state HTTP/1.1\r\nHost: {host}\r\n\r\n"),
]


@pytest.fixture(scope="module")
def mock(cli_server) -> Iterator[str]:
    with cli_server("mock", "--seed", "1") as url:
        yield url


def raw_exchange(url: str, data: bytes) -> tuple[int, bytes]:
    """Send bytes as they are while reading the answer (a server may answer and close before it
    has read all of a request it refuses); the status and body of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:

        def send() -> None:
            try:
                sock.sendall(data.replace(b"{host}", parts.netloc.encode()))
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # the answer came before the reset
        sender.join(timeout=30)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head, f"no answer to {data[:60]!r}"
    return int(head.split(b" ", 2)[1]), body


def assert_api_error(status: int, body: bytes, what: str) -> dict[str, Any]:
    assert 400 <= status < 500, f"{what}: answered {status}: {body[:300]!r}"
    data = json.loads(body)
    assert set(data) >= {"errorCode", "errorMessage", "statusCode"}, f"{what}: {data}"
    assert data["statusCode"] == status and isinstance(data["errorCode"], int) and data["errorMessage"], what
    return data


@pytest.mark.parametrize(("method", "path", "headers", "body"), [pytest.param(*row[1:], id=row[0]) for row in HTTP])
def test_hostile_request_gets_a_4xx_in_the_api_format(mock: str, method: str, path: str, headers, body) -> None:
    answer = requests.request(method, mock + path, headers=headers, data=body, timeout=60)
    assert_api_error(answer.status_code, answer.content, f"{method} {path[:80]}")


@pytest.mark.parametrize("data", [pytest.param(row[1], id=row[0]) for row in RAW])
def test_malformed_http_gets_a_4xx_in_the_api_format(mock: str, data: bytes) -> None:
    status, body = raw_exchange(mock, data)
    assert_api_error(status, body, repr(data[:60]))


def test_the_mock_serves_normally_after_the_battery(mock: str) -> None:
    journal = requests.get(f"{mock}/__mock__/requests", timeout=30).json()["requests"]
    assert journal and not [e for e in journal if e["status"] >= 500]
    assert requests.get(f"{mock}/__mock__/clock", timeout=30).json()["now"][:2] in ("20", "21")
    catalog = requests.get(f"{mock}{P}/items/virtual_items", timeout=30)
    assert catalog.status_code == 200 and len(catalog.json()["items"]) > 10
    sword = {"sku": "after_battery", "name": {"en": "Sword"}, "prices": [{"amount": 2, "currency": "USD"}]}
    assert requests.post(mock + ITEMS, json=sword, headers=ADMIN, timeout=30).status_code == 201
    assert requests.get(f"{mock}{ITEMS}/sku/after_battery", headers=ADMIN, timeout=30).status_code == 200
    inventory = requests.post(f"{mock}/__mock__/users/u/grant", json={"sku": "gold", "quantity": 5}, timeout=30)
    assert inventory.json() == {"items": {"gold": 5}}  # none of the refused grants counted
    assert requests.post(f"{mock}/__mock__/reset", timeout=60).status_code == 200
    assert requests.get(f"{mock}{ITEMS}/sku/after_battery", headers=ADMIN, timeout=30).status_code == 404
