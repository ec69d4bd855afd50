"""`python -m bench soak --minutes N`: the mock under mixed traffic for a long run.

The mock is started as users start it (`xsolla-contract mock`, seed 1, state in memory) on a
free port of 127.0.0.1. Many clients (threads of this process, one keep-alive session each,
one user each) send a fixed mix of requests for N minutes:

    catalog pages, items and groups (users)      admin item lists and reads
    admin creates, updates, deletes of items      cart fills, carts, orders from carts
    coupon redemptions (new codes each time)      requests the API refuses (bad JSON, NaN,
                                                  unknown paths, nesting, wrong types)

Every minute: requests answered, req/s, answers by class (2xx, 4xx, 5xx, transport errors)
and the mock's resident memory (VmRSS). At the end `POST /__mock__/reset` and the memory
after it. The start figure is taken after a warm-up (each kind of request once, then a
reset), so that it holds what any mock holds once it has served each operation (compiled
validators and renderers); the idle figure before the warm-up is reported too.
Written to bench/results/soak-<date>.md (never asserted in tests).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from . import results_file
from .serve import BIN, PROJECT, free_port, process, wait_ready

ADMIN = {"Authorization": "Basic " + base64.b64encode(f"{PROJECT}:soak".encode()).decode()}
P = f"/api/v2/project/{PROJECT}"
SEEDED_ITEMS = ["gold_100", "gold_550", "gold_1200", "bundle_1", "bundle_2"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


class Client:
    """One user of the store, or its shop manager, with one keep-alive session."""

    def __init__(self, base: str, number: int, seed: int):
        from xsolla_contract.mocks import mint_token

        self.base, self.number = base, number
        self.rng = random.Random(seed * 1000 + number)
        self.session = requests.Session()
        self.user = f"soak-user-{number}"
        self.auth = {"Authorization": f"Bearer {mint_token(self.user, project=PROJECT, ttl=24 * 3600)}"}
        self.created: list[str] = []
        self.serial = 0

    def call(self, method: str, path: str, *, headers: dict[str, str], **kw: Any) -> int:
        answer = self.session.request(method, self.base + path, headers=headers, timeout=60, **kw)
        return answer.status_code

    # the mix: (weight, action)
    def catalog(self) -> int:
        offset = self.rng.choice([0, 0, 0, 10, 50])
        return self.call("GET", f"{P}/items/virtual_items", headers=self.auth, params={"limit": 50, "offset": offset})

    def catalog_item(self) -> int:
        return self.call("GET", f"{P}/items/sku/{self.rng.choice(SEEDED_ITEMS)}", headers=self.auth)

    def groups(self) -> int:
        return self.call("GET", f"{P}/items/groups", headers=self.auth)

    def admin_list(self) -> int:
        offset = self.rng.randrange(0, 200)
        return self.call("GET", f"{P}/admin/items/virtual_items", headers=ADMIN, params={"limit": 50, "offset": offset})

    def admin_create(self) -> int:
        self.serial += 1
        sku = f"soak_{self.number}_{self.serial}"
        body = {
            "sku": sku,
            "name": {"en": f"Soak item {self.serial}", "de": f"Dauerlauf {self.serial}"},
            "description": {"en": "An item made by the soak benchmark."},
            "groups": ["weapons"],
            "prices": [{"amount": 1.99, "currency": "USD", "is_default": True}],
            "is_enabled": True,
        }
        status = self.call("POST", f"{P}/admin/items/virtual_items", headers=ADMIN, json=body)
        if status == 201:
            self.created.append(sku)
        return status

    def admin_update_or_delete(self) -> int:
        if not self.created:
            return self.admin_create()
        sku = self.rng.choice(self.created)
        if self.rng.random() < 0.5:
            body = {"sku": sku, "name": {"en": "Renamed"}, "prices": [{"amount": 2.99, "currency": "USD"}]}
            return self.call("PUT", f"{P}/admin/items/virtual_items/sku/{sku}", headers=ADMIN, json=body)
        self.created.remove(sku)
        return self.call("DELETE", f"{P}/admin/items/virtual_items/sku/{sku}", headers=ADMIN)

    def cart(self) -> int:
        items = [{"sku": s, "quantity": self.rng.randint(1, 3)} for s in self.rng.sample(SEEDED_ITEMS, 2)]
        status = self.call("PUT", f"{P}/cart/fill", headers=self.auth, json={"items": items})
        self.call("GET", f"{P}/cart", headers=self.auth)
        return status

    def order(self) -> int:
        self.call("PUT", f"{P}/cart/fill", headers=self.auth, json={"items": [{"sku": "gold_100", "quantity": 1}]})
        return self.call("POST", f"{P}/payment/cart", headers=self.auth, json={"sandbox": True})

    def coupon(self) -> int:
        self.serial += 1
        code = f"SOAK{self.number}X{self.serial}"
        self.call("POST", f"{P}/admin/coupon/welcome/code", headers=ADMIN, json={"coupon_code": code})
        return self.call("POST", f"{P}/coupon/redeem", headers=self.auth, json={"coupon_code": code})

    def refused(self) -> int:
        bodies = [
            b'{"sku": "x", "name": {"en": "X"}, "prices": [{"amount": NaN, "currency": "USD"}]}',
            b"[" * 200 + b"]" * 200,
            b'{"sku": 5}',
            b"{not json",
        ]
        kind = self.rng.randrange(5)
        if kind == 4:
            return self.call("GET", f"{P}/itemz/{self.rng.random()}", headers=self.auth)
        headers = {**ADMIN, "Content-Type": "application/json"}
        return self.call("POST", f"{P}/admin/items/virtual_items", headers=headers, data=bodies[kind])

    def mix(self) -> list[tuple[int, Any]]:
        return [
            (30, self.catalog),
            (10, self.catalog_item),
            (5, self.groups),
            (10, self.admin_list),
            (12, self.admin_create),
            (5, self.admin_update_or_delete),
            (10, self.cart),
            (5, self.order),
            (5, self.coupon),
            (8, self.refused),
        ]

    def step(self) -> int:
        mix = self.mix()
        action = self.rng.choices([a for _, a in mix], weights=[w for w, _ in mix])[0]
        return action()


def warm_up(base: str) -> None:
    client = Client(base, 0, 0)
    for _, action in client.mix():
        action()


def run(minutes: float, clients: int, seed: int = 1) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "xsolla-contract"), "mock", "--port", str(port), "--seed", "1"]
    with process(command) as mock:
        wait_ready(f"{base}/__mock__/clock")
        time.sleep(1)
        idle_rss = rss_mb(mock.pid)
        warm_up(base)
        requests.post(f"{base}/__mock__/reset", timeout=120).raise_for_status()
        time.sleep(1)
        start_rss = rss_mb(mock.pid)

        stop = threading.Event()
        lock = threading.Lock()
        counts: Counter[str] = Counter()

        def work(number: int) -> None:
            client = Client(base, number, seed)
            while not stop.is_set():
                try:
                    status = client.step()
                    kind = f"{status // 100}xx"
                except requests.RequestException:
                    kind = "transport"
                with lock:
                    counts[kind] += 1

        threads = [threading.Thread(target=work, args=(n + 1,), daemon=True) for n in range(clients)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        rows = []
        previous: Counter[str] = Counter()
        for minute in range(1, int(minutes) + 1):
            time.sleep(max(0.0, began + 60 * minute - time.monotonic()))
            with lock:
                now = Counter(counts)
            done = now - previous
            previous = now
            total = sum(done.values())
            rows.append(
                {
                    "minute": minute,
                    "requests": total,
                    "rps": total / 60,
                    "2xx": done["2xx"],
                    "4xx": done["4xx"],
                    "5xx": done["5xx"],
                    "transport": done["transport"],
                    "rss_mb": rss_mb(mock.pid),
                    "load": load_average(),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        before_reset = rss_mb(mock.pid)
        reset_started = time.monotonic()
        records = requests.post(f"{base}/__mock__/reset", timeout=300).json()["records"]
        reset_s = time.monotonic() - reset_started
        time.sleep(2)
        after_reset = rss_mb(mock.pid)
        after = requests.get(f"{base}{P}/items/virtual_items", headers=Client(base, 0, 0).auth, timeout=30)
    return {
        "minutes": int(minutes),
        "clients": clients,
        "idle_rss_mb": idle_rss,
        "start_rss_mb": start_rss,
        "rows": rows,
        "before_reset_rss_mb": before_reset,
        "after_reset_rss_mb": after_reset,
        "reset_s": reset_s,
        "records_after_reset": records,
        "serves_after_reset": after.status_code,
        "cpus": os.cpu_count(),
    }


def report(result: dict[str, Any]) -> str:
    rows = result["rows"]
    first, last = rows[0], rows[-1]
    ratio = last["rps"] / first["rps"] if first["rps"] else float("nan")
    memory = result["after_reset_rss_mb"] / result["start_rss_mb"] - 1
    lines = [
        f"# Soak, {dt.date.today().isoformat()}: {result['minutes']} minutes, {result['clients']} clients",
        "",
        f"Machine: {result['cpus']} CPUs (shared), Python {platform.python_version()}. The mock as users start "
        "it (`xsolla-contract mock`, seed 1, state in memory, waitress with 8 threads); the clients are threads "
        "of the benchmark on the same machine, one keep-alive session and one user each, sending a fixed mix: "
        "catalog pages and items, admin lists, creates, updates and deletes, cart fills, orders, coupon "
        "redemptions, and requests the API refuses. The store grows with the creates.",
        "",
        "| minute | requests | req/s | 2xx | 4xx | 5xx | transport errors | mock RSS MB | load (1/5/15 min) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['minute']} | {r['requests']} | {r['rps']:.1f} | {r['2xx']} | {r['4xx']} | {r['5xx']} | "
            f"{r['transport']} | {r['rss_mb']:.0f} | {r['load']} |"
        )
    lines += [
        "",
        f"- Throughput, last minute / first: {ratio:.0%} (target >= 80%).",
        f"- Memory: idle at start {result['idle_rss_mb']:.0f} MB; after a warm-up and a reset (the start figure) "
        f"{result['start_rss_mb']:.0f} MB; at the end {result['before_reset_rss_mb']:.0f} MB; "
        f"after `POST /__mock__/reset` ({result['reset_s']:.1f} s, {result['records_after_reset']} records) "
        f"{result['after_reset_rss_mb']:.0f} MB, {memory:+.0%} against the start (target within 25%).",
        f"- Answers >= 500 during the run: {sum(r['5xx'] for r in rows)}; after the reset the catalog answers "
        f"{result['serves_after_reset']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="how long (default 30)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the clients' choices")
    args = parser.parse_args(argv)
    result = run(args.minutes, args.clients, args.seed)
    text = report(result)
    out = results_file(f"soak-{dt.date.today().isoformat()}")
    out.write_text(text)
    print(text)
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
