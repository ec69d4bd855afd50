"""Serving benchmark: our mock against Stoplight Prism and a bare Flask app, with wrk.

All three run on 127.0.0.1 in one run on this machine, on free ports, and stop at the end:

- ours: `create_app()` under gunicorn (gthread, one worker per core), SQLite state shared by
  the workers (seeded), request and response validation on;
- Prism: `prism mock` of our `spec bundle` output (installed with npm into bench/.tools);
- bare: a Flask app under the same gunicorn settings answering the same bodies with no work.

Scenarios: (a) a client catalog list of 50 items, (b) an admin create, (c) a coupon
redemption (ours only: Prism keeps no state), and the same list with 100, 10,000 and
100,000 items in the store.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "bench" / ".tools"
PROJECT = 44056
ADMIN = {"Authorization": "Basic " + base64.b64encode(f"{PROJECT}:bench".encode()).decode()}
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def process(command: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)


def wait_ready(url: str, headers: dict[str, str] | None = None, timeout: float = 180) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if requests.get(url, headers=headers, timeout=5).status_code < 500:
                return time.perf_counter() - start
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


def ensure_tools() -> tuple[Path, str]:
    prism = TOOLS / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--silent", "@stoplight/prism-cli@5"],
            check=True,
        )
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (make bench installs Debian's wrk)")
    return prism, wrk


# ----------------------------------------------------------------- the stores


def user_token() -> str:
    from xsolla_contract.mocks import mint_token

    return mint_token("bench-player", project=PROJECT, ttl=24 * 3600)


def prepare_store(path: Path, catalog_items: int) -> None:
    """A seeded store (seed 1) with `catalog_items` virtual items on sale and an unlimited coupon."""
    from xsolla_contract.mocks import MockConfig, create_app, engine_of
    from xsolla_contract.mocks.clock import iso

    engine = engine_of(create_app(store=f"sqlite:{path}", config=MockConfig(seed=1, project_id=PROJECT)))
    seeded = sum(1 for r in engine.store.export()["records"] if r[1] == "item" and r[3].get("type") == "virtual_good")
    for n in range(max(0, min(catalog_items, 200) - seeded)):  # through the API: the same path clients take
        answer = engine.call(
            "admin-create-virtual-item",
            path={"project_id": PROJECT},
            headers=ADMIN,
            body={
                "sku": f"bench_item_{n}",
                "name": {"en": f"Bench item {n}", "de": f"Testartikel {n}"},
                "groups": ["weapons"],
                "order": 100 + n,
                "prices": [{"amount": 1.99 + n % 7, "currency": "USD", "is_default": True}],
                "vc_prices": [{"sku": "gold", "amount": 100 + n, "is_default": True, "is_enabled": True}],
            },
        )
        assert answer.status == 201, answer.body

    def bulk(ctx: Any) -> None:  # large stores are written directly, in the shape the API stores
        for n in range(max(0, catalog_items - max(seeded, 200))):
            sku = f"bulk_item_{n}"
            ctx.put(
                "item",
                sku,
                {
                    "sku": sku,
                    "type": "virtual_good",
                    "item_id": ctx.next_id("item"),
                    "name": {"en": f"Bulk item {n}"},
                    "groups": [],
                    "order": 1000 + n,
                    "prices": [{"amount": 2.99, "currency": "USD", "is_default": True}],
                    "is_enabled": True,
                    "is_show_in_store": True,
                    "is_free": False,
                    "_created": iso(ctx.now),
                },
            )

    engine.run(PROJECT, bulk)
    for op, body, params in (
        (
            "admin-create-coupon",
            {"external_id": "bench", "name": {"en": "Bench"}, "bonus": [{"sku": "gold", "quantity": 1}]},
            {},
        ),
        ("activate-coupon", None, {"external_id": "bench"}),
        ("create-coupon-code", {"coupon_code": "BENCH"}, {"external_id": "bench"}),
    ):
        answer = engine.call(op, path={"project_id": PROJECT, **params}, headers=ADMIN, body=body)
        assert answer.status < 300, answer.body
    engine.store.close()


# ------------------------------------------------------------------- servers


def gunicorn(app: str, port: int, workers: int, env: dict[str, str]):
    return process(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            "8",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env,
    )


# ----------------------------------------------------------------------- wrk

_LUA_CREATE = """
local counter = 0
local prefix = string.match(tostring({}), "0x(%x+)") or tostring(math.random(1, 1000000000))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = '{"sku": "w' .. prefix .. '_' .. counter .. '", "name": {"en": "Bench"}, '
    .. '"prices": [{"amount": 1.99, "currency": "USD", "is_default": true}]}'
  return wrk.format(nil, nil, nil, body)
