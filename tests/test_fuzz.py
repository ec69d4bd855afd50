"""The fuzz suites: clean against the mock, failing (and saying why) against broken servers."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask, Response, request

from xsolla_contract.toolkit.cli import main
from xsolla_contract.toolkit.testing import MockServer

ITEM = {
    "type": "object",
    "required": ["sku", "name"],
    "properties": {"sku": {"type": "string"}, "name": {"type": "string"}},
}
ERROR = {
    "type": "object",
    "required": ["errorCode", "errorMessage", "statusCode"],
    "properties": {
        "errorCode": {"type": "integer"},
        "errorMessage": {"type": "string"},
        "statusCode": {"type": "integer"},
    },
}


def error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


# A tiny spec of one secured operation, built for these tests only.
TINY_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "tiny store", "version": "1"},
    "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
    "paths": {
        "/v2/project/{project_id}/items/sku/{sku}": {
            "get": {
                "operationId": "get-tiny-item",
                "tags": ["tiny"],
                "security": [{"basicAuth": []}],
                "parameters": [
                    {"name": "project_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "sku",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z_]{1,20}$"},
                    },
                ],
                "responses": {
                    "200": {"description": "The item.", "content": {"application/json": {"schema": ITEM}}},
                    "401": error_response("No credentials."),
                    "422": error_response("Invalid parameters."),
                },
            }
        }
    },
}


def broken_store(flaw: str) -> Flask:
    """A server of the tiny spec with one deliberate flaw."""
    app = Flask(f"broken-{flaw}")

    def error(status: int) -> Response:
        body = {"errorCode": status, "errorMessage": "refused", "statusCode": status}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    @app.errorhandler(404)
    @app.errorhandler(405)
    def http_error(exc: Any) -> Response:  # answered in the API's error format, like every other error
        return error(exc.code)

    @app.get("/v2/project/<project_id>/items/sku/<sku>")
    def item(project_id: str, sku: str) -> Response:
        if (
            not project_id.isdigit()
            or int(project_id) < 1
            or not sku.replace("_", "").isalpha()
            or len(sku) > 20
            or sku != sku.lower()
        ):
            return error(422)
        credential = "Basic " + base64.b64encode(b"44056:key").decode()
        if flaw != "ignores-auth" and request.headers.get("Authorization") != credential:
            return error(401)
        body = {"sku": sku, "name": "Sword"}
        if flaw == "drops-field":
            del body["name"]
        if flaw == "undocumented-status":
            return Response(json.dumps(body), status=202, mimetype="application/json")
        if flaw == "wrong-content-type":
            return Response("<p>Sword</p>", mimetype="text/html")
        return Response(json.dumps(body), mimetype="application/json")

    return app


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_SPEC))
    return path


def fuzz_tiny(spec: Path, url: str, junit: Path, report_dir: Path) -> Any:
    """`xsolla-contract fuzz` of the tiny spec against a server of it: positive and negative data."""
    args = ["fuzz", "--spec", str(spec), "--base-url", url, "--auth-basic", "44056:key", "--max-examples", "5"]
    args += ["--seed", "3", "--negative", "--junit", str(junit), "--report-dir", str(report_dir)]
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize(
    ("flaw", "check"),
    [
        pytest.param("drops-field", "ST108 Response violates schema", id="drops-a-required-field"),
        pytest.param("undocumented-status", "ST103 Undocumented status code", id="undocumented-status"),
        pytest.param("ignores-auth", "API accepts requests without authentication", id="ignores-auth"),
        pytest.param("wrong-content-type", "Undocumented Content-Type", id="wrong-content-type"),
    ],
)
def test_fuzz_fails_on_a_broken_server_naming_operation_and_check(
    tmp_path: Path, tiny_spec: Path, flaw: str, check: str
) -> None:
    junit = tmp_path / "junit.xml"
    with MockServer(broken_store(flaw)) as server:
        result = fuzz_tiny(tiny_spec, server.url, junit, tmp_path / "report")
    assert result.exit_code == 1, result.output
    failing = [line for line in result.output.splitlines() if line.startswith("FAIL ")]
    assert failing and "get-tiny-item" in failing[0]
    assert check in result.output.split("Per-operation coverage", 1)[1]
    # the JUnit report names the operation and carries the failure
    cases = ElementTree.parse(junit).getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == ["GET /v2/project/{project_id}/items/sku/{sku}"]
    assert cases[0].find("failure") is not None and check in ElementTree.tostring(cases[0], encoding="unicode")


def test_fuzz_passes_on_a_correct_server(tmp_path: Path, tiny_spec: Path) -> None:
    junit = tmp_path / "junit.xml"
    with MockServer(broken_store("none")) as server:
        result = fuzz_tiny(tiny_spec, server.url, junit, tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "1/1 operations exercised" in result.output and "0 failures" in result.output
    assert f"Reports: {junit}, {tmp_path / 'report' / 'coverage.json'}," in result.output  # --junit: what is printed
    case = ElementTree.parse(junit).getroot().find(".//testcase")
    assert case is not None and case.find("failure") is None


def test_read_only_selects_get_operations() -> None:
    from xsolla_contract.toolkit.fuzz import FuzzOptions, selected_operations
    from xsolla_contract.toolkit.spec import Spec

    spec = Spec.from_path()
    chosen = selected_operations(spec, FuzzOptions(read_only=True))
    assert chosen and all(spec.operation(op).method == "GET" for op in chosen)
    tagged = selected_operations(spec, FuzzOptions(include_tags=("cart",)))
    assert tagged == {op.operation_id for op in spec.operations.values() if op.tag == "cart"}


def test_python_entry_point_for_client_projects(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import base64

        from xsolla_contract.toolkit.fuzz import contract_schema, mock_app

        schema = contract_schema(app=mock_app(seed=2), max_examples=3).include(
            operation_id=["get-virtual-items", "admin-get-virtual-items-list", "get-coupons"])

        ADMIN = "Basic " + base64.b64encode(b"44056:fuzz-key").decode()

        @schema.parametrize()
        def test_api(case):
            response = case.call_and_validate()  # every answer conforms to the spec
            if (case.headers or {}).get("Authorization") == ADMIN:  # set per operation by the schema
                assert response.status_code != 401, response.text
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=3)


def test_fuzz_against_the_mock_in_process_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What CI proves on every change, on a small budget: every operation reaches a success
    answer, positive and negative data, stateful sequences per group, no failure. Its progress
    lines are printed as they come when pytest runs in one process (`make test` runs files side
    by side and shows only its outcome); the full budget runs in `make fuzz`."""
    command = [
        str(Path(sys.executable).parent / "xsolla-contract"),
        "fuzz",
        "--app",
        "mock",
        "--stateful",
        "--negative",
        "--max-examples",
        "1",
        "--stateful-time",
        "2",
        "--seed",
        "1",
        "--min-success-coverage",
        "100",
        "--progress",
        "lines",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        with capsys.disabled():
            print()
            for line in process.stdout:  # type: ignore[union-attr]
                lines.append(line)
                if not line.startswith(("ok   ", "FAIL ", "no2x ", "none ", "       ")):
                    print(f"    {line}", end="", flush=True)
    output = "".join(lines)
    summary = output.split("Per-operation coverage", 1)[-1]
    assert process.returncode == 0, summary[-4000:]
    assert "227/227 operations exercised, 227/227 reached a documented 2xx" in summary and ", 0 failures" in summary
    for phase in ("Workflows:", "Examples:", "Coverage:", "Fuzzing:", "Stateful:", "Cleanup:"):
        assert phase in output  # a line per phase ...
    assert "  promotions-coupons " in output  # ... and per group
    junit = tmp_path / "report" / "junit.xml"
    cases = ElementTree.parse(junit).getroot().findall(".//testcase")
    assert len(cases) >= 227 and not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    names = [c.get("name", "") for c in cases]
    assert "Stateful tests: promotions-coupons" in names and "Workflow: promotions-coupons" in names
    assert sum(n.startswith("Stateful tests: ") for n in names) >= 20  # one state machine per group


# A tiny spec of a resource that is created, read and deleted, linked like the real one.
ITEM_PATH = "/v2/project/{project_id}/admin/things/{sku}"
THING = {
    "type": "object",
    "required": ["sku", "name"],
    "properties": {"sku": {"type": "string", "pattern": "^[a-z_]{1,20}$"}, "name": {"type": "string"}},
}
CRUD_SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "tiny crud", "version": "1"},
    "components": {"securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}}},
    "security": [{"basicAuth": []}],
    "paths": {
        "/v2/project/{project_id}/admin/things": {
            "post": {
                "operationId": "create-thing",
                "tags": ["things"],
                "parameters": [TINY_SPEC["paths"]["/v2/project/{project_id}/items/sku/{sku}"]["get"]["parameters"][0]],
                "requestBody": {"required": True, "content": {"application/json": {"schema": THING}}},
                "responses": {
                    "201": {
                        "description": "Created.",
                        "content": {"application/json": {"schema": THING}},
                        "links": {
                            name: {
                                "operationId": op,
                                "parameters": {"project_id": "$request.path.project_id", "sku": "$response.body#/sku"},
                            }
                            for name, op in (("GetThing", "get-thing"), ("DeleteThing", "delete-thing"))
                        },
                    },
                    "401": error_response("No credentials."),
                    "422": error_response("Invalid."),
                },
            }
        },
        ITEM_PATH: {
            "parameters": TINY_SPEC["paths"]["/v2/project/{project_id}/items/sku/{sku}"]["get"]["parameters"],
            "get": {
                "operationId": "get-thing",
                "tags": ["things"],
                "responses": {
                    "200": {"description": "The thing.", "content": {"application/json": {"schema": THING}}},
                    "401": error_response("No credentials."),
                    "404": error_response("Not found."),
                    "422": error_response("Invalid."),
                },
            },
            "delete": {
                "operationId": "delete-thing",
                "tags": ["things"],
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": error_response("No credentials."),
                    "404": error_response("Not found."),
                    "422": error_response("Invalid."),
                },
            },
        },
    },
}


