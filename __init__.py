"""xsolla_contract: contract testing for Xsolla's LiveOps and Catalog APIs.

Subpackages:
    xsolla_contract.spec     the bundled OpenAPI description (package data)
    xsolla_contract.toolkit  spec loading, validation, fuzz suites, pytest plugin, CLI
    xsolla_contract.mocks    the stateful mock server
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
