"""What the benchmarks send and compare against is what the API exchanges (timing is never tested)."""

from __future__ import annotations

from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.validation import Validator


def test_the_validation_benchmark_measures_valid_exchanges(spec: Spec) -> None:
    from bench import validation

    validator = Validator(spec, verdicts=0)
    for name, (request, response) in validation.exchanges(spec).items():
        result = validator.validate_response(request, response)
        assert [v for v in result.violations if v.kind != "security"] == [], name
