"""Exceptions of the toolkit: small, typed, and saying what went wrong and where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ContractError(Exception):
    """Base class of every error the toolkit raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a spec: where it is and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class SpecError(ContractError):
    """The spec could not be loaded; `problems` lists every reason found."""

    headline = "The OpenAPI description is not usable"

    def __init__(self, source: str, problems: Sequence[Problem | object]):
        self.source = source
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.headline}: {self.source}"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class DanglingReferencesError(SpecError):
    headline = "Unresolvable $ref (use lenient mode to accept them as 'anything')"


class SpecValidationError(SpecError):
    headline = "The OpenAPI description is invalid"


class UnknownOperationError(ContractError, KeyError):
    """An operationId that the spec does not have; suggests the nearest ones."""

    def __init__(self, operation_id: str, suggestions: Sequence[str]):
        self.operation_id = operation_id
        self.suggestions = list(suggestions)
        super().__init__(operation_id)

    def __str__(self) -> str:
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"Unknown operation {self.operation_id!r}.{hint}"


def api_error(status: int, code: int, message: str, extended: object = None) -> dict[str, object]:
    """An error body in the service's format: errorCode, errorMessage, statusCode[, errorMessageExtended]."""
    body: dict[str, object] = {"errorCode": code, "errorMessage": message, "statusCode": status}
    if extended is not None:
        body["errorMessageExtended"] = extended
    return body
