"""pytest plugin for client projects (registered under `pytest11`; idle unless used).

Fixtures:
    xsolla_spec       the resolved spec (session)
    xsolla_mock       a live mock on 127.0.0.1 (one per session, state reset for each test):
                      .url, .admin_auth, .user_token(user, **attrs), .load(fixtures), .requests, .clock,
                      .fault(operation, status=, latency_ms=, disconnect=, times=, ...), .coverage()
    xsolla_app        an in-process Flask test client of a fresh mock
    xsolla_validator  validates a requests/httpx response: .validate(r), .assert_valid(r)
    xsolla_webhooks   a webhook receiver on 127.0.0.1 the mock delivers to (per test): .url, .received,
                      .wait_for(n, event=...), .answer_with(500, 204), .configure(mode=..., user_validation=...)
    xsolla_webhook_app     override to return your WSGI webhook handler; the receiver serves it
    xsolla_webhook_secret  override to choose the secret the mock signs with

Marker:
    @pytest.mark.xsolla_contract   every HTTP exchange the test makes through requests or
                                   httpx is validated against the spec; a violation fails the test

Configuration (command line > environment > ini):
    --xsolla-base-url / XSOLLA_BASE_URL / xsolla_base_url   run against a real sandbox, not the mock
    --xsolla-spec     / XSOLLA_SPEC     / xsolla_spec       another spec file
    --xsolla-seed     / XSOLLA_SEED     / xsolla_seed       seed of the mock's generated project
    XSOLLA_BASIC (PROJECT_ID:API_KEY) and XSOLLA_TOKEN give credentials for a real sandbox.

Coverage (what the session's calls to the mock exercised, against what the spec documents):
    --xsolla-coverage                 print a table at the end and write JSON and Markdown reports
    --xsolla-coverage-json PATH       (default xsolla-coverage.json)
    --xsolla-coverage-markdown PATH   (default xsolla-coverage.md)
    --xsolla-coverage-scope LIST      / xsolla_coverage_scope: operationIds, patterns, tags, Catalog/LiveOps
    --xsolla-coverage-min PCT         fail the session when fewer operations of the scope were called
    --xsolla-coverage-min-responses PCT   ... or fewer of their documented statuses were answered
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from .validation import ContractViolation, HttpRequest, ValidationResult, Validator, as_request, as_response

SETTINGS = {"base_url": "XSOLLA_BASE_URL", "spec": "XSOLLA_SPEC", "seed": "XSOLLA_SEED"}
MARKERS = {
    "xsolla_contract": "validate every HTTP exchange of the test (requests, httpx sync and async) against the spec; "
    "a violation fails the test",
}
_state_key = pytest.StashKey[dict[str, Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xsolla-contract", "Xsolla contract testing")
    group.addoption("--xsolla-base-url", help="Run xsolla fixtures against this server instead of the mock.")
    group.addoption("--xsolla-spec", help="OpenAPI description to use (default: the bundled one).")
    group.addoption("--xsolla-seed", type=int, help="Seed of the mock's generated project (default 1).")
    group.addoption(
        "--xsolla-coverage",
        action="store_true",
        help="Report which operations and documented statuses the session's calls to the mock exercised.",
    )
    group.addoption(
        "--xsolla-coverage-json",
        metavar="PATH",
        default="xsolla-coverage.json",
        help="Where --xsolla-coverage writes its JSON report (default: xsolla-coverage.json).",
    )
    group.addoption(
        "--xsolla-coverage-markdown",
        metavar="PATH",
        default="xsolla-coverage.md",
        help="Where --xsolla-coverage writes its Markdown report (default: xsolla-coverage.md).",
    )
    group.addoption(
        "--xsolla-coverage-scope",
        metavar="LIST",
        help="Operations the coverage is about: operationIds or patterns (get-virtual-*), tags (cart), "
        "APIs (Catalog, LiveOps), comma-separated (default: every operation of the spec).",
    )
    group.addoption(
        "--xsolla-coverage-min",
        metavar="PCT",
        type=float,
        help="Fail the session when fewer than PCT percent of the scope's operations were called "
        "(implies --xsolla-coverage).",
    )
    group.addoption(
        "--xsolla-coverage-min-responses",
        metavar="PCT",
        type=float,
        help="Fail the session when fewer than PCT percent of the scope's documented responses "
        "(operation and status) were answered (implies --xsolla-coverage).",
    )
    parser.addini("xsolla_coverage_scope", "Operations the coverage report is about (see --xsolla-coverage-scope).")
    parser.addini("xsolla_base_url", "Base URL of a real sandbox to use instead of the mock.")
    parser.addini("xsolla_spec", "OpenAPI description to use (default: the bundled one).")
    parser.addini("xsolla_seed", "Seed of the mock's generated project.")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    config.stash[_state_key] = {}
    if _coverage_wanted(config):
        from .coverage import select
        from .spec import Spec

        try:
            select(Spec.from_path(_setting(config, "spec")), _coverage_scope(config))
        except ValueError as exc:
            raise pytest.UsageError(f"--xsolla-coverage-scope: {exc}") from None


def _setting(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"xsolla_{name}")
    if value is None:
        value = os.environ.get(SETTINGS[name]) or config.getini(f"xsolla_{name}") or None
    return None if value is None else str(value)


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def xsolla_spec(pytestconfig: pytest.Config):
    """The resolved spec (`--xsolla-spec`, else the bundled one).

    `.operations` (by operationId), `.operation(id)`, `.find(method, path)`, `.document`."""
    from .spec import Spec

    return Spec.from_path(_setting(pytestconfig, "spec"))


@pytest.fixture(scope="session")
def _xsolla_validator(pytestconfig: pytest.Config, xsolla_spec) -> Validator:
    state = pytestconfig.stash[_state_key]
    if "validator" not in state:
        state["validator"] = Validator(xsolla_spec)
    return state["validator"]


class _Clock:
    def __init__(self, engine: Any):
        self._engine = engine

    def now(self) -> datetime:
        return self._engine.clock().now()

    def advance(self, by: float | str) -> datetime:
        """Move the mock's time forward by seconds or an ISO 8601 duration ('P1D', 'PT6H')."""
        from ..mocks.control import parse_duration

        return self._engine.move_clock(seconds=parse_duration(by))

    def set(self, moment: datetime) -> datetime:
        return self._engine.move_clock(to=moment)