def broken_things(flaw: str) -> Flask:
    """A server of the CRUD spec that loses its creates or its deletes."""
    app = Flask(f"things-{flaw}")
    things: dict[str, dict] = {}
    credential = "Basic " + base64.b64encode(b"44056:key").decode()

    def error(status: int) -> Response:
        body = {"errorCode": status, "errorMessage": "refused", "statusCode": status}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def valid_sku(sku: Any) -> bool:
        return isinstance(sku, str) and re.fullmatch("[a-z_]{1,20}", sku) is not None

    @app.errorhandler(404)
    @app.errorhandler(405)
    def http_error(exc: Any) -> Response:
        return error(exc.code)

    @app.before_request
    def authenticate() -> Response | None:
        if request.headers.get("Authorization") != credential:
            return error(401)
        project = request.path.split("/")[3]
        if not project.isdigit() or int(project) < 1:
            return error(422)
        return None

    @app.post("/v2/project/<project_id>/admin/things")
    def create(project_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not valid_sku(body.get("sku")):
            return error(422)
        if flaw != "lost-create":
            things[body["sku"]] = {"sku": body["sku"], "name": body["name"]}
        return Response(json.dumps({"sku": body["sku"], "name": body["name"]}), status=201, mimetype="application/json")

    @app.route("/v2/project/<project_id>/admin/things/<sku>", methods=["GET", "DELETE"])
    def thing(project_id: str, sku: str) -> Response:
        if not valid_sku(sku):
            return error(422)
        if sku not in things:
            return error(404)
        if request.method == "DELETE":
            if flaw != "lost-delete":
                del things[sku]
            return Response(status=204)
        return Response(json.dumps(things[sku]), mimetype="application/json")

    return app


@pytest.mark.parametrize(
    ("flaw", "operation", "check"),
    [
        pytest.param("lost-create", "create-thing", "ensure_resource_availability", id="lost-create"),
        pytest.param("lost-delete", "delete-thing", "use_after_free", id="lost-delete"),
        pytest.param("none", "", "", id="no-flaw"),
    ],
)
def test_state_machines_check_that_creates_and_deletes_hold(
    tmp_path: Path, flaw: str, operation: str, check: str
) -> None:
    """schemathesis' own sequences along the links (the stateful phase) catch a lost create and a
    lost delete: its resource checks are on."""
    spec = tmp_path / "crud.yaml"
    spec.write_text(yaml.safe_dump(CRUD_SPEC))
    with MockServer(broken_things(flaw)) as server:
        result = CliRunner().invoke(
            main,
            [
                "fuzz",
                "--spec",
                str(spec),
                "--base-url",
                server.url,
                "--auth-basic",
                "44056:key",
                "--phases",
                "stateful",
                "--stateful",
                "--stateful-examples",
                "20",
                "--stateful-time",
                "60",
                "--seed",
                "1",
                "--report-dir",
                str(tmp_path / "report"),
            ],
        )
    if not operation:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    summary = result.output.split("Per-operation coverage", 1)[1]
    assert f"FAIL {operation} " in summary and f"       {check}: " in summary, summary
    failures = json.loads((tmp_path / "report" / "coverage.json").read_text())["failures"]
    assert [f["case"] for f in failures if f["check"] == check] == ["Stateful tests: things"]
