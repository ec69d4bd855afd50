"""What a user meets when starting the servers from the command line: the banner, a
restart on a kept SQLite store, a port that is already taken."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from xsolla_contract.toolkit.testing import ServerProcess

CLI = str(Path(sys.executable).with_name("xsolla-contract"))


def serving(*args: str) -> ServerProcess:
    """`xsolla-contract ARGS` until its banner is complete (stopped politely when the context ends)."""
    return ServerProcess([CLI, *args], ready=lambda line: line.lstrip().startswith("control:"))


def data_line(banner: list[str]) -> str:
    return next(line.strip() for line in banner if line.strip().startswith("state:"))


def test_restart_on_a_sqlite_store_says_the_state_was_kept(tmp_path: Path) -> None:
    state = f"sqlite:{tmp_path / 'mock.sqlite'}"
    with serving("mock", "--port", "0", "--state", state) as first:
        assert first.lines[0].startswith("Xsolla contract mock: 227 operations at http://127.0.0.1:")
        assert not first.url.endswith(":0/api")  # the port it really listens on
        seeded = data_line(first.lines)
        assert seeded.startswith(f"state: {state}; data: seed 1 (") and seeded.endswith(" records)")
        records = seeded.rsplit("(", 1)[1].split()[0]
    assert first.returncode == 0  # SIGTERM is a clean stop
    with serving("mock", "--port", "0", "--state", state) as second:
        assert data_line(second.lines) == (
            f"state: {state}; data: kept {records} records of an earlier run (POST /__mock__/reset starts over)"
        )


def test_empty_start_says_so() -> None:
    with serving("mock", "--port", "0", "--empty") as mock:
        assert data_line(mock.lines) == "state: memory; data: empty (0 records)"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("what", "args"),
    [("mock", ["mock", "--empty"]), ("proxy", ["proxy", "--upstream", "http://127.0.0.1:9"])],
)
def test_a_port_in_use_is_one_clear_line_and_exit_1(taken_port: int, what: str, args: list[str]) -> None:
    done = subprocess.run([CLI, *args, "--port", str(taken_port)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == ""  # no banner for a server that is not there
    assert done.stderr == (
        f"xsolla-contract {what}: cannot listen on 127.0.0.1:{taken_port}: port {taken_port} is already in use "
        f"(another {what} still running?); choose another with --port\n"
    )