@dataclass
class MockHandle:
    """What `xsolla_mock` gives a test."""

    url: str  # Base URL of the API, ending in /api (the mock's, or --xsolla-base-url).
    project_id: int  # The project the test's data belongs to.
    api_key: str  # The API key of admin_auth.
    engine: Any = None  # The mock's engine (None against a real server).
    token: str | None = None  # The user token from XSOLLA_TOKEN (against a real server).

    @property
    def admin_auth(self) -> tuple[str, str]:
        """Basic credentials for admin calls: `requests.get(url, auth=xsolla_mock.admin_auth)`."""
        return (str(self.project_id), self.api_key)

    def user_token(self, user: str = "user-1", **attributes: Any) -> str:
        """A user JWT (attributes become the user's attributes for personalization)."""
        if self.engine is None:
            if self.token is None:
                pytest.skip("no user token for the real server: set XSOLLA_TOKEN")
            return self.token
        from ..mocks.auth import mint_token

        return mint_token(
            user, project=self.project_id, attributes=attributes or None, secret=self.engine.config.jwt_secret
        )

    def _need_mock(self, what: str) -> Any:
        if self.engine is None:
            pytest.skip(f"{what} needs the mock (tests run against {self.url})")
        return self.engine

    def load(self, fixture_data: dict[str, Any]) -> None:
        """Load fixtures (the `--fixtures` format) into the mock."""
        from ..mocks.fixtures import load_fixtures

        load_fixtures(self._need_mock("load()"), fixture_data)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The mock's journal of this test's requests (operation, status, violations, the fault rule that fired)."""
        return self._need_mock("the request journal").journal.entries()

    @property
    def clock(self) -> _Clock:
        """The mock's clock: `.now()`, `.advance(seconds or "P1D")`, `.set(datetime)`."""
        return _Clock(self._need_mock("the clock"))

    def fault(
        self,
        operation: str | None = None,
        *,
        status: int | None = None,
        latency_ms: float | tuple[float, float] | list[float] | None = None,
        disconnect: bool | str | None = None,
        times: int | None = None,
        user: str | None = None,
        project_id: int | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> Fault:
        """Make the mock answer `operation` (every operation when None) with an error `status`,
        late (`latency_ms`: ms or (min, max)), or not at all (`disconnect`: True / "before" /
        "after"), `times` times (default: until removed), for one `user` / `project_id` only
        if given. Use it `with xsolla_mock.fault(...):` to remove the rule on leaving the block;
        otherwise it lasts until the end of the test. ValueError names what is wrong with a rule.
        """
        engine = self._need_mock("fault()")
        given = {
            "operation": operation,
            "status": status,
            "errorCode": error_code,
            "errorMessage": error_message,
            "latency_ms": list(latency_ms) if isinstance(latency_ms, tuple) else latency_ms,
            "disconnect": disconnect,
            "times": times,
            "user": user,
            "project_id": project_id,
        }
        return Fault(engine, engine.faults.add({k: v for k, v in given.items() if v is not None}))

    def coverage(self, scope: str | None = None) -> dict[str, Any]:
        """What this session's calls to the mock exercised so far (the `GET /__mock__/coverage` report)."""
        from .coverage import report

        engine = self._need_mock("coverage()")
        return report(engine.spec, engine.coverage, scope)

    def set_order_status(self, order_id: int, status: str) -> None:
        """Set an order's status as the payment system would (`"paid"`, `"done"`, `"canceled"`, `"expired"`);
        a new order's move to paid/done is a payment (user validation first, then webhooks)."""
        from ..mocks.payments import set_status
        from ..mocks.rules import orders

        engine = self._need_mock("changing order status")
        assert status in orders.STATUSES, status
        set_status(engine, self.project_id, order_id, status)

    def pay(self, order_id: int, action: str = "pay", **details: Any) -> Any:
        """Play the payment side (`mocks.payments.settle`): pay, decline, cancel, refund, partial_refund."""
        from ..mocks.payments import settle

        return settle(self._need_mock("the payment side"), self.project_id, order_id, action, **details)

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        """What the mock delivered: every attempt (event, body, answer, time, attempt), oldest first,
        once those due now were attempted."""
        engine = self._need_mock("the webhook journal")
        engine.webhooks.settle()
        return engine.webhooks.journal()["webhooks"]


class Fault:
    """A fault rule a test added (`xsolla_mock.fault(...)`); as a context manager, removed on exit."""

    def __init__(self, engine: Any, rule: Any):
        self._engine, self.rule = engine, rule

    @property
    def id(self) -> int:
        return self.rule.id

    @property
    def fired(self) -> int:
        """How often the rule fired so far."""
        return self.rule.fired

    @property
    def remaining(self) -> int | None:
        """How often it still will (None: until removed)."""
        return self.rule.remaining

    def remove(self) -> None:
        self._engine.faults.remove(self.rule.id)

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<fault rule {self._engine.faults.describe(self.rule)}>"


@pytest.fixture(scope="session")
def _xsolla_mock_server(pytestconfig: pytest.Config, xsolla_spec) -> Iterator[tuple[Any, Any]]:
    if _setting(pytestconfig, "base_url"):
        yield None, None
        return
    from ..mocks import MockConfig, create_app
    from .testing import MockServer

    seed = int(_setting(pytestconfig, "seed") or 1)
    app = create_app(xsolla_spec, config=MockConfig(seed=seed))
    _count_coverage(pytestconfig, app)
    with MockServer(app) as server:
        pytestconfig.stash[_state_key].setdefault("hosts", set()).add(f"{server.host}:{server.port}")
        yield app, server


@pytest.fixture
def xsolla_mock(pytestconfig: pytest.Config, _xsolla_mock_server) -> Iterator[MockHandle]:
    """A live mock on 127.0.0.1 (one per session, seeded), back to its start state for each test.

    With `--xsolla-base-url` the same handle points at that server instead (credentials from
    `XSOLLA_BASIC` and `XSOLLA_TOKEN`); what needs the mock (clock, journal, order status,
    `load`) skips the test there."""
    app, server = _xsolla_mock_server
    if app is None:
        from .fuzz import Credentials

        creds = Credentials.from_env()
        yield MockHandle(
            _setting(pytestconfig, "base_url").rstrip("/"), creds.project_id, creds.api_key, token=creds.token
        )
        return
    from ..mocks import engine_of
    from ..mocks.control import initialise

    engine = engine_of(app)
    initialise(engine, force=True)  # state, clock and journal back to the start
    yield MockHandle(f"{server.url}/api", engine.config.project_id, "test-key", engine=engine)
    server.raise_errors()  # an error in the server thread fails the test that caused it


@pytest.fixture
def xsolla_app(request: pytest.FixtureRequest, xsolla_spec) -> Any:
    """An in-process Flask test client of a fresh mock (its engine is `client.application.config['ENGINE']`)."""
    from ..mocks import MockConfig, create_app

    app = create_app(xsolla_spec, config=MockConfig(seed=1))
    _count_coverage(request.config, app)
    return app.test_client()


@pytest.fixture
def xsolla_webhook_secret() -> str:
    """The secret the mock signs webhooks with in `xsolla_webhooks` (override to use your own)."""
    return os.environ.get("XSOLLA_WEBHOOK_SECRET") or "xsolla-contract-test-secret"


@pytest.fixture
def xsolla_webhook_app() -> Any:
    """Your webhook handler as a WSGI app (Flask, Django's WSGIHandler, ...); None: a well-behaved stand-in."""
    return None


class WebhookHandle:
    """What `xsolla_webhooks` gives a test: the receiver the mock delivers to, and its settings."""

    def __init__(self, receiver: Any, mock: MockHandle, secret: str):
        self.receiver, self.mock, self.secret = receiver, mock, secret

    @property
    def url(self) -> str:
        """The receiver's webhook URL (the project's webhook URL in the mock)."""
        return self.receiver.url

    @property
    def received(self) -> list[Any]:
        """What arrived, oldest first: `.event`, `.body`, `.json()`, `.headers`, `.signature_ok`, `.status`."""
        return self.receiver.received

    def events(self) -> list[str | None]:
        """The `notification_type` of each notification that arrived."""
        return self.receiver.events()

    def wait_for(self, count: int = 1, timeout: float = 10.0, event: str | None = None) -> list[Any]:
        """Wait until `count` notifications (of `event`) arrived at the receiver."""
        return self.receiver.wait_for(count, timeout, event)

    def answer_with(self, *statuses: Any) -> None:
        """Queue the stand-in's next answers (a status, or (status, JSON body)); 204 afterwards."""
        self.receiver.answer_with(*statuses)

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change the project's webhook settings: mode ("combined"/"separate"), user_validation, url, secret."""
        engine = self.mock.engine
        return engine.webhooks.configure(self.mock.project_id, **settings).view(self.mock.project_id)


@pytest.fixture
def xsolla_webhooks(
    xsolla_mock: MockHandle, xsolla_webhook_app: Any, xsolla_webhook_secret: str
) -> Iterator[WebhookHandle]:
    """A receiver on a free port of 127.0.0.1 (serving `xsolla_webhook_app` when given); the mock's
    project sends its webhooks there, signed with `xsolla_webhook_secret`."""
    from .webhooks import WebhookReceiver

    engine = xsolla_mock._need_mock("webhooks from the mock")
    with WebhookReceiver(xsolla_webhook_secret, xsolla_webhook_app) as receiver:
        engine.webhooks.configure(
            xsolla_mock.project_id,
            url=receiver.url,
            secret=xsolla_webhook_secret,
            mode="combined",
            user_validation=False,
        )
        yield WebhookHandle(receiver, xsolla_mock, xsolla_webhook_secret)
        engine.webhooks.settle(timeout=5)
    receiver.raise_errors()


class ResponseValidator:
    """Validates responses of `requests` / `httpx` (the request is read from the response)."""

    def __init__(self, validator: Validator):
        self.validator = validator

    def validate(self, response: Any, request: Any = None) -> ValidationResult:
        """The violations of one exchange (the request is read from the response unless given)."""
        return (
            self.validator.validate_response(request, response)
            if request is not None
            else self.validator.validate_response(response)
        )

    def assert_valid(self, response: Any, request: Any = None) -> ValidationResult:
        """Like `validate`, but raise `ContractViolation` (an AssertionError) on any violation."""
        return self.validate(response, request).raise_for_violations()


@pytest.fixture
def xsolla_validator(_xsolla_validator: Validator) -> ResponseValidator:
    """Checks `requests`/`httpx` responses (and their requests) against the spec."""
    return ResponseValidator(_xsolla_validator)


# ---------------------------------------------------------- the marker


class _Recorder:
    """Captures the exchanges of requests and httpx (sync and async) while a marked test runs."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[HttpRequest, Any]] = []

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import httpx
        import requests

        recorder = self
        original_send = requests.Session.send

        def requests_send(session: Any, request: Any, **kwargs: Any) -> Any:
            response = original_send(session, request, **kwargs)
            recorder.exchanges.append((as_request(request), as_response(response)))
            return response

        original_httpx = httpx.Client.send

        def httpx_send(client: Any, request: Any, **kwargs: Any) -> Any:
            response = original_httpx(client, request, **kwargs)
            response.read()
            recorder.exchanges.append((as_request(request), as_response(response)))
            return response

        original_async = httpx.AsyncClient.send

        async def httpx_async_send(client: Any, request: Any, **kwargs: Any) -> Any:
            response = await original_async(client, request, **kwargs)
            await response.aread()
            recorder.exchanges.append((as_request(request), as_response(response)))
            return response

        monkeypatch.setattr(requests.Session, "send", requests_send)
        monkeypatch.setattr(httpx.Client, "send", httpx_send)
        monkeypatch.setattr(httpx.AsyncClient, "send", httpx_async_send)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    marker = item.get_closest_marker("xsolla_contract")
    if marker is None:
        return (yield)
    monkeypatch = pytest.MonkeyPatch()
    recorder = _Recorder()
    recorder.patch(monkeypatch)
    try:
        result = yield
    finally:
        monkeypatch.undo()
    state = item.config.stash[_state_key]
    if "validator" not in state:
        from .spec import Spec

        state["validator"] = Validator(Spec.from_path(_setting(item.config, "spec")))
    validator: Validator = state["validator"]
    hosts = set(item.config.stash[_state_key].get("hosts", set()))
    base_url = _setting(item.config, "base_url")
    if base_url:
        from urllib.parse import urlsplit

        hosts.add(urlsplit(base_url).netloc)
    from ..mocks.faults import FAULT_HEADER

    violations = []
    for request, response in recorder.exchanges:
        if hosts and request.host not in hosts:
            continue
        if FAULT_HEADER in response.headers:  # an answer a fault rule made on purpose, not the API's
            continue
        checked = validator.validate_response(request, response)
        violations += checked.violations
    if violations:
        raise ContractViolation(
            f"{item.nodeid}: {len(violations)} contract violation(s) in {len(recorder.exchanges)} HTTP exchange(s)",
            violations,
        )
    return result


# ---------------------------------------------------------------- coverage


def _coverage_wanted(config: pytest.Config) -> bool:
    return bool(
        config.getoption("xsolla_coverage")
        or config.getoption("xsolla_coverage_min") is not None
        or config.getoption("xsolla_coverage_min_responses") is not None
    )


def _coverage_scope(config: pytest.Config) -> str | None:
    return config.getoption("xsolla_coverage_scope") or config.getini("xsolla_coverage_scope") or None


def _count_coverage(config: pytest.Config, app: Any) -> None:
    """Keep the coverage count of a mock this session started (its engine may go before the session ends)."""
    from ..mocks import engine_of

    config.stash[_state_key].setdefault("tallies", []).append(engine_of(app).coverage)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if not _coverage_wanted(config) or hasattr(config, "workerinput"):  # xdist workers: each has its own mock
        return
    from .coverage import Tally, report, shortfalls, table, write_reports
    from .spec import Spec

    state = config.stash[_state_key]
    tally = Tally()
    for counted in state.get("tallies", []):
        tally.merge(counted)
    data = report(Spec.from_path(_setting(config, "spec")), tally, _coverage_scope(config))
    lines = [table(data)]
    if not state.get("tallies"):
        base_url = _setting(config, "base_url")
        lines.append("no call reached the mock" + (f" (this session ran against {base_url})" if base_url else ""))
    base = config.invocation_params.dir
    failed = []
    try:
        written = write_reports(
            data, base / config.getoption("xsolla_coverage_json"), base / config.getoption("xsolla_coverage_markdown")
        )
        lines.append(f"reports: {' and '.join(map(str, written))}")
    except OSError as exc:
        failed.append(f"cannot write the coverage report: {exc}")
    failed += shortfalls(
        data, config.getoption("xsolla_coverage_min"), config.getoption("xsolla_coverage_min_responses")
    )
    lines += [f"FAILED: {problem}" for problem in failed]
    state["coverage_lines"] = lines
    if failed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    lines = config.stash[_state_key].get("coverage_lines")
    if lines:
        terminalreporter.section("xsolla-contract API coverage")
        for line in lines:
            terminalreporter.write_line(line)