end
"""

_LUA_REDEEM = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"coupon_code": "BENCH"}'
"""


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    wrk_bin: str, url: str, headers: dict[str, str], seconds: int, lua: str | None = None, connections: int = 32
) -> dict[str, float]:
    command = [wrk_bin, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if lua:
            script.write(lua)
    if lua:
        command += ["-s", script.name]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    latency = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "socket_errors": sum(int(n) for n in socket.groups()) if socket else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency.get("50", 0.0),
        "p99_ms": latency.get("99", 0.0),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


# ----------------------------------------------------------------------- run


def startup_seconds(runs: int = 3) -> float:
    """From launching `xsolla-contract mock` (seeded, in memory) to its first catalog answer."""
    times = []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        with process([str(BIN / "xsolla-contract"), "mock", "--port", str(port)]):
            wait_ready(f"http://127.0.0.1:{port}/api/v2/project/{PROJECT}/items/groups")
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(seconds: int = 10, workers: int | None = None) -> dict[str, Any]:
    prism_bin, wrk_bin = ensure_tools()
    workers = workers or os.cpu_count() or 2
    token = {"Authorization": f"Bearer {user_token()}"}
    results: dict[str, Any] = {"workers": workers, "seconds": seconds, "cpus": os.cpu_count()}
    list_path = f"/v2/project/{PROJECT}/items/virtual_items?limit=50"
    create_path = f"/v2/project/{PROJECT}/admin/items/virtual_items"
    with tempfile.TemporaryDirectory(prefix="xsolla-bench-") as tmp:
        tmpdir = Path(tmp)
        bundle = tmpdir / "openapi.json"
        subprocess.run(
            [str(BIN / "xsolla-contract"), "spec", "bundle", str(bundle)], check=True, stdout=subprocess.DEVNULL
        )
        store = tmpdir / "state.sqlite"
        prepare_store(store, 60)
        ours_port, prism_port, bare_port = free_port(), free_port(), free_port()
        env = {"XSOLLA_MOCK_STATE": f"sqlite:{store}", "XSOLLA_MOCK_PROJECT_ID": str(PROJECT)}
        base = f"http://127.0.0.1:{ours_port}/api"
        results["ours"] = {}
        with gunicorn(
            "xsolla_contract.mocks.app:create_app()", ours_port, workers, {**env, "XSOLLA_MOCK_RESPONSE_CACHE": "0"}
        ):
            wait_ready(base + list_path, token)
            wrk(wrk_bin, base + list_path, token, 1)  # warm every worker
            results["ours"]["list, no response cache"] = wrk(wrk_bin, base + list_path, token, seconds)
        with gunicorn("xsolla_contract.mocks.app:create_app()", ours_port, workers, env):
            wait_ready(base + list_path, token)
            body = requests.get(base + list_path, headers=token, timeout=30)
            assert body.status_code == 200 and len(body.json()["items"]) == 50, body.text[:300]
            (tmpdir / "list.json").write_bytes(body.content)
            wrk(wrk_bin, base + list_path, token, 1)
            results["ours"].update(
                {
                    "list": wrk(wrk_bin, base + list_path, token, seconds),
                    "create": wrk(wrk_bin, base + create_path, ADMIN, seconds, _LUA_CREATE),
                    "redeem": wrk(wrk_bin, f"{base}/v2/project/{PROJECT}/coupon/redeem", token, seconds, _LUA_REDEEM),
                }
            )
        with process([str(prism_bin), "mock", str(bundle), "-h", "127.0.0.1", "-p", str(prism_port)]):
            base = f"http://127.0.0.1:{prism_port}"
            wait_ready(base + list_path, token)
            wrk(wrk_bin, base + list_path, token, 1)
            results["prism"] = {
                "list": wrk(wrk_bin, base + list_path, token, seconds),
                "create": wrk(wrk_bin, base + create_path, ADMIN, seconds, _LUA_CREATE),
            }
        bare_env = {"BARE_LIST_BODY": str(tmpdir / "list.json"), "PYTHONPATH": str(ROOT)}
        with gunicorn("bench.bare_app:app", bare_port, workers, bare_env):
            base = f"http://127.0.0.1:{bare_port}/api"
            wait_ready(base + list_path)
            wrk(wrk_bin, base + list_path, token, 1)
            results["bare"] = {
                "list": wrk(wrk_bin, base + list_path, token, seconds),
                "create": wrk(wrk_bin, base + create_path, ADMIN, seconds, _LUA_CREATE),
            }
        results["scale"] = {}
        for size in (100, 10_000, 100_000):
            store = tmpdir / f"scale-{size}.sqlite"
            prepare_store(store, size)
            port = free_port()
            env = {
                "XSOLLA_MOCK_STATE": f"sqlite:{store}",
                "XSOLLA_MOCK_PROJECT_ID": str(PROJECT),
                "XSOLLA_MOCK_RESPONSE_CACHE": "0",
            }  # every request builds its page: the engine's own cost
            with gunicorn("xsolla_contract.mocks.app:create_app()", port, workers, env):
                url = f"http://127.0.0.1:{port}/api{list_path}"
                wait_ready(url, token)
                wrk(wrk_bin, url, token, 2)  # each worker builds its catalog index once
                second_page = url + "&offset=50"
                results["scale"][size] = {
                    "first page": wrk(wrk_bin, url, token, seconds),
                    "second page": wrk(wrk_bin, second_page, token, seconds),
                }
    results["startup_s"] = startup_seconds()
    return results


if __name__ == "__main__":
    print(json.dumps(run(seconds=int(os.environ.get("BENCH_SECONDS", "10"))), indent=1))
