"""Serving benchmark: our mock against Stoplight Prism and a bare Flask app, with wrk.

Every target runs on 127.0.0.1 on this machine, on free ports, and stops at the end:

- ours: `create_app()` under gunicorn (gthread, one worker per core), SQLite state shared by
  the workers (seeded), request and response validation on, the response cache off (every
  answer built anew: what a client project's tests get, where almost every read follows a
  write); the same with the response cache on, reported beside its hit rate;
- ours as users start it: `xsolla-contract mock` (one process, waitress, memory state);
- Prism: `prism mock` of our `spec bundle` output (installed with npm into bench/.tools);
- bare: a Flask app under the same gunicorn settings answering the same bodies with no work.

Scenarios: (a) a client catalog list of 50 items, (b) an admin create, (c) a coupon
redemption (ours only: Prism keeps no state), (d) a day in the life of many users (catalog
pages at different offsets and locales, an item, the cart, cart fills, purchases,
redemptions, with admin edits and creates in between), and (e) admin and client lists with
100, 10,000 and 100,000 records of their kind in the store.

The machine is a shared VM whose speed drifts (and other work runs on its 2 cores), so every
target runs at once and each of several rounds measures every scenario back to back; the
medians of the rounds are reported, ratios are medians of per-round ratios, and the load
average is read before every run. Writes go to copies of the store, so that what the create
rounds add changes nothing the other scenarios measure.
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
CONNECTIONS = 32  # wrk's connections to a target


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


def user_token(user: str = "bench-player") -> str:
    from xsolla_contract.mocks import mint_token

    return mint_token(user, project=PROJECT, ttl=24 * 3600)


def bench_item(n: int) -> dict[str, Any]:
    """The body of the admin create of the n-th bench item (in group `weapons`, priced in USD and gold)."""
    return {
        "sku": f"bench_item_{n}",
        "name": {"en": f"Bench item {n}", "de": f"Testartikel {n}"},
        "groups": ["weapons"],
        "order": 100 + n,
        "prices": [{"amount": 1.99 + n % 7, "currency": "USD", "is_default": True}],
        "vc_prices": [{"sku": "gold", "amount": 100 + n, "is_default": True, "is_enabled": True}],
    }


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
            body=bench_item(n),
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
            # each worker takes at most its share of wrk's connections: left alone, one worker
            # sometimes accepts all of them at once and the other idles through the run
            "--worker-connections",
            str(-(-CONNECTIONS // workers)),
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
    wrk_bin: str,
    url: str,
    headers: dict[str, str],
    seconds: int,
    lua: str | None = None,
    connections: int = CONNECTIONS,
) -> dict[str, float]:
    load = load_average()
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
        "load": load,
    }


def load_average() -> float:
    """The machine's 1-minute load average (what `uptime` shows first)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def prepare_scale_store(path: Path, size: int) -> None:
    """The store of the list scenarios: `size` virtual items on sale, `size` coupons (each with a code)
    and one coupon with `size` codes, written through the store in the shape the API stores."""
    from xsolla_contract.mocks import MockConfig, create_app, engine_of

    prepare_store(path, size)
    engine = engine_of(create_app(store=f"sqlite:{path}", config=MockConfig(seed=1, project_id=PROJECT)))

    def bulk(ctx: Any) -> None:
        coupons = ctx.resource("coupon")
        body = {"name": {"en": "Scale"}, "bonus": [{"sku": "gold", "quantity": 1}], "is_enabled": True}
        for n in range(size):
            record = coupons.build(ctx, {**body, "external_id": f"scale_{n}"}, None)
            coupons.save(ctx, record)
        big = coupons.build(ctx, {**body, "external_id": "many_codes"}, None)
        coupons.save(ctx, big)
        for n in range(size):
            code = f"SCALE{n:07d}"
            ctx.put("code", code, {"code": code, "kind": "coupon", "external_id": "many_codes", "used": 0})

    engine.run(PROJECT, bulk)
    engine.store.close()


# ------------------------------------------------------------ the day in the life


