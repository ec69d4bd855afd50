"""The package as a client project gets it: the wheel, installed into a fresh virtual
environment (not editable), used from outside the repository.

One module-scoped build: the source is copied (so the repository stays clean), the wheel
built with pip, installed with its dependencies (pip's cache makes that quick after
`make setup`), then the installed command and pytest plugin are used from a temporary
folder with a PATH that does not contain the repository's .venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from xsolla_contract.toolkit.testing import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("toolkit", "mocks", "spec")
PACKAGED = (".py", ".yaml", ".md", ".html", ".css", ".js")  # code, the spec, the mock's pages
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "*.sqlite*", "results", ".tools"
)


@dataclass
class Installed:
    wheel: Path
    venv: Path
    outside: Path  # a working folder outside the repository
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=cwd or self.outside, env=self.env, capture_output=True, text=True, timeout=timeout
        )


def _plain_env(tmp: Path) -> dict[str, str]:
    """The environment of a shell that knows nothing of the repository's .venv."""
    ours = Path(sys.executable).parent
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != ours.resolve()]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(path)
    env["XSOLLA_CONTRACT_CACHE"] = str(tmp / "spec-cache")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    env = _plain_env(tmp)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "--wheel-dir", str(tmp / "dist"), str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Warning" not in built.stderr, built.stderr  # no deprecated metadata, no package left out
    wheel = next((tmp / "dist").glob("xsolla_contract-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outside = tmp / "work"
    outside.mkdir()
    return Installed(wheel, venv, outside, env)


def test_wheel_holds_every_module_and_spec_file_and_nothing_else(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {"xsolla_contract/__init__.py"}
    for sub in SUBPACKAGES:
        for path in (ROOT / sub).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in PACKAGED:
                expected.add(f"xsolla_contract/{path.relative_to(ROOT).as_posix()}")
    packaged = {n for n in names if n.startswith("xsolla_contract/")}
    assert expected - packaged == set(), "left out of the wheel"
    assert packaged - expected == set(), "in the wheel but not part of the package"
    assert "xsolla_contract/mocks/hooks/registry.py" in packaged
    assert "xsolla_contract/mocks/pages/templates/paystation/pay.html" in packaged


def test_installed_package_is_the_wheel_not_the_repository(installed: Installed) -> None:
    done = installed.run(installed.bin("python"), "-c", "import xsolla_contract; print(xsolla_contract.__file__)")
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.venv), done.stdout


def test_installed_spec_check(installed: Installed) -> None:
    done = installed.run(installed.bin("xsolla-contract"), "spec", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "site-packages/xsolla_contract/spec/openapi.yaml: 227 operations" in done.stdout


def test_installed_mock_starts_answers_and_stops(installed: Installed) -> None:
    command = [installed.bin("xsolla-contract"), "mock", "--port", "0"]
    with ServerProcess(command, env=installed.env, cwd=installed.outside) as mock:
        assert mock.lines[0].startswith("Xsolla contract mock: 227 operations at http://127.0.0.1:"), mock.lines
        request = urllib.request.Request(
            f"{mock.url}/v2/project/44056/items/virtual_items?limit=5", headers={"Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 200
            page = json.load(answer)
        assert len(page["items"]) == 5 and page["has_more"] is True  # the seeded store
        for path, expected in (("/__mock__/", b"dashboard.js"), ("/__mock__/static/dashboard.js", b"ControlError")):
            with urllib.request.urlopen(f"{mock.url.removesuffix('/api')}{path}", timeout=30) as answer:
                assert answer.status == 200 and expected in answer.read(), path  # the pages are package data
    assert mock.returncode == 0  # SIGTERM is a clean stop


def test_client_project_tests_run_with_the_installed_plugin(installed: Installed) -> None:
    project = installed.outside / "store_client"
    shutil.copytree(ROOT / "examples" / "store_client", project, ignore=shutil.ignore_patterns("__pycache__"))
    done = installed.run(installed.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout, done.stdout
