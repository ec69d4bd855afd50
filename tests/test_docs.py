"""The documentation is tested the way a reader uses it.

Every fenced code block of README.md, docs/*.md and examples/*/README.md runs as it is
written: shell blocks in a plain `bash` (strict mode) from the repository root, with a
PATH that does not contain the project's .venv (so a block must say `.venv/bin/...`),
against a freshly reset seeded mock when the block uses `$BASE` or `$MOCK` (the
variables default to `make mock`'s addresses in the blocks themselves). A comment on the
line before a block says what else it is:

    <!-- session: NAME -->        a shell session whose output a test below checks
    <!-- run: server -->          starts a server: run until it prints the URL it serves,
                                  check that the URL answers, stop it
    <!-- example: PATH::TEST -->  a Python block that is that test function, verbatim
    <!-- not run: REASON -->      cannot run here; the reason is required

`text` blocks show output or usage and are not run; `yaml`/`json` blocks must parse;
a Python block without an `example` mark runs with the project's Python. Any other
language needs a mark. The reference parts of docs/ must match the code they are
generated from, and the shipped fixtures example must load into a mock.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.cli import coverage_table
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import ContractClient, MockServer, ServerProcess
from xsolla_contract.toolkit.validation import Validator

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("examples/*/README.md"))]
SHELLS = ("bash", "sh", "shell", "console")
FENCE = re.compile(r"^(?P<marks>(?:<!-- [^\n]*? -->\n)*)```(?P<lang>[\w-]*)\n(?P<code>.*?)^```$", re.S | re.M)
MARK = re.compile(r"<!-- (?P<key>session|run|example|not run): ?(?P<value>[^\n]*?) -->")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int
    lang: str
    code: str
    marks: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    def mark(self, key: str) -> str | None:
        return next((value for k, value in self.marks if k == key), None)

    @property
    def needs_mock(self) -> bool:
        return bool(re.search(r"\$\{?(BASE|MOCK)\b", self.code))


def blocks_of(document: Path) -> list[Block]:
    text = document.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        marks = tuple((m.group("key"), m.group("value").strip()) for m in MARK.finditer(match.group("marks")))
        line = text.count("\n", 0, match.start("lang")) + 1
        found.append(Block(document, line, match.group("lang"), match.group("code"), marks))
    return found


BLOCKS = [block for document in DOCUMENTS for block in blocks_of(document)]


def named(name: str) -> Block:
    block = next((b for b in BLOCKS if b.mark("session") == name), None)
    assert block is not None, f"no block marked <!-- session: {name} -->"
    return block


# ------------------------------------------------------------------ running


def plain_env(**extra: str) -> dict[str, str]:
    """A shell's environment without the project's virtual environment on PATH."""
    ours = Path(sys.executable).parent.resolve()
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != ours]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return {**env, "PATH": os.pathsep.join(path), **extra}


@pytest.fixture(scope="module")
def seeded_server(spec: Spec):
    with MockServer(create_app(spec, config=MockConfig(seed=1))) as server:
        yield server


_OUTPUTS: dict[str, str] = {}


def run_shell(block: Block, server: MockServer | None) -> str:
    """Run a shell block once (its output is kept for the tests that check it, and for
    another block with the same commands, such as `.venv/bin/pytest examples/store_client`)."""
    if block.code in _OUTPUTS:
        return _OUTPUTS[block.code]
    extra = {name: str(_free_port()) for name in ("PORT", "MOCK_PORT") if f"${{{name}:-" in block.code}
    if server is not None:
        for method, path in (("POST", "reset"), ("DELETE", "coverage")):  # as right after `make mock`
            urllib.request.urlopen(urllib.request.Request(f"{server.url}/__mock__/{path}", method=method), timeout=60)
        extra.update(BASE=f"{server.url}/api", MOCK=server.url)
    # Output goes to files and the block runs in its own process group: servers a failing block
    # started in the background neither hold the test up nor outlive it.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        shell = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", block.code],
            cwd=ROOT,
            env=plain_env(**extra),
            stdout=out,
            stderr=err,
            text=True,
            start_new_session=True,
        )
        try:
            returncode = shell.wait(timeout=300)
        except subprocess.TimeoutExpired:
            returncode = None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(shell.pid, signal.SIGTERM)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    assert returncode == 0, f"{block.id} failed ({returncode or 'timed out'}):\n{stdout}\n{stderr}"
    _OUTPUTS[block.code] = stdout
    return stdout


def _free_port() -> int:
    """For blocks that start their own servers on `${PORT:-...}`: a free port of 127.0.0.1."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_server(block: Block) -> None:
    """Start the block's server on a free port, check that it answers where it says, stop it."""
    env = plain_env(XSOLLA_MOCK_PORT="0")  # `make mock` and `xsolla-contract mock` alike
    with ServerProcess(["bash", "-c", block.code], env=env, cwd=ROOT, group=True) as server:
        try:
            urllib.request.urlopen(server.url, timeout=30).close()
        except urllib.error.HTTPError:
            pass  # any HTTP answer means it serves (the API root itself is a 404 in the API's format)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_code_block_works_as_written(block: Block, request: pytest.FixtureRequest) -> None:
    reason = block.mark("not run")
    if reason is not None:
        assert reason, f"{block.id}: <!-- not run: ... --> needs a reason"
        pytest.skip(f"not run: {reason}")
    if block.mark("example") is not None:
        assert block.lang == "python", block.id
        assert_example(block)
    elif block.mark("run") == "server":
        run_server(block)
    elif block.lang in SHELLS:
        run_shell(block, request.getfixturevalue("seeded_server") if block.needs_mock else None)
    elif block.lang == "python":
        done = subprocess.run([sys.executable, "-c", block.code], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{block.id}:\n{done.stdout}\n{done.stderr}"
    elif block.lang in ("yaml", "yml"):
        yaml.safe_load(block.code)
    elif block.lang == "json":
        json.loads(block.code)
    elif block.lang == "text":
        pass  # output or usage shown to the reader
    else:
        pytest.fail(f"{block.id}: a ```{block.lang} block: mark what it is (see this module's docstring)")


def test_not_run_marks_are_rare() -> None:
    skipped = [b.id for b in BLOCKS if b.mark("not run") is not None]
    runnable = [b for b in BLOCKS if b.lang != "text"]
    assert len(skipped) * 5 <= len(runnable), skipped


def assert_example(block: Block) -> None:
    path, _, name = block.mark("example").partition("::")
    source = (ROOT / path).read_text()
    function = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    first = function.decorator_list[0].lineno if function.decorator_list else function.lineno
    lines = source.splitlines()[first - 1 : function.end_lineno]
    assert block.code.strip() == "\n".join(lines).strip(), f"{block.id} differs from {path}::{name}"


# -------------------------------------------------- what the sessions show


def json_values(out: str) -> list:
    """The JSON answers a session printed one after the other (curl adds no newline)."""
    decoder, values, rest = json.JSONDecoder(), [], out.strip()
    while rest:
        value, end = decoder.raw_decode(rest)
        values.append(value)
        rest = rest[end:].lstrip()
    return values


def test_coupon_session(seeded_server: MockServer) -> None:
    docs = json_values(run_shell(named("coupon"), seeded_server))  # answers are compact JSON, errors not
    assert {"external_id": "summer"} in docs and {"code": "SUMMER2026"} in docs
    redeemed = next(d for d in docs if d.get("items") and "quantity" in d["items"][0])
    assert [i["sku"] for i in redeemed["items"]] == ["gold"]  # the bonus the redemption granted
    assert any(d.get("errorCode") == 9804 for d in docs)  # the second redemption
    per_code = next(d for d in docs if d.get("items") and "per_code" in d["items"][0])["items"]
    assert {"code": "SUMMER2026", "per_code": {"total": 10, "available": 9, "used": 1, "reserved": 0}} in per_code
    assert docs[-1] == {"per_user": {"total": 1, "available": 0}}


def test_purchase_session(seeded_server: MockServer) -> None:
    block = named("purchase")
    out = run_shell(block, seeded_server)
    answers = json_values(out)
    listed = next(a for a in answers if a.get("items") and a["items"][0].get("sku") == "flame_sword")
    assert listed["items"][0]["name"] == "Flammenschwert"  # the catalog in German
    shown = next(a for a in answers if a.get("sku") == "flame_sword" and "price" in a)
    assert shown["price"]["amount"] == "8.00" and shown["price"]["amount_without_discount"] == "10.00"  # discount
    assert [a["status"] for a in answers if "status" in a] == ["new", "paid", "paid"]  # get, control call, get
    # what the comments say of the promo code: listed in the cart, but the item's own 20% wins
    cart = next(a for a in answers if "rewards" in a)  # the promo code's redemption
    assert cart["rewards"]["discount"] == {"percent": "10.00"}
    assert [p["name"] for p in cart["promotions"]] == ["Extra 10"]
    assert cart["price"] == {"amount": "16.00", "amount_without_discount": "20.00", "currency": "USD"}
    assert [i["price"]["amount"] for i in cart["items"]] == ["8.00"]
    assert answers[-1]["content"]["price"]["amount"] == "16.00"  # the order
    assert "best discount applies" in block.code and "16.00" in block.code


def test_pay_page_session(seeded_server: MockServer) -> None:
    out = run_shell(named("pay-page"), seeded_server).splitlines()
    assert re.fullmatch(re.escape(seeded_server.url) + r"/paystation4/\?token=[0-9a-f]{32}", out[0]), out
    assert re.fullmatch(r"303 https://game\.example/thanks\?user_id=player-3&invoice_id=\d+&status=done", out[1]), out


def test_faults_session(seeded_server: MockServer) -> None:
    out = run_shell(named("faults"), seeded_server).splitlines()
    assert out[1].startswith('{"errorCode": 0, "errorMessage": "[0401-0000]: Service Unavailable", "statusCode": 503')
    assert out[1].endswith(" -> 503") and out[2] == "200"  # exactly the next list failed
    assert out[5] == "connection dropped (curl exit 52)"  # the newest rule first: no answer at all
    status, _, seconds = out[6].partition(" after ")
    assert status == "200" and float(seconds.rstrip("s")) >= 0.3  # then the slow rule of player-1
    fired = [(rule["id"], rule["fired"]) for rule in json.loads(out[7])["faults"]]
    assert fired == [(1, 1), (2, 1), (3, 1)]
    assert "get-virtual-items      2  200 x1 / 401 422 / 503 x1 (1 injected)" in out
    assert "get-user-cart          2  200 x1 / 401 422 / dropped x1" in out


def test_fuzz_session() -> None:
    out = run_shell(named("fuzz"), None)
    assert "227/227 operations exercised, 227/227 reached a documented 2xx" in out and ", 0 failures" in out
    assert "Reports: /tmp/xsolla-fuzz/junit.xml" in out and Path("/tmp/xsolla-fuzz/coverage.json").is_file()


def test_webhook_check_session() -> None:
    out = run_shell(named("webhook-check"), None)
    assert "ok   user_validation of a test user" in out and "ok   duplicate gets the same answer" in out
    assert out.rstrip().endswith("8 passed, 0 failed")


def test_webhook_purchase_session() -> None:
    out = run_shell(named("webhook-purchase"), None).splitlines()
    assert json.loads(out[0]) == {
        "order_id": 1,
        "action": "pay",
        "accepted": True,
        "status": "paid",
        "message": "paid",
        "invoice_id": "1",
    }
    assert out[1:] == ["order_paid attempt 1 -> 204 delivered", '{"frozen_hammer":1}']


def test_coverage_table_is_the_spec(spec: Spec) -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- coverage: xsolla-contract spec info --markdown -->\n", 1)[1].split("\n\n", 1)[0]
    assert table.strip() == coverage_table(spec).strip()


# --------------------------------------------------------- reference docs


def _reference_docs():
    spec = importlib.util.spec_from_file_location("reference_docs", ROOT / "maintainer" / "reference_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_docs_match_the_code() -> None:
    stale = _reference_docs().stale()
    assert not stale, f"stale: {', '.join(str(p.relative_to(ROOT)) for p in stale)}; run `make docs`"


def test_every_generated_region_is_in_the_docs() -> None:
    docs = _reference_docs()
    text = "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    assert {m.group("name") for m in docs.REGION.finditer(text)} == set(docs.RENDERERS)


def test_reference_names_every_command_option_and_control_endpoint() -> None:
    import click

    from xsolla_contract.toolkit.cli import main

    cli = (ROOT / "docs" / "cli.md").read_text()
    pending = [(main, "xsolla-contract")]
    while pending:
        command, path = pending.pop()
        assert f"`{path}`" in cli, path
        for param in command.params:
            if isinstance(param, click.Option):
                assert all(opt in cli for opt in param.opts), (path, param.opts)
        if isinstance(command, click.Group):
            pending += [(sub, f"{path} {name}") for name, sub in command.commands.items()]
    control = (ROOT / "docs" / "control-api.md").read_text()
    app = create_app(config=MockConfig(empty=True, seed=None))
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__mock__"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert f"`{method} {path}`" in control, (method, path)


def test_a_missing_help_text_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from xsolla_contract.toolkit.cli import main

    docs = _reference_docs()
    option = next(p for p in main.commands["mock"].params if p.name == "threads")
    monkeypatch.setattr(option, "help", None)
    with pytest.raises(docs.DocsError, match="--threads: an option without a help text"):
        docs.render_cli()


# ---------------------------------------------------------------- fixtures


EXAMPLE_FIXTURES = ROOT / "examples" / "fixtures" / "store.yaml"


@pytest.fixture(scope="module")
def example_api(spec: Spec, validator: Validator) -> ContractClient:
    app = create_app(spec, config=MockConfig(fixtures=str(EXAMPLE_FIXTURES), seed=None))
    assert app.config["START_STATE"].startswith(f"fixtures {EXAMPLE_FIXTURES} (")
    return ContractClient(validator, app=app, project_id=yaml.safe_load(EXAMPLE_FIXTURES.read_text())["project_id"])


def test_fixtures_example_uses_every_section() -> None:
    from xsolla_contract.mocks.fixtures import SECTIONS

    data = yaml.safe_load(EXAMPLE_FIXTURES.read_text())
    assert set(data) == {s for s, _ in SECTIONS} | {"project_id", "balances"}
    documented = (ROOT / "docs" / "fixtures.md").read_text()
    used = set(re.findall(r"^\s+(_\w+):", EXAMPLE_FIXTURES.read_text(), re.M))
    assert used and all(f"`{key}" in documented for key in used), used


def test_fixtures_example_loads_into_the_mock(example_api: ContractClient) -> None:
    api, player = example_api, example_api.user("player-1")
    item = api.get(api.path("/v2/project/{project_id}/items/virtual_items/sku/moon_blade"), headers=player)
    assert item.data["price"] == {"amount": "3.99", "amount_without_discount": "4.99", "currency": "USD"}  # _active
    hidden = api.get(api.path("/v2/project/{project_id}/items/bundle/sku/hero_pack"), headers=player)
    assert hidden.status == 404  # a unique offer's item, hidden until its code is entered
    codes = api.get(api.path("/v2/project/{project_id}/admin/coupon/welcome/code"), headers=api.admin())
    assert codes.data["total_count"] == 4 and {"code": "WELCOME1"} in codes.data["codes"]  # _codes + _generate
    redeemed = api.post(api.path("/v2/project/{project_id}/coupon/redeem"), {"coupon_code": "WELCOME1"}, headers=player)
    assert redeemed.status == 200, redeemed.data
    assert api.control("GET", "users/player-1")["inventory"] == {"crystals": 1100, "healing_draught": 2}  # balances


def test_fixtures_error_names_the_entry_and_the_api_message(tmp_path: Path, spec: Spec) -> None:
    from xsolla_contract.mocks.fixtures import FixtureError

    broken = yaml.safe_load(EXAMPLE_FIXTURES.read_text())
    del broken["virtual_items"][0]["vc_prices"][0]["is_enabled"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(FixtureError) as caught:
        create_app(spec, config=MockConfig(fixtures=str(path)))
    message = str(caught.value)  # as docs/fixtures.md shows it
    assert message.startswith("virtual_items[0]: admin-create-virtual-item refused it (422): ")
    assert "'is_enabled' is a required property" in message


def test_fixtures_help_says_where_to_look() -> None:
    from xsolla_contract.toolkit.cli import main

    option = next(p for p in main.commands["mock"].params if p.name == "fixtures")
    assert "docs/fixtures.md" in option.help and "examples/fixtures/store.yaml" in option.help
    assert (ROOT / "docs" / "fixtures.md").is_file() and EXAMPLE_FIXTURES.is_file()
