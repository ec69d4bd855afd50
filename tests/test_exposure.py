"""What web pages and the network can do to the mock and the proxy: Host, CORS, the control API,
its token, request sizes, the server's connection handling and its own errors."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from xsolla_contract.mocks import MockConfig, create_app, engine_of
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient
from xsolla_contract.toolkit.validation import Validator

PROJECT = 44056
CATALOG = f"/v2/project/{PROJECT}/items/virtual_items"
ITEMS = f"/v2/project/{PROJECT}/admin/items/virtual_items"


def app_client(spec: Spec, validator: Validator, **config) -> ContractClient:
    app = create_app(spec, config=MockConfig(**{"seed": None, "empty": True, **config}))
    client = ContractClient(validator, app=app, check=False)
    return client


@pytest.fixture(scope="module")
def local(spec: Spec, validator: Validator) -> ContractClient:
    return app_client(spec, validator)


def tokens_minted(client: ContractClient) -> int:
    return sum(1 for e in engine_of(client.app).journal.entries() if e["path"] == "/__mock__/token")


# ------------------------------------------------------------------ CORS


def test_cors_answers_loopback_origins_with_credentials(local: ContractClient) -> None:
    for origin in ("http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8000", "https://localhost"):
        answer = local.get(CATALOG, headers={"Origin": origin})
        assert answer.status == 200, origin
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-credentials"] == "true"
        assert "Origin" in answer.headers["vary"]


def test_cors_refuses_other_origins_and_never_reflects_them(local: ContractClient) -> None:
    for origin in ("https://attacker.example", "http://localhost.attacker.example", "null", "http://10.0.0.5:3000"):
        answer = local.get(CATALOG, headers={"Origin": origin})
        assert answer.status == 403 and answer.data["statusCode"] == 403, origin
        assert "--cors-origin" in answer.data["errorMessage"]
        assert "access-control-allow-origin" not in answer.headers
        assert "access-control-allow-credentials" not in answer.headers
        preflight = local.call("OPTIONS", CATALOG, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"})
        assert preflight.status == 403 and "access-control-allow-origin" not in preflight.headers


def test_cors_origins_named_by_the_user(spec: Spec, validator: Validator) -> None:
    client = app_client(spec, validator, cors_origins=("http://192.168.1.20:5173",))
    named = client.get(CATALOG, headers={"Origin": "http://192.168.1.20:5173"})
    assert named.headers["access-control-allow-origin"] == "http://192.168.1.20:5173"
    assert named.headers["access-control-allow-credentials"] == "true"
    assert client.get(CATALOG, headers={"Origin": "http://192.168.1.20:5174"}).status == 403
    anyone = app_client(spec, validator, cors_origins=("*",))
    public = anyone.get(CATALOG, headers={"Origin": "https://attacker.example"})
    assert public.status == 200 and public.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in public.headers  # a wildcard never carries credentials
    assert (
        anyone.get(CATALOG, headers={"Origin": "http://localhost:3000"}).headers["access-control-allow-credentials"]
        == "true"
    )
    with pytest.raises(ValueError, match="scheme://host"):
        app_client(spec, validator, cors_origins=("attacker.example",))


def test_no_cors_answers_no_cross_origin_page(spec: Spec, validator: Validator) -> None:
    client = app_client(spec, validator, cors=False)
    assert client.get(CATALOG, headers={"Origin": "http://localhost:3000"}).status == 403
    assert client.get(CATALOG).status == 200


# ------------------------------------------------------------ control API


def test_pages_of_other_origins_cannot_use_the_control_api(local: ContractClient) -> None:
    before = tokens_minted(local)
    for origin in ("https://attacker.example", "http://localhost:3000"):  # loopback pages neither
        for method, path, body in (
            ("POST", "/__mock__/token", {"user": "x"}),
            ("POST", "/__mock__/reset", None),
            ("GET", "/__mock__/state", None),
            ("POST", "/__mock__/state", {"records": []}),
        ):
            answer = local.call(method, path, json_body=body, headers={"Origin": origin})
            assert answer.status == 403 and "cross-origin" in answer.data["errorMessage"], (origin, path)
            assert "access-control-allow-origin" not in answer.headers
    fetched = local.call(
        "GET", "/__mock__/state", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
    )
    assert fetched.status == 403
    assert tokens_minted(local) == before


def test_a_text_plain_post_cannot_mint_tokens_or_reset(local: ContractClient) -> None:
    """What a page may send without a preflight: text/plain, forms. Refused even without an Origin."""
    local.grant("keep-me", "gold", 3)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        minted = local.call("POST", "/__mock__/token", data='{"user": "x"}', content_type=ctype)
        assert minted.status == 415 and "token" not in (minted.data or {}), ctype
        reset = local.call("POST", "/__mock__/reset", data="{}", content_type=ctype)
        assert reset.status == 415
    assert local.control("GET", "users/keep-me")["inventory"] == {"gold": 3}


def test_pages_the_mock_serves_may_call_the_control_api(local: ContractClient) -> None:
    """Same origin (a page served by the mock itself, e.g. a dashboard): allowed."""
    same = local.call(
        "POST",
        "/__mock__/token",
        json_body={"user": "page-user"},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status == 200 and same.data["user"] == "page-user"
    navigation = local.call(
        "GET", "/__mock__/clock", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    )
    assert navigation.status == 200  # following a link to a control page shows it


def test_off_loopback_the_control_api_needs_its_token(spec: Spec, validator: Validator) -> None:
    config = MockConfig(seed=None, empty=True, host="0.0.0.0")
    client = ContractClient(validator, app=create_app(spec, config=config), check=False)
    token = config.control_token
    assert token and len(token) >= 24  # generated, for the banner
    refused = client.call("POST", "/__mock__/reset")
    assert refused.status == 401 and refused.data["errorCode"] == 1501
    wrong = client.call("POST", "/__mock__/reset", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    ok = client.call("POST", "/__mock__/reset", headers={"Authorization": f"Bearer {token}"})
    assert ok.status == 200
    assert client.get(CATALOG).status == 200  # the API itself needs no control token
    given = ContractClient(
        validator, app=create_app(spec, config=MockConfig(seed=None, empty=True, control_token="s3cret")), check=False
    )
    assert given.call("GET", "/__mock__/clock").status == 401  # a given token counts on loopback too
    assert given.call("GET", "/__mock__/clock", headers={"Authorization": "Bearer s3cret"}).status == 200


def test_with_a_control_token_the_dashboard_loads_but_its_data_needs_the_token(
    spec: Spec, validator: Validator
) -> None:
    """The dashboard's HTML and static files hold no data: a browser opens them without the
    token (it reads the token from the address's fragment); every data endpoint refuses."""
    client = ContractClient(
        validator, app=create_app(spec, config=MockConfig(seed=None, empty=True, control_token="s3cret")), check=False
    )
    bearer = {"Authorization": "Bearer s3cret"}
    page = client.app.test_client().get("/__mock__/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html" and "s3cret" not in page.get_data(as_text=True)
    for static in ("/__mock__/static/dashboard.js", "/__mock__/static/dashboard.css"):
        assert client.app.test_client().get(static).status_code == 200, static
    data_paths = (
        "/__mock__/projects",
        f"/__mock__/projects/{PROJECT}",
        "/__mock__/requests",
        "/__mock__/webhooks",
        "/__mock__/clock",
        "/__mock__/index.json",
        "/__mock__/state",
    )
    for path in data_paths:
        refused = client.call("GET", path)
        assert refused.status == 401 and refused.data["errorCode"] == 1501, path
        assert client.call("GET", path, headers=bearer).status == 200, path
    assert client.call("POST", "/__mock__/static/dashboard.js").status == 401  # reading only
    assert client.call("GET", "/__mock__/staticx").status == 401  # a prefix of a public path is not public
    # a page of another site gets nothing, token or not; a text/plain POST is no JSON
    evil = {"Origin": "https://attacker.example", **bearer}
    assert client.call("POST", "/__mock__/reset", headers=evil).status == 403
    assert client.call("GET", "/__mock__/requests", headers=evil).status == 403
    plain = client.call("POST", "/__mock__/token", data='{"user": "x"}', content_type="text/plain", headers=bearer)
    assert plain.status == 415


def test_a_frontend_sees_that_a_fault_made_the_answer(local: ContractClient) -> None:
    """The fault header is among the headers a (loopback) page's script may read."""
    rule = local.control("POST", "faults", {"operation": "get-virtual-items", "status": 503, "times": 1})
    answer = local.get(CATALOG, headers={"Origin": "http://localhost:5173"})
    assert answer.status == 503 and answer.headers["x-mock-fault"] == str(rule["id"])
    exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"x-mock-fault", "x-transaction-id"} <= exposed
    assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
    local.control("DELETE", "faults")


# ------------------------------------------------------------------- Host


def test_host_must_name_the_mock(local: ContractClient) -> None:
    for host in ("attacker.example", "attacker.example:8080", "localhost.attacker.example", "10.0.0.1"):
        answer = local.get(CATALOG, headers={"Host": host})
        assert answer.status == 403 and "--allow-host" in answer.data["errorMessage"], host
        assert local.call("GET", "/__mock__/state", headers={"Host": host}).status == 403
    for host in ("localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "app.localhost"):
        assert local.get(CATALOG, headers={"Host": host}).status == 200, host


def test_allow_host_names_more_hosts(spec: Spec, validator: Validator) -> None:
    client = app_client(spec, validator, allow_hosts=("mock.test", ".dev.example"))
    for host in ("mock.test:8080", "dev.example", "api.dev.example"):
        assert client.get(CATALOG, headers={"Host": host}).status == 200, host
    assert client.get(CATALOG, headers={"Host": "other.example"}).status == 403
    everywhere = app_client(spec, validator, host="0.0.0.0")
    assert everywhere.get(CATALOG, headers={"Host": "192.168.1.20:8080"}).status == 200  # an address of the machine
    assert everywhere.get(CATALOG, headers={"Host": "attacker.example"}).status == 403


# ------------------------------------------------------------------- size


def test_request_size_limit_is_a_413_in_the_api_format(local: ContractClient) -> None:
    local.reset()
    body = {"sku": "huge", "name": {"en": "x" * 10_000_000}, "prices": [{"amount": 1, "currency": "USD"}]}
    answer = local.post(ITEMS, json=body, headers=local.admin())
    assert answer.status == 413 and answer.data["statusCode"] == 413 and "bytes" in answer.data["errorMessage"]
    assert local.get(ITEMS + "/sku/huge", headers=local.admin()).status == 404  # nothing stored
    assert local.control("GET", "state")["records"] == []


def test_size_limit_is_a_setting(spec: Spec, validator: Validator) -> None:
    client = app_client(spec, validator, max_body_bytes=200)
    body = {"sku": "small", "name": {"en": "x" * 300}, "prices": [{"amount": 1, "currency": "USD"}]}
    assert client.post(ITEMS, json=body, headers=client.admin()).status == 413
    body["name"] = {"en": "x"}
    assert client.post(ITEMS, json=body, headers=client.admin()).status == 201


def test_large_requests_are_read_and_validated_outside_the_store_lock(spec: Spec, validator: Validator) -> None:
    client = app_client(spec, validator, seed=1, empty=False)
    engine = engine_of(client.app)
    held_during_validation: list[bool] = []
    validate = engine.validator.validate_request

    def probe() -> None:  # another thread: can it take the store's lock now?
        taken = engine.store._lock.acquire(timeout=1)
        held_during_validation.append(not taken)
        if taken:
            engine.store._lock.release()

    def watched(request, **options):
        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return validate(request, **options)

    engine.validator.validate_request = watched
    items = [{"sku": "gold_100", "quantity": 1}] * 25_000  # close to the 1 MiB limit
    answer = client.put(f"/v2/project/{PROJECT}/cart/fill", json={"items": items}, headers=client.user())
    assert answer.status == 200
    assert held_during_validation == [False]


# ------------------------------------------------------------- the server


def test_idle_keep_alive_connections_never_stall_the_next_client(cli_server) -> None:
    """A test suite's pool of idle keep-alive connections (here 150, more than waitress' default
    limit of 100) must not make the next client wait for an idle timeout."""
    with cli_server("mock", "--empty") as url:
        idle = [_keep_alive(url) for _ in range(150)]
        started = time.monotonic()
        answer = requests.get(f"{url}/__mock__/clock", timeout=10)
        assert answer.status_code == 200 and time.monotonic() - started < 5
        for sock in idle:
            sock.close()


def test_at_the_connection_limit_the_longest_idle_connections_make_room(cli_server) -> None:
    with cli_server("mock", "--empty", "--connection-limit", "20", "--idle-timeout", "300") as url:
        idle = [_keep_alive(url) for _ in range(30)]
        for _ in range(5):
            assert requests.get(f"{url}/__mock__/clock", timeout=10).status_code == 200
        for sock in idle:
            sock.close()
    result = _cli(["mock", "--help"])
    assert "[default: 1000" in result and "--idle-timeout" in result


def _keep_alive(url: str) -> socket.socket:
    host, port = url.rsplit("/", 1)[-1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET /__mock__/clock HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    return sock


def _cli(args: list[str]) -> str:
    from click.testing import CliRunner

    from xsolla_contract.toolkit.cli import main

    return CliRunner().invoke(main, args, terminal_width=200).output


def test_server_layer_errors_come_in_the_api_format(cli_server) -> None:
    with cli_server("mock", "--empty") as url:
        host, port = url.rsplit("/", 1)[-1].split(":")
        for raw, status in (
            (b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n", 413),
        ):
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(raw)
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.split(b" ")[1] == str(status).encode(), answer
            assert b"Content-Type: application/json" in head
            assert json.loads(body)["statusCode"] == status


def test_the_banner_prints_the_control_token_off_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bound to every address, the mock makes a control token and prints it (tests bind no such
    address: the banner is printed without serving)."""
    from xsolla_contract.toolkit import cli

    served: dict = {}

    def listen_nowhere(app, what, host, port, serving, ident):
        served.update(app=app, serving=serving)
        return type("Unbound", (), {"effective_port": 8080})()

    monkeypatch.setattr(cli, "_listen", listen_nowhere)
    monkeypatch.setattr(cli, "_run", lambda server: None)
    out = _cli(["mock", "--host", "0.0.0.0", "--empty", "--max-body", "5000", "--connection-limit", "1500"])
    token = next(line.split("control token: ")[1].split()[0] for line in out.splitlines() if "control token:" in line)
    client = ContractClient(Validator(Spec.from_path()), app=served["app"], check=False)
    assert client.call("POST", "/__mock__/reset").status == 401
    assert client.call("POST", "/__mock__/reset", headers={"Authorization": f"Bearer {token}"}).status == 200
    assert served["serving"] == {"threads": 8, "connection_limit": 1500, "idle_timeout": 60, "max_body_bytes": 5000}
    loopback = _cli(["mock", "--empty"])
    assert "control token" not in loopback and "/__mock__/" in loopback
    given = _cli(["mock", "--empty", "--control-token", "s3cret"])
    assert "control token: s3cret" in given
    assert "/__mock__/#token=s3cret  (dashboard)" in given  # the dashboard's address carries it in the fragment


def test_exposure_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, spec: Spec, validator: Validator
) -> None:
    monkeypatch.setenv("XSOLLA_MOCK_CORS_ORIGINS", "http://a.test:1, http://b.test:2")
    monkeypatch.setenv("XSOLLA_MOCK_ALLOW_HOSTS", "mock.test")
    monkeypatch.setenv("XSOLLA_MOCK_MAX_BODY_BYTES", "100")
    client = app_client(spec, validator)
    for origin in ("http://a.test:1", "http://b.test:2"):
        assert client.get(CATALOG, headers={"Origin": origin}).headers["access-control-allow-origin"] == origin
    assert client.get(CATALOG, headers={"Host": "mock.test"}).status == 200
    assert client.post(ITEMS, json={"sku": "x" * 200}, headers=client.admin()).status == 413


def test_the_latency_range_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from xsolla_contract.mocks.app import config_from_env

    monkeypatch.setenv("XSOLLA_MOCK_LATENCY_MS", "20")
    monkeypatch.setenv("XSOLLA_MOCK_LATENCY_MAX_MS", "80")
    config = config_from_env(MockConfig())
    assert (config.latency_ms, config.latency_max_ms) == (20, 80)


def test_mocks_started_together_on_a_new_sqlite_file_seed_it_once(cli_server, tmp_path: Path, spec: Spec) -> None:
    state = f"sqlite:{tmp_path / 'shared.sqlite'}"
    urls: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def run() -> None:
        try:
            with cli_server("mock", "--state", state, "--seed", "1") as url:
                urls.append(url)
                stop.wait(120)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(urls) + len(errors) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert not errors and len(urls) == 3
        alone = engine_of(create_app(spec, config=MockConfig(seed=1))).store.export()["records"]
        for url in urls:
            records = requests.get(f"{url}/__mock__/state", timeout=30).json()["records"]
            assert sorted(r[:3] for r in records) == sorted(r[:3] for r in alone)  # seeded once, not twice
            assert requests.get(f"{url}/api{CATALOG}", timeout=30).status_code == 200
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
