"""The README's examples are tests: its curl sessions run against a live mock, its pytest snippet
is the example project's test, and its coverage table is what the spec has."""

from __future__ import annotations

import ast
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


def test_pay_page_session(seeded_server: MockServer) -> None:
    out = run_session("pay-page", seeded_server)
    page = re.search(r"(http://\S+/paystation4/\?token=\w+)$", out, re.M)
    assert page and page.group(1).startswith(seeded_server.url)
    assert re.search(r"^303 https://game\.example/thanks\?user_id=player-3&invoice_id=\d+&status=done$", out, re.M), out


def test_pytest_snippet_is_the_example_test() -> None:
    snippet = block_after("example: examples/store_client/test_store_client.py::test_checkout", "python")
    source = (ROOT / "examples" / "store_client" / "test_store_client.py").read_text()
    function = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "test_checkout")
    lines = source.splitlines()[function.decorator_list[0].lineno - 1 : function.end_lineno]
    assert snippet.strip() == "\n".join(lines).strip()


def test_coverage_table_is_the_spec(spec: Spec) -> None:
    table = README.split("<!-- coverage: xsolla-contract spec info --markdown -->\n", 1)[1].split("\n\n", 1)[0]
    assert table.strip() == coverage_table(spec).strip()
