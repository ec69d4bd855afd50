"""HAR validation and the validating proxy.

tests/data/session.har was recorded from client calls against the seeded mock through
the proxy (tests/data/record_har.py); the broken variants below edit one entry each.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from click.testing import CliRunner

from xsolla_contract.toolkit.cli import main
from xsolla_contract.toolkit.har import read_har
from xsolla_contract.toolkit.proxy import ValidatingProxy
from xsolla_contract.toolkit.testing import ContractClient, MockServer, free_port, wait_until_up
from xsolla_contract.toolkit.validation import Validator

SESSION = Path(__file__).parent / "data" / "session.har"


def session() -> dict:
    return json.loads(SESSION.read_text())


def entry(har: dict, method: str, url_part: str) -> dict:
    return next(
        e for e in har["log"]["entries"] if e["request"]["method"] == method and url_part in e["request"]["url"]
    )


def set_body(e: dict, body: object) -> None:
    e["response"]["content"]["text"] = json.dumps(body)


def drop_header(e: dict, name: str) -> None:
    e["request"]["headers"] = [h for h in e["request"]["headers"] if h["name"].lower() != name]


def break_item_field(har: dict) -> None:
    e = entry(har, "GET", "/admin/items/virtual_items/sku/har_sword")
    body = json.loads(e["response"]["content"]["text"])
    body["is_enabled"] = "yes"
    set_body(e, body)


def undocumented_status(har: dict) -> None:
    entry(har, "GET", "/items/groups")["response"]["status"] = 418


def wrong_content_type(har: dict) -> None:
    e = entry(har, "GET", "/order/")
    e["response"]["headers"] = [{"name": "content-type", "value": "text/html"}]
    e["response"]["content"].update(mimeType="text/html", text="<h1>order</h1>")


def missing_credentials(har: dict) -> None:
    drop_header(entry(har, "POST", "/admin/items/virtual_items"), "authorization")


def invalid_parameter(har: dict) -> None:
    e = entry(har, "GET", "/items/virtual_items?limit=5")
    e["request"]["url"] = e["request"]["url"].replace("limit=5", "limit=500")
    e["request"]["queryString"] = [{"name": "limit", "value": "500"}, {"name": "locale", "value": "de"}]


def invalid_request_body(har: dict) -> None:
    e = entry(har, "PUT", "/cart/fill")
    e["request"]["postData"]["text"] = json.dumps({"items": [{"sku": "har sword", "quantity": -1}]})


def no_operation(har: dict) -> None:
    e = entry(har, "GET", "/items/groups")
    e["request"]["url"] = e["request"]["url"].replace("/items/groups", "/items/grups")


@pytest.mark.parametrize(
    ("breaker", "operation", "kind", "message"),
    [
        pytest.param(
            break_item_field,
            "admin-get-virtual-item",
            "response-body",
            "'yes' is not of type 'boolean'",
            id="response-field-type",
        ),
        pytest.param(
            undocumented_status, "get-item-groups", "status", "status 418 is not documented", id="undocumented-status"
        ),
        pytest.param(
            wrong_content_type,
            "get-order",
            "response-content-type",
            "text/html is not documented",
            id="undocumented-content-type",
        ),
        pytest.param(
            missing_credentials,
            "admin-create-virtual-item",
            "security",
            "Missing authorization header",
            id="missing-credentials",
        ),
        pytest.param(
            invalid_parameter,
            "get-virtual-items",
            "parameter",
            "500 is greater than the maximum of 50",
            id="invalid-parameter",
        ),
        pytest.param(
            invalid_request_body, "cart-fill", "body", "-1 is less than the minimum of 0", id="invalid-request-body"
        ),
    ],
)
def test_each_violation_kind_in_a_broken_har(
    tmp_path: Path, breaker: Callable[[dict], None], operation: str, kind: str, message: str
) -> None:
    har = session()
    breaker(har)
    path = tmp_path / "broken.har"
    path.write_text(json.dumps(har))
    result = CliRunner().invoke(main, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    found = report["operations"][operation]["violations"]
    assert found and found[0]["kind"] == kind and message in found[0]["message"], found
    others = {op for op, data in report["operations"].items() if data["violations"] and op != operation}
    assert not others


def test_the_recorded_session_is_clean(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(main, ["validate", str(SESSION), "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("12 exchanges checked (0 non-API entries skipped), 11 operations, 0 violations")
    cases = ElementTree.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 11 and all(c.find("failure") is None for c in cases)


def test_unmatched_entries_are_reported_and_non_api_entries_skipped(tmp_path: Path) -> None:
    har = session()
    no_operation(har)
    asset = copy.deepcopy(har["log"]["entries"][0])
    asset["request"].update(method="GET", url="http://127.0.0.1/static/logo.png", queryString=[])
    har["log"]["entries"].append(asset)
    path, junit = tmp_path / "mixed.har", tmp_path / "junit.xml"
    path.write_text(json.dumps(har))
    result = CliRunner().invoke(main, ["validate", str(path), "--junit", str(junit)])
    assert result.exit_code == 1
    assert "(1 non-API entries skipped)" in result.output
    assert "FAIL 1 entries match no operation" in result.output and "nearest: get-item-groups" in result.output
    failing = [c for c in ElementTree.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["(no operation)"]


def test_not_a_har_file(tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    path.write_text("{}")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and "not a HAR file" in result.output


# ------------------------------------------------------------------ the proxy


@pytest.fixture
def proxied(mock_app, live_server, validator: Validator, tmp_path: Path):
    def start(strict: bool = False, upstream: str | None = None) -> tuple[ValidatingProxy, MockServer]:
        proxy = ValidatingProxy(
            validator, upstream or live_server.url + "/api", strict=strict, har_path=str(tmp_path / "proxy.har")
        )
        server = MockServer(proxy).start()
        started.append(server)
        return proxy, server

    started: list[MockServer] = []
    ContractClient(validator, app=mock_app).reset()
    yield start
    for server in started:
        server.stop()


ADMIN = ("44056", "key")


def test_proxy_forwards_unchanged_and_reports(proxied, live_server, tmp_path: Path) -> None:
    proxy, front = proxied()
    body = {"sku": "proxy_sword", "name": {"en": "Sword"}}
    created = requests.post(
        f"{front.url}/api/v2/project/44056/admin/items/virtual_items", json=body, auth=ADMIN, timeout=10
    )
    assert created.status_code == 201 and created.json() == {"sku": "proxy_sword"}
    via_proxy = requests.get(
        f"{front.url}/api/v2/project/44056/admin/items/virtual_items/sku/proxy_sword", auth=ADMIN, timeout=10
    )
    direct = requests.get(
        f"{live_server.url}/api/v2/project/44056/admin/items/virtual_items/sku/proxy_sword", auth=ADMIN, timeout=10
    )
    assert via_proxy.status_code == direct.status_code == 200 and via_proxy.content == direct.content
    report = requests.get(f"{front.url}/__proxy__/report", timeout=10).json()
    assert report["exchanges"] == 2 and report["violations"] == 0
    assert set(report["operations"]) == {"admin-create-virtual-item", "admin-get-virtual-item"}
    proxy.flush()
    assert [req.method for req, _ in read_har(tmp_path / "proxy.har")] == ["POST", "GET"]


def test_proxy_records_violations_in_both_directions(proxied, live_server) -> None:
    broken = MockServer(_corrupting(live_server.url)).start()
    try:
        proxy, front = proxied(upstream=broken.url + "/api")
        requests.get(f"{front.url}/api/v2/project/44056/items/virtual_items", params={"limit": 500}, timeout=10)
        requests.get(f"{front.url}/api/v2/project/44056/items/groups", timeout=10)
        report = requests.get(f"{front.url}/__proxy__/report", timeout=10).json()
    finally:
        broken.stop()
    request_side = report["operations"]["get-virtual-items"]["request_violations"]
    assert any("limit: 500 is greater than the maximum of 50" in v for v in request_side)
    response_side = report["operations"]["get-item-groups"]["response_violations"]
    assert any("is not of type 'array'" in v for v in response_side)


def _corrupting(upstream: str):
    """An upstream whose group list answers with a wrong type (a proxy in front of the mock)."""

    def app(environ, start_response):
        url = upstream + environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        answer = requests.get(url, headers={"Authorization": environ.get("HTTP_AUTHORIZATION", "")}, timeout=10)
        body = answer.content
        if environ["PATH_INFO"].endswith("/items/groups"):
            body = json.dumps({"groups": "none"}).encode()
        start_response(f"{answer.status_code} X", [("Content-Type", "application/json")])
        return [body]

    return app


def test_strict_proxy_answers_422_without_forwarding(proxied, mock_app) -> None:
    proxy, front = proxied(strict=True)
    engine = mock_app.config["ENGINE"]
    before = len(engine.journal.entries())
    answer = requests.get(f"{front.url}/api/v2/project/44056/items/virtual_items", params={"limit": 500}, timeout=10)
    assert answer.status_code == 422 and answer.json()["errorCode"] == 1102
    assert answer.json()["errorMessageExtended"][0]["property"] == "query limit"
    assert len(engine.journal.entries()) == before  # the mock never saw it
    unknown = requests.get(f"{front.url}/api/v2/project/44056/itemz", timeout=10)
    assert unknown.status_code == 404 and "nearest" in unknown.json()["errorMessage"]
    assert requests.get(f"{front.url}/__proxy__/report", timeout=10).json()["rejected"] == 2


def test_upstream_down_is_a_502_in_the_api_error_format(proxied) -> None:
    proxy, front = proxied(upstream=f"http://127.0.0.1:{free_port()}/api")
    answer = requests.get(f"{front.url}/api/v2/project/44056/items/groups", timeout=10)
    assert answer.status_code == 502
    assert answer.json()["statusCode"] == 502 and "unreachable" in answer.json()["errorMessage"]
    assert requests.get(f"{front.url}/__proxy__/report", timeout=10).json()["upstream_errors"] == 1


def test_proxy_command_writes_the_har_on_stop(live_server, tmp_path: Path) -> None:
    port, har = free_port(), tmp_path / "traffic.har"
    command = [
        str(Path(sys.executable).parent / "xsolla-contract"),
        "proxy",
        "--upstream",
        live_server.url + "/api",
        "--port",
        str(port),
        "--har",
        str(har),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        wait_until_up(f"http://127.0.0.1:{port}/__proxy__/report", timeout=10)
        assert requests.get(f"http://127.0.0.1:{port}/api/v2/project/44056/items/groups", timeout=10).ok
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert [req.path for req, _ in read_har(har)] == ["/api/v2/project/44056/items/groups"]  # as forwarded


def _raw_path(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """A request whose path is sent exactly as written (clients normalise dot segments away)."""
    import http.client

    host, port = url.rsplit("/", 1)[-1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        "/api/%2e%2e/%2e%2e/__mock__/users/victim/grant",
        "/api/%2E%2E/__mock__/users/victim/grant",
        "/../__mock__/users/victim/grant",
        "/api/v2/../../../__mock__/users/victim/grant",
        "/api/v2/%252e%252e/%252e%252e/%252e%252e/__mock__/users/victim/grant",
        "/api/v2/..%2f..%2f..%2f__mock__/users/victim/grant",
        "/__mock__/users/victim/grant",
        "/api/__mock__/users/victim/grant",
    ],
)
def test_proxy_forwards_only_below_the_upstream_base_path(proxied, live_server, path: str) -> None:
    proxy, front = proxied()
    body = json.dumps({"sku": "gold", "quantity": 1000}).encode()
    status, answer = _raw_path(front.url, "POST", path, body, {"Content-Type": "application/json"})
    assert 400 <= status < 500 and json.loads(answer)["statusCode"] == status
    victim = requests.get(f"{live_server.url}/__mock__/users/victim", timeout=10).json()
    assert victim["inventory"] == {}  # the mock's control API was never reached through the proxy


def test_proxy_normalises_paths_it_forwards(proxied) -> None:
    proxy, front = proxied()
    status, body = _raw_path(front.url, "GET", "/api/v2/project/44056/./items/../items/groups")
    assert status == 200 and "groups" in json.loads(body)


def test_proxy_refuses_connect(proxied) -> None:
    proxy, front = proxied()
    host, port = front.url.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.split(b" ")[1] == b"405" and b'"statusCode": 405' in answer


def test_proxy_har_redacts_credentials_unless_asked(proxied, tmp_path: Path) -> None:
    proxy, front = proxied()
    user = ContractClient(proxy.validator, base_url="http://unused").token("har-user")
    secret_headers = {"Cookie": "session=s3cr3t-cookie; theme=dark", "X-Api-Key": "s3cr3t-api-key"}
    requests.get(f"{front.url}/api/v2/project/44056/items/groups", auth=("44056", "s3cr3t-key"), timeout=10)
    requests.get(
        f"{front.url}/api/v2/project/44056/cart",
        headers={"Authorization": f"Bearer {user}", **secret_headers},
        timeout=10,
    )
    proxy.flush()
    written = Path(proxy.har_path).read_text()
    for secret in ("s3cr3t-key", user, "s3cr3t-cookie", "s3cr3t-api-key", base64_of("44056:s3cr3t-key")):
        assert secret not in written
    assert "[redacted]" in written and "theme=[redacted]" in written
    assert CliRunner().invoke(main, ["validate", proxy.har_path]).exit_code == 0  # still a valid recording

    keep = ValidatingProxy(proxy.validator, proxy.upstream, har_path=str(tmp_path / "kept.har"), keep_secrets=True)
    with MockServer(keep) as server:
        requests.get(f"{server.url}/api/v2/project/44056/items/groups", auth=("44056", "s3cr3t-key"), timeout=10)
        keep.flush()
    assert base64_of("44056:s3cr3t-key") in (tmp_path / "kept.har").read_text()


def base64_of(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def test_proxy_follows_the_exposure_rules(proxied) -> None:
    proxy, front = proxied()
    groups = f"{front.url}/api/v2/project/44056/items/groups"
    assert requests.get(groups, headers={"Origin": "https://attacker.example"}, timeout=10).status_code == 403
    assert requests.get(groups, headers={"Host": "attacker.example"}, timeout=10).status_code == 403
    local = requests.get(groups, headers={"Origin": "http://localhost:3000"}, timeout=10)
    assert local.status_code == 200 and local.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    report = requests.get(f"{front.url}/__proxy__/report", headers={"Origin": "http://localhost:3000"}, timeout=10)
    assert report.status_code == 403  # the proxy's control endpoint answers no page of another origin
    big = requests.post(
        f"{front.url}/api/v2/project/44056/admin/items/virtual_items", data=b"x" * 2_000_000, timeout=10
    )
    assert big.status_code == 413 and big.json()["statusCode"] == 413
