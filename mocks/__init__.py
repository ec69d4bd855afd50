"""The stateful mock of the LiveOps and Catalog APIs.

from xsolla_contract.mocks import create_app
app = create_app(seed=1)            # a Flask app serving every operation of the spec
"""

from .app import create_app, engine_of
from .auth import DOCS_TEST_TOKEN, mint_token
from .context import ApiError
from .engine import Engine, MockConfig
from .store import MemoryStore, SqliteStore, open_store

__all__ = [
    "DOCS_TEST_TOKEN",
    "ApiError",
    "Engine",
    "MemoryStore",
    "MockConfig",
    "SqliteStore",
    "create_app",
    "engine_of",
    "mint_token",
    "open_store",
]
