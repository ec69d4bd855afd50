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
from xsolla_contract.toolkit.testing import ContractClient, MockServer, ServerProcess
from xsolla_contract.toolkit.validation import Validator

pytest_plugins = ["pytester"]

PROJECT = 44056


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("XSOLLA_CONTRACT_CACHE", str(tmp_path_factory.mktemp("spec-cache")))


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
def running_cli(command: str, *args: str) -> Iterator[str]:
    """`xsolla-contract COMMAND ARGS --port 0` in a process of its own; yields its root URL once its
    banner is out, and stops it (SIGTERM) at the end."""
    import sys

    executable = str(Path(sys.executable).parent / "xsolla-contract")
    ready = (lambda line: "/__mock__/" in line) if command == "mock" else None
    with ServerProcess([executable, command, *args, "--port", "0"], ready=ready) as server:
        assert server.url is not None
        yield server.url.removesuffix("/api")


@pytest.fixture(scope="session")
def cli_server():
    """`cli_server("mock", "--seed", "1")` as a context manager: a mock (or proxy) started from the command line."""
    return running_cli


# `make test` runs the files side by side (pytest-xdist, one file per worker at a time); the
# longest start first so that the workers finish together.
LONGEST_FIRST = ("tests/test_install.py", "tests/test_fuzz.py", "tests/test_spec.py", "tests/test_docs.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file and among the others stays
