"""Fixtures shared by the test suite.

`api` is a ContractClient on an empty mock (state reset before each test) that
checks every response against the spec; tests that use it run twice: in process
(Flask test client) and against a live server on 127.0.0.1 (a free port).
"""

from __future__ import annotations

import os

import pytest

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient, MockServer
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
