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


def documents(out: str) -> list:
    """The JSON documents a session printed, one after another (answers are compact or not)."""
    decoder, docs, at = json.JSONDecoder(), [], 0
    while (at := len(out) - len(out[at:].lstrip())) < len(out):
        doc, at = decoder.raw_decode(out, at)
        docs.append(doc)
    return docs


def test_coupon_session(seeded_server: MockServer) -> None:
    docs = documents(run_session("coupon", seeded_server))
    assert {"external_id": "summer"} in docs and {"code": "SUMMER2026"} in docs
    redeemed = next(d for d in docs if "items" in d and d["items"] and "quantity" in d["items"][0])
    assert [i["sku"] for i in redeemed["items"]] == ["gold"]  # the bonus the redemption granted
    assert any(d.get("errorCode") == 9804 for d in docs)  # the second redemption
    per_code = next(d for d in docs if "items" in d and d["items"] and "per_code" in d["items"][0])["items"]
    assert {"code": "SUMMER2026", "per_code": {"total": 10, "available": 9, "used": 1, "reserved": 0}} in per_code
    assert docs[-1] == {"per_user": {"total": 1, "available": 0}}


def test_purchase_session(seeded_server: MockServer) -> None:
    docs = documents(run_session("purchase", seeded_server))
    listed = next(d for d in docs if d.get("items") and d["items"][0].get("sku") == "flame_sword")
    assert listed["items"][0]["name"] == "Flammenschwert"  # the catalog in German
    shown = next(d for d in docs if d.get("sku") == "flame_sword" and "price" in d)
    assert shown["price"]["amount"] == "8.00" and shown["price"]["amount_without_discount"] == "10.00"  # discount
    assert [d["status"] for d in docs if "status" in d] == ["new", "paid", "paid"]  # get, control call, get


def test_pytest_snippet_is_the_example_test() -> None:
    snippet = block_after("example: examples/store_client/test_store_client.py::test_checkout", "python")
    source = (ROOT / "examples" / "store_client" / "test_store_client.py").read_text()
    function = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "test_checkout")
    lines = source.splitlines()[function.decorator_list[0].lineno - 1 : function.end_lineno]
    assert snippet.strip() == "\n".join(lines).strip()


def test_coverage_table_is_the_spec(spec: Spec) -> None:
    table = README.split("<!-- coverage: xsolla-contract spec info --markdown -->\n", 1)[1].split("\n\n", 1)[0]
    assert table.strip() == coverage_table(spec).strip()
