"""Serving benchmark: our mock against Stoplight Prism and a bare Flask app, with wrk.

All three run on 127.0.0.1 in one run on this machine, on free ports, and stop at the end:

- ours: `create_app()` under gunicorn (gthread, one worker per core), SQLite state shared by
  the workers (seeded), request and response validation on;
- Prism: `prism mock` of our `spec bundle` output (installed with npm into bench/.tools);
- bare: a Flask app under the same gunicorn settings answering the same bodies with no work.

Scenarios: (a) a client catalog list of 50 items, (b) an admin create, (c) a coupon
redemption (ours only: Prism keeps no state), and the same list with 100, 10,000 and
100,000 items in the store.

The machine is a shared VM whose speed drifts over tens of seconds, so every target
runs at once and each of several rounds measures every scenario back to back; the
medians of the rounds are reported and ratios are medians of per-round ratios. Writes
go to copies of the store, so that the items the create rounds add change nothing the
other scenarios measure.
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
from contextlib import ExitStack, contextmanager
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


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def run(seconds: int = 10, workers: int | None = None, rounds: int = 3) -> dict[str, Any]:
    """Every target runs at once; each round measures every scenario once, back to back, so
    that the machine's slow swings (a shared VM) hit all targets alike. Medians of the rounds
    are reported, and the ratios are medians of the per-round ratios."""
    prism_bin, wrk_bin = ensure_tools()
    workers = workers or os.cpu_count() or 2
    token = {"Authorization": f"Bearer {user_token()}"}
    results: dict[str, Any] = {"workers": workers, "seconds": seconds, "cpus": os.cpu_count(), "rounds": rounds}
    list_path = f"/v2/project/{PROJECT}/items/virtual_items?limit=50"
    create_path = f"/v2/project/{PROJECT}/admin/items/virtual_items"
    redeem_path = f"/v2/project/{PROJECT}/coupon/redeem"
    with tempfile.TemporaryDirectory(prefix="xsolla-bench-") as tmp:
        tmpdir = Path(tmp)
        bundle = tmpdir / "openapi.json"
        subprocess.run(
            [str(BIN / "xsolla-contract"), "spec", "bundle", str(bundle)], check=True, stdout=subprocess.DEVNULL
        )
        # the list scenarios read one store; creates and redemptions each write to a copy of it, so
        # that the items the create rounds add change neither what the lists nor what the
        # redemptions measure
        store, creates, redeems = tmpdir / "state.sqlite", tmpdir / "creates.sqlite", tmpdir / "redeems.sqlite"
        prepare_store(store, 60)
        shutil.copyfile(store, creates)
        shutil.copyfile(store, redeems)
        names = ("ours", "ours_uncached", "ours_creates", "ours_redeems", "prism", "bare")
        ports = {name: free_port() for name in names}
        env = {"XSOLLA_MOCK_STATE": f"sqlite:{store}", "XSOLLA_MOCK_PROJECT_ID": str(PROJECT)}
        app = "xsolla_contract.mocks.app:create_app()"
        bases = {name: f"http://127.0.0.1:{port}/api" for name, port in ports.items()}
        bases["prism"] = f"http://127.0.0.1:{ports['prism']}"
        with (
            gunicorn(app, ports["ours"], workers, env),
            gunicorn(app, ports["ours_uncached"], workers, {**env, "XSOLLA_MOCK_RESPONSE_CACHE": "0"}),
            gunicorn(app, ports["ours_creates"], workers, {**env, "XSOLLA_MOCK_STATE": f"sqlite:{creates}"}),
            gunicorn(app, ports["ours_redeems"], workers, {**env, "XSOLLA_MOCK_STATE": f"sqlite:{redeems}"}),
            process([str(prism_bin), "mock", str(bundle), "-h", "127.0.0.1", "-p", str(ports["prism"])]),
        ):
            for name in ("ours", "ours_uncached", "ours_creates", "ours_redeems", "prism"):
                wait_ready(bases[name] + list_path, token)
            body = requests.get(bases["ours"] + list_path, headers=token, timeout=30)
            assert body.status_code == 200 and len(body.json()["items"]) == 50, body.text[:300]
            (tmpdir / "list.json").write_bytes(body.content)
            bare_env = {"BARE_LIST_BODY": str(tmpdir / "list.json"), "PYTHONPATH": str(ROOT)}
            with gunicorn("bench.bare_app:app", ports["bare"], workers, bare_env):
                wait_ready(bases["bare"] + list_path)
                scenarios = {
                    ("ours", "list"): (bases["ours"] + list_path, token, None),
                    ("ours", "list, no response cache"): (bases["ours_uncached"] + list_path, token, None),
                    ("ours", "create"): (bases["ours_creates"] + create_path, ADMIN, _LUA_CREATE),
                    ("ours", "redeem"): (bases["ours_redeems"] + redeem_path, token, _LUA_REDEEM),
                    ("prism", "list"): (bases["prism"] + list_path, token, None),
                    ("prism", "create"): (bases["prism"] + create_path, ADMIN, _LUA_CREATE),
                    ("bare", "list"): (bases["bare"] + list_path, token, None),
                    ("bare", "create"): (bases["bare"] + create_path, ADMIN, _LUA_CREATE),
                }
                for url, headers, lua in scenarios.values():  # warm every worker of every target
                    wrk(wrk_bin, url, headers, 1, lua)
                measured: dict[tuple[str, str], list[dict[str, float]]] = {key: [] for key in scenarios}
                for _ in range(rounds):
                    for key, (url, headers, lua) in scenarios.items():
                        measured[key].append(wrk(wrk_bin, url, headers, seconds, lua))
        for (target, scenario), runs in measured.items():
            results.setdefault(target, {})[scenario] = _median_run(runs)
        results["ratios"] = {
            f"{scenario} / {other}": statistics.median(
                a["rps"] / b["rps"] if b["rps"] else 0.0
                for a, b in zip(measured[("ours", scenario)], measured[(other, scenario)], strict=True)
            )
            for scenario in ("list", "create")
            for other in ("prism", "bare")
        }
        # every request builds its page (no reuse of answers): the engine's own cost per size
        sizes = (100, 10_000, 100_000)
        scale_ports = {size: free_port() for size in sizes}
        with ExitStack() as servers:
            for size in sizes:
                scale_store = tmpdir / f"scale-{size}.sqlite"
                prepare_store(scale_store, size)
                scale_env = {**env, "XSOLLA_MOCK_STATE": f"sqlite:{scale_store}", "XSOLLA_MOCK_RESPONSE_CACHE": "0"}
                servers.enter_context(gunicorn(app, scale_ports[size], workers, scale_env))
            pages = {
                (size, page): f"http://127.0.0.1:{scale_ports[size]}/api{list_path}" + suffix
                for size in sizes
                for page, suffix in (("first page", ""), ("second page", "&offset=50"))
            }
            for size in sizes:
                wait_ready(pages[(size, "first page")], token)
            for url in pages.values():
                wrk(wrk_bin, url, token, 2)  # each worker builds its catalog index once
            scale_runs: dict[tuple[int, str], list[dict[str, float]]] = {key: [] for key in pages}
            for _ in range(rounds):
                for key, url in pages.items():
                    scale_runs[key].append(wrk(wrk_bin, url, token, seconds))
        results["scale"] = {size: {} for size in sizes}
        for (size, page), runs in scale_runs.items():
            results["scale"][size][page] = _median_run(runs)
    results["startup_s"] = startup_seconds()
    return results


if __name__ == "__main__":
    print(json.dumps(run(seconds=int(os.environ.get("BENCH_SECONDS", "10"))), indent=1))
