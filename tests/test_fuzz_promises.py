"""The fuzz suite against deliberately broken servers: the real mock with one fault each.

Each fault breaks one promise of the API. The suite runs against the faulty server over
HTTP, as against a sandbox project (`--base-url`, `--prepare`), and must fail, naming
the operation and the check that caught it. A run against the same mock without a fault
passes, so each failure is the fault's.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from werkzeug.wrappers import Request, Response

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import MockServer

Fault = Callable[["FaultyServer", str, Request, dict[str, Any]], Response | None]


class FaultyServer:
    """A WSGI app in front of a mock: `fault(server, operation_id, request, environ)` may answer
    instead of the mock (or change its answer, calling `server.forward`)."""

    def __init__(self, spec: Spec, fault: Fault):
        self.spec = spec
        self.fault = fault
        self.mock = create_app(spec, config=MockConfig(seed=1))
        self.twin = create_app(spec, config=MockConfig(empty=True, seed=None))  # where lost creates go
        self.remembered: dict[str, bytes] = {}

    def forward(self, environ: dict[str, Any], app: Any = None) -> Response:
        return Response.from_app(app or self.mock, environ)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        match = self.spec.find(request.method, re.sub(r"^/api", "", request.path))
        operation = match.operation.operation_id if match else ""
        answer = self.fault(self, operation, request, environ) or self.forward(environ)
        return answer(environ, start_response)


def lost_create(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    """A coupon create answers 201 but keeps nothing (it went to another store)."""
    return server.forward(environ, server.twin) if operation == "admin-create-coupon" else None


def lost_delete(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    """A coupon delete answers 204 and deletes nothing (it is refused as a read of the coupon would be)."""
    if operation != "delete-coupon-promotion":
        return None
    found = server.forward({**environ, "REQUEST_METHOD": "GET"})
    return Response(status=204) if found.status_code == 200 else found


def ignored_limit(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    """The client list of virtual items answers every item, whatever `limit` asks."""
    if operation != "get-virtual-items":
        return None
    query = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", "")) if k not in ("limit", "offset")]
    environ["QUERY_STRING"] = urlencode(query)
    return server.forward(environ)


def unbounded_redemption(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    """A coupon redemption past the user's limit is answered as the first one was."""
    if operation != "redeem-coupon":
        return None
    code = (request.get_json(silent=True) or {}).get("coupon_code", "")
    answer = server.forward(environ)
    if answer.status_code == 200:
        server.remembered[code] = answer.get_data()
    elif code in server.remembered:
        return Response(server.remembered[code], status=200, mimetype="application/json")
    return answer


def foreign_errors(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    """Not-found answers of the region calls come in a format of their own."""
    answer = server.forward(environ)
    if operation.startswith("admin-") and "region" in operation and answer.status_code == 404:
        return Response(json.dumps({"message": "Not found"}), status=404, mimetype="application/json")
    return answer


def dropped_sku(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    """A catalog item comes without its SKU."""
    answer = server.forward(environ)
    if operation == "get-virtual-items-sku" and answer.status_code == 200:
        item = json.loads(answer.get_data())
        item.pop("sku", None)
        return Response(json.dumps(item), status=200, mimetype="application/json")
    return answer


def no_fault(server: FaultyServer, operation: str, request: Request, environ: dict) -> Response | None:
    return None


def fuzz(server: MockServer, tmp_path: Path, *tags: str, options: tuple[str, ...] = ()) -> tuple[int, str, dict]:
    """`xsolla-contract fuzz` against the server, in a process of its own as a pipeline runs it
    (the random phases then depend on --seed only, not on this test process)."""
    args = [str(Path(sys.executable).parent / "xsolla-contract"), "fuzz", "--base-url", f"{server.url}/api"]
    args += ["--prepare", "--max-examples", "1", "--seed", "1", "--report-dir", str(tmp_path), "--progress", "lines"]
    args += [*options, *(arg for tag in tags for arg in ("--include-tag", tag))]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "coverage.json").read_text())
    return done.returncode, done.stdout + done.stderr, report


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.from_path()


@pytest.mark.parametrize(
    ("fault", "tags", "operation", "check"),
    [
        pytest.param(
            lost_create,
            ["promotions-coupons"],
            "admin-create-coupon",
            "ensure_resource_availability",
            id="lost-create",
        ),
        pytest.param(
            lost_delete, ["promotions-coupons"], "delete-coupon-promotion", "use_after_free", id="lost-delete"
        ),
        pytest.param(ignored_limit, ["virtual-items-currency"], "get-virtual-items", "list_limit", id="ignored-limit"),
        pytest.param(
            unbounded_redemption,
            ["promotions-coupons"],
            "redeem-coupon",
            "redemption_limit",
            id="unbounded-redemption",
        ),
        pytest.param(foreign_errors, ["regions"], "admin-get-region", "api_error_format", id="non-api-error-format"),
        pytest.param(
            dropped_sku,
            ["virtual-items-currency"],
            "get-virtual-items-sku",
            "response_schema_conformance",
            id="missing-required-field",
        ),
    ],
)
def test_the_suite_fails_a_broken_server_naming_operation_and_check(
    spec: Spec, tmp_path: Path, fault: Fault, tags: list[str], operation: str, check: str
) -> None:
    with MockServer(FaultyServer(spec, fault)) as server:
        code, output, report = fuzz(server, tmp_path, *tags, options=("--phases", "workflows"))
    assert code == 1, output[-3000:]
    summary = output.split("Per-operation coverage", 1)[1]
    failing = [line for line in summary.splitlines() if line.startswith("FAIL ")]
    assert any(line.split()[1] == operation for line in failing), summary
    block = summary.split(f"FAIL {operation} ", 1)[1].split("\n", 1)[1]
    assert f"       {check}: " in block.split("\nok ", 1)[0].split("\nFAIL", 1)[0], summary
    label = f"{spec.operation(operation).method} {spec.operation(operation).path}"
    assert any(f["check"] == check and f["operation"] == label for f in report["failures"]), report["failures"]


def test_the_same_groups_pass_against_the_mock_without_a_fault(spec: Spec, tmp_path: Path) -> None:
    """The whole suite but the stateful phase (see above) passes the same mock without a fault."""
    with MockServer(FaultyServer(spec, no_fault)) as server:
        code, output, report = fuzz(server, tmp_path, "promotions-coupons", "virtual-items-currency", "regions")
    assert code == 0, output[-3000:]
    assert report["failures"] == []
    assert report["success"]["reached"] == report["success"]["total"]