def mixed_calls(tokens: list[str], skus: list[str]) -> list[tuple[str, str, str, str]]:
    """A day in the life of many users, as (method, path, Authorization, body); body "CREATE" is an
    admin create of a new item."""
    p = f"/api/v2/project/{PROJECT}"
    calls: list[tuple[str, str, str, str]] = []  # method, path, auth, body
    admin = ADMIN["Authorization"]
    for n in range(200):
        user = f"Bearer {tokens[n % len(tokens)]}"
        sku = skus[n % len(skus)]
        offset = (n % 3) * 20
        locale = ("en", "de", "fr", "es")[n % 4]
        calls += [
            ("GET", f"{p}/items/virtual_items?limit=50&offset={offset}&locale={locale}", user, ""),
            ("GET", f"{p}/items/virtual_items/group/weapons?limit=20&locale={locale}", user, ""),
            ("GET", f"{p}/items/virtual_items?limit=20&offset={offset + 10}", user, ""),
            ("GET", f"{p}/items/virtual_items/sku/{sku}?locale={locale}", user, ""),
            ("GET", f"{p}/items/bundle?limit=20", user, ""),
            ("PUT", f"{p}/cart/item/{sku}", user, '{"quantity": 2}'),
            ("GET", f"{p}/cart", user, ""),
            ("PUT", f"{p}/cart/fill", user, json.dumps({"items": [{"sku": sku, "quantity": 1}]})),
            ("POST", f"{p}/payment/item/{sku}", user, '{"quantity": 1}'),
            ("POST", f"{p}/coupon/redeem", user, '{"coupon_code": "BENCH"}'),
            ("GET", f"{p}/items/virtual_items?limit=50&locale={locale}", user, ""),
            ("GET", f"{p}/items/virtual_items?limit=50&offset=50", user, ""),
        ]
        if n % 4 == 0:
            body = json.dumps(
                {
                    "sku": sku,
                    "name": {"en": f"Edited {n}"},
                    "groups": ["weapons"],
                    "order": 100 + n % 60,
                    "prices": [{"amount": 2.49, "currency": "USD", "is_default": True}],
                    "vc_prices": [{"sku": "gold", "amount": 120, "is_default": True, "is_enabled": True}],
                }
            )
            calls.append(("PUT", f"{p}/admin/items/virtual_items/sku/{sku}", admin, body))
            calls.append(("GET", f"/api/v3/project/{PROJECT}/admin/coupon?limit=20", admin, ""))
        if n % 8 == 0:
            calls.append(("GET", f"{p}/admin/items/virtual_items?limit=50&offset={offset}", admin, ""))
            calls.append(("POST", f"{p}/admin/items/virtual_items", admin, "CREATE"))
    return calls


