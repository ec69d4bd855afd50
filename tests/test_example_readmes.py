"""The shell sessions of the examples' READMEs, run as they are written (with free ports)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def session(readme: Path, name: str) -> str:
    match = re.search(rf"<!-- session: {re.escape(name)} -->\n```bash\n(.*?)```", readme.read_text(), re.S)
    assert match, f"no bash block after <!-- session: {name} --> in {readme}"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(script: str, **env: str) -> str:
    """Run a block in bash from the repository's root; whatever it started in the background
    is stopped with it (its own process group)."""
    if not (ROOT / ".venv" / "bin" / "xsolla-contract").exists():
        pytest.skip("the README's blocks call .venv/bin/... (make setup creates it)")
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=180)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, out
    return out


GAME_SERVER = ROOT / "examples" / "game_server" / "README.md"


def test_the_webhook_battery_session() -> None:
    out = run(session(GAME_SERVER, "check"), PORT=str(free_port()))
    assert out.rstrip().endswith("8 passed, 0 failed")
    assert "ok   user_validation of a test user" in out


def test_the_mock_notifies_the_game_session() -> None:
    out = run(session(GAME_SERVER, "purchase"), PORT=str(free_port()), MOCK_PORT=str(free_port()))
    assert '"accepted": true' in out and '"status": "paid"' in out
    assert "order_paid attempt 1 -> 204 delivered" in out
    assert out.rstrip().endswith('{"frozen_hammer":1}')


def test_the_readmes_webhook_snippet_is_the_example_test() -> None:
    import ast

    marker = "examples/game_server/test_game_server.py::test_a_purchase_through_the_mock_reaches_the_game"
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- example: {re.escape(marker)} -->\n```python\n(.*?)```", readme, re.S)
    assert match, "the README shows the example's end-to-end test"
    source = (ROOT / "examples" / "game_server" / "test_game_server.py").read_text()
    name = marker.rsplit("::", 1)[1]
    function = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == name)
    assert match.group(1).strip() == "\n".join(source.splitlines()[function.lineno - 1 : function.end_lineno]).strip()
