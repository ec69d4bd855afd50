"""Fixtures shared by the test suite.

`api` is a ContractClient on an empty mock (state reset before each test) that
checks every response against the spec; tests that use it run twice: in process
(Flask test client) and against a live server on 127.0.0.1 (a free port).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient, MockServer, free_port
from xsolla_contract.toolkit.validation import Validator

pytest_plugins = ["pytester"]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PROJECT = 44056


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("XSOLLA_CONTRACT_CACHE", str(tmp_path_factory.mktemp("spec-cache")))


@pytest.fixture(scope="session")
def reference() -> Path:
    """../shared/reference (operation lists, documented errors), beside the repository in CI."""
    path = SHARED / "reference"
    if not path.is_dir():
        pytest.skip("../shared/reference is not beside the repository")
    return path


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.from_path()


@pytest.fixture(scope="session")
def validator(spec: Spec) -> Validator:
    return Validator(spec)


@pytest.fixture(scope="session")
def mock_app(spec: Spec):
    return create_app(spec, config=MockConfig(empty=True, seed=None, project_id=PROJECT))


@pytest.fixture(scope="session")
def live_server(mock_app):
    with MockServer(mock_app) as server:
        yield server


@pytest.fixture(params=["app", "live"])
def api(request: pytest.FixtureRequest, mock_app, validator: Validator) -> ContractClient:
    if request.param == "app":
        client = ContractClient(validator, app=mock_app, project_id=PROJECT)
    else:
        server = request.getfixturevalue("live_server")
        client = ContractClient(validator, base_url=server.url, project_id=PROJECT)
    client.reset()
    yield client
    if request.param == "live":
        request.getfixturevalue("live_server").raise_errors()


@pytest.fixture
def app_api(mock_app, validator: Validator) -> ContractClient:
    """In process only (for tests that don't need both transports)."""
    client = ContractClient(validator, app=mock_app, project_id=PROJECT)
    client.reset()
    return client


@contextmanager
def running_cli(command: str, *args: str, port: int | None = None, ready: str = "/__mock__/clock") -> Iterator[str]:
    """`xsolla-contract COMMAND ARGS --port P` in a process of its own; yields its URL once it answers
    `ready`, and stops it (SIGTERM) at the end."""
    import signal
    import subprocess
    import sys
    import time

    import requests

    port = port or free_port()
    executable = str(Path(sys.executable).parent / "xsolla-contract")
    process = subprocess.Popen(
        [executable, command, *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"xsolla-contract {command} exited: {process.stdout.read()}")
            try:
                requests.get(url + ready, timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        process.stdout.close()


@pytest.fixture(scope="session")
def cli_server():
    """`cli_server("mock", "--seed", "1")` as a context manager: a mock (or proxy) started from the command line."""
    return running_cli