def mixed_lua(tokens: list[str], skus: list[str]) -> str:
    """A wrk script cycling through `mixed_calls`, each wrk thread from a random place."""
    calls = mixed_calls(tokens, skus)

    def lua_string(text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    rows = ",\n".join("{" + ", ".join(lua_string(x) for x in call) + "}" for call in calls)
    return f"""
local calls = {{
{rows}
}}
local n = math.random(1, #calls)
local created = 0
local prefix = string.match(tostring({{}}), "0x(%x+)") or tostring(math.random(1, 1000000000))
request = function()
  n = n % #calls + 1
  local c = calls[n]
  local headers = {{["Authorization"] = c[3]}}
  local body = c[4]
  if body == "CREATE" then
    created = created + 1
    body = '{{"sku": "m' .. prefix .. '_' .. created .. '", "name": {{"en": "New"}}, ' ..
      '"prices": [{{"amount": 0.99, "currency": "USD", "is_default": true}}]}}'
  end
  if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
  return wrk.format(c[1], c[2], headers, body)
end
"""


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
    out = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    out["load_min"], out["load_max"] = min(r["load"] for r in runs), max(r["load"] for r in runs)
    return out


def _fill_mock(base: str, count: int) -> None:
    """Items created through the admin API of a running mock (as its users would)."""
    for n in range(count):
        answer = requests.post(
            f"{base}/v2/project/{PROJECT}/admin/items/virtual_items",
            headers=ADMIN,
            json=bench_item(n),
            timeout=30,
        )
        assert answer.status_code in (201, 422), answer.text  # 422: it exists already
    for op, path, body in (
        ("post", f"/v3/project/{PROJECT}/admin/coupon", {"external_id": "bench", "name": {"en": "Bench"}}),
        ("put", f"/v3/project/{PROJECT}/admin/coupon/bench/activate", None),
        ("post", f"/v3/project/{PROJECT}/admin/coupon/bench/code", {"coupon_code": "BENCH"}),
    ):
        getattr(requests, op)(base + path, headers=ADMIN, json=body, timeout=30)


def _hit_rate(base: str, path: str, samples: int = 12) -> float:
    """The share of answers to `path` the response cache gave, from the workers' journals."""
    hits = total = 0
    for _ in range(samples):
        entries = requests.get(base.rsplit("/api", 1)[0] + "/__mock__/requests", timeout=30).json()["requests"]
        mine = [e for e in entries if e["path"].endswith(path.split("?")[0])]
        hits += sum(1 for e in mine if e["cached"])
        total += len(mine)
    return hits / total if total else 0.0


def run(seconds: int = 5, workers: int | None = None, rounds: int = 3) -> dict[str, Any]:
    """Every target runs at once; each round measures every scenario once, back to back, so
    that the machine's slow swings (a shared VM) hit all targets alike. Medians of the rounds
    are reported, and the ratios are medians of the per-round ratios."""
    prism_bin, wrk_bin = ensure_tools()
    workers = workers or os.cpu_count() or 2
    tokens = [user_token(f"player-{n}") for n in range(50)]
    token = {"Authorization": f"Bearer {tokens[0]}"}
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
        # the list scenarios read one store; creates, redemptions and the mixed day each write to a
        # copy of it, so that what they add changes nothing the others measure
        store = tmpdir / "state.sqlite"
        prepare_store(store, 60)
        copies = {name: tmpdir / f"{name}.sqlite" for name in ("creates", "redeems", "mixed")}
        for copy in copies.values():
            shutil.copyfile(store, copy)
        names = ("ours", "ours_cached", "ours_creates", "ours_redeems", "ours_mixed", "mock", "prism", "bare")
        ports = {name: free_port() for name in names}
        env = {"XSOLLA_MOCK_STATE": f"sqlite:{store}", "XSOLLA_MOCK_PROJECT_ID": str(PROJECT)}
        uncached = {**env, "XSOLLA_MOCK_RESPONSE_CACHE": "0"}
        app = "xsolla_contract.mocks.app:create_app()"
        bases = {name: f"http://127.0.0.1:{port}/api" for name, port in ports.items()}
        bases["prism"] = f"http://127.0.0.1:{ports['prism']}"
        mixed_skus = [f"bench_item_{n}" for n in range(30)]  # prepare_store creates at least 30
        with (
            gunicorn(app, ports["ours"], workers, uncached),
            gunicorn(app, ports["ours_cached"], workers, env),
            gunicorn(
                app, ports["ours_creates"], workers, {**uncached, "XSOLLA_MOCK_STATE": f"sqlite:{copies['creates']}"}
            ),
            gunicorn(
                app, ports["ours_redeems"], workers, {**uncached, "XSOLLA_MOCK_STATE": f"sqlite:{copies['redeems']}"}
            ),
            gunicorn(app, ports["ours_mixed"], workers, {**uncached, "XSOLLA_MOCK_STATE": f"sqlite:{copies['mixed']}"}),
            # as users start it, less the response cache (on by default): every answer built anew
            process(
                [str(BIN / "xsolla-contract"), "mock", "--port", str(ports["mock"])],
                {"XSOLLA_MOCK_RESPONSE_CACHE": "0"},
            ),
            process([str(prism_bin), "mock", str(bundle), "-h", "127.0.0.1", "-p", str(ports["prism"])]),
        ):
            for name in names[:-1]:
                wait_ready(bases[name] + list_path, token)
            _fill_mock(bases["mock"], 60)
            body = requests.get(bases["ours"] + list_path, headers=token, timeout=30)
            assert body.status_code == 200 and len(body.json()["items"]) == 50, body.text[:300]
            mock_body = requests.get(bases["mock"] + list_path, headers=token, timeout=30)
            assert mock_body.status_code == 200 and len(mock_body.json()["items"]) == 50, mock_body.text[:300]
            (tmpdir / "list.json").write_bytes(body.content)
            bare_env = {"BARE_LIST_BODY": str(tmpdir / "list.json"), "PYTHONPATH": str(ROOT)}
            mixed = mixed_lua(tokens, mixed_skus)
            with gunicorn("bench.bare_app:app", ports["bare"], workers, bare_env):
                wait_ready(bases["bare"] + list_path)
                scenarios = {
                    ("ours", "list"): (bases["ours"] + list_path, token, None),
                    ("ours", "create"): (bases["ours_creates"] + create_path, ADMIN, _LUA_CREATE),
                    ("ours", "redeem"): (bases["ours_redeems"] + redeem_path, token, _LUA_REDEEM),
                    ("ours", "mixed"): (bases["ours_mixed"].rsplit("/api", 1)[0], token, mixed),
                    ("ours", "list, response cache on"): (bases["ours_cached"] + list_path, token, None),
                    ("mock", "list"): (bases["mock"] + list_path, token, None),
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
                results["hit_rate"] = _hit_rate(bases["ours_cached"], list_path)
        for (target, scenario), runs in measured.items():
            results.setdefault(target, {})[scenario] = _median_run(runs)

        def ratio(a: tuple[str, str], b: tuple[str, str]) -> float:
            return statistics.median(
                x["rps"] / y["rps"] if y["rps"] else 0.0 for x, y in zip(measured[a], measured[b], strict=True)
            )

        results["ratios"] = {
            "list / prism": ratio(("ours", "list"), ("prism", "list")),
            "list / bare": ratio(("ours", "list"), ("bare", "list")),
            "create / prism": ratio(("ours", "create"), ("prism", "create")),
            "create / bare": ratio(("ours", "create"), ("bare", "create")),
            "mock list / prism": ratio(("mock", "list"), ("prism", "list")),
        }
        results["scale"] = scale(tmpdir, wrk_bin, workers, token, seconds, rounds)
    results["startup_s"] = startup_seconds()
    return results


# every list of (e): name -> (path, credentials: "user" | "admin")
SCALE_LISTS = {
    "client: catalog virtual items": (f"/v2/project/{PROJECT}/items/virtual_items?limit=50", "user"),
    "admin: virtual items": (f"/v2/project/{PROJECT}/admin/items/virtual_items?limit=50", "admin"),
    "admin: coupons": (f"/v3/project/{PROJECT}/admin/coupon?limit=50", "admin"),
    "admin: codes of one coupon": (f"/v2/project/{PROJECT}/admin/coupon/many_codes/code?limit=50", "admin"),
}


def scale(
    tmpdir: Path, wrk_bin: str, workers: int, token: dict[str, str], seconds: int, rounds: int
) -> dict[str, dict[int, dict[str, Any]]]:
    """(e) each list's first page and a page further on, with 100, 10,000 and 100,000 records of its
    kind in the store, response cache off: the engine's own cost per size, interleaved by round."""
    sizes = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "100,10000,100000").split(","))
    ports = {size: free_port() for size in sizes}
    with ExitStack() as servers:
        for size in sizes:
            path = tmpdir / f"scale-{size}.sqlite"
            prepare_scale_store(path, size)
            scale_env = {
                "XSOLLA_MOCK_STATE": f"sqlite:{path}",
                "XSOLLA_MOCK_PROJECT_ID": str(PROJECT),
                "XSOLLA_MOCK_RESPONSE_CACHE": "0",
            }
            servers.enter_context(gunicorn("xsolla_contract.mocks.app:create_app()", ports[size], workers, scale_env))
        urls = {
            (name, size, page): (f"http://127.0.0.1:{ports[size]}/api{path}{suffix}", token if who == "user" else ADMIN)
            for name, (path, who) in SCALE_LISTS.items()
            for size in sizes
            for page, suffix in (("first page", ""), ("offset 50", "&offset=50"))
        }
        for size in sizes:
            wait_ready(f"http://127.0.0.1:{ports[size]}/api{SCALE_LISTS['admin: coupons'][0]}", ADMIN)
        for url, headers in urls.values():
            answer = requests.get(url, headers=headers, timeout=60)
            assert answer.status_code == 200, (url, answer.text[:300])
            wrk(wrk_bin, url, headers, 1)
        runs: dict[tuple[str, int, str], list[dict[str, float]]] = {key: [] for key in urls}
        for _ in range(rounds):
            for key, (url, headers) in urls.items():
                runs[key].append(wrk(wrk_bin, url, headers, seconds))
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for (name, size, page), measured in runs.items():
        out.setdefault(name, {}).setdefault(size, {})[page] = _median_run(measured)
    return out


if __name__ == "__main__":
    print(json.dumps(run(seconds=int(os.environ.get("BENCH_SECONDS", "5"))), indent=1))
