"""The README's examples are tests: its curl sessions run against a live mock, its pytest snippet
is the example project's test, and its coverage table is what the spec has."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.cli import coverage_table
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import MockServer

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def block_after(marker: str, language: str) -> str:
    match = re.search(rf"<!-- {re.escape(marker)} -->\n```{language}\n(.*?)```", README, re.S)
    assert match, f"no {language} block after <!-- {marker} -->"
    return match.group(1)


@pytest.fixture(scope="module")
def seeded_server(spec: Spec):
    with MockServer(create_app(spec, config=MockConfig(seed=1))) as server:
        yield server


def run_session(name: str, server: MockServer) -> str:
    script = block_after(f"session: {name}", "bash")
    env = {
        **os.environ,
        "BASE": f"{server.url}/api",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_coupon_session(seeded_server: MockServer) -> None:
    out = run_session("coupon", seeded_server)
    assert '"external_id": "summer"' in out and '"code": "SUMMER2026"' in out
    assert '"sku": "gold"' in out  # the bonus the redemption granted
    assert '"errorCode": 9804' in out  # the second redemption
    assert '"code": "SUMMER2026", "per_code": {"total": 10, "available": 9, "used": 1' in out
    assert out.rstrip().endswith('{"per_user": {"total": 1, "available": 0}}')


def test_purchase_session(seeded_server: MockServer) -> None:
    out = run_session("purchase", seeded_server)
    assert '"name": "Flammenschwert"' in out  # the catalog in German
    assert '"amount": "8.00", "amount_without_discount": "10.00"' in out  # the discount in the catalog price
    assert re.findall(r'"status": "(\w+)"', out) == ["new", "paid", "paid"]  # get, control call, get


def test_faults_session(seeded_server: MockServer) -> None:
    out = run_session("faults", seeded_server).splitlines()
    assert out[1].startswith('{"errorCode": 0, "errorMessage": "[0401-0000]: Service Unavailable", "statusCode": 503')
    assert out[1].endswith(" -> 503") and out[2] == "200"  # exactly the next list failed
    assert out[5] == "connection dropped (curl exit 52)"  # the newest rule first: no answer at all
    status, _, seconds = out[6].partition(" after ")
    assert status == "200" and float(seconds.rstrip("s")) >= 0.3  # then the slow rule of player-1
    fired = [(rule["id"], rule["fired"]) for rule in json.loads(out[7])["faults"]]
    assert fired == [(1, 1), (2, 1), (3, 1)]
    assert "get-virtual-items      2  200 x1 / 401 422 / 503 x1 (1 injected)" in out
    assert "get-user-cart          2  200 x1 / 401 422 / dropped x1" in out


def test_fuzz_session(seeded_server: MockServer) -> None:
    out = run_session("fuzz", seeded_server)
    assert "227/227 operations exercised, 227/227 reached a documented 2xx" in out and ", 0 failures" in out
    assert Path("/tmp/xsolla-fuzz/coverage.json").is_file() and "Reports: /tmp/xsolla-fuzz/junit.xml" in out


EXAMPLES = re.findall(r"<!-- example: (\S+)::(\w+) -->", README)


@pytest.mark.parametrize(("path", "name"), EXAMPLES, ids=[name for _, name in EXAMPLES])
def test_pytest_snippets_are_the_example_tests(path: str, name: str) -> None:
    snippet = block_after(f"example: {path}::{name}", "python")
    source = (ROOT / path).read_text()
    function = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    first = function.decorator_list[0].lineno if function.decorator_list else function.lineno
    lines = source.splitlines()[first - 1 : function.end_lineno]
    assert snippet.strip() == "\n".join(lines).strip()


def test_coverage_table_is_the_spec(spec: Spec) -> None:
    table = README.split("<!-- coverage: xsolla-contract spec info --markdown -->\n", 1)[1].split("\n\n", 1)[0]
    assert table.strip() == coverage_table(spec).strip()
