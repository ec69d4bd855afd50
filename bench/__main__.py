"""`make bench`: every benchmark, written to bench/results/<date>.md (never asserted in tests).

`python -m bench soak --minutes N [--clients C]`: the long run under mixed traffic (bench/soak.py),
written to bench/results/soak-<date>.md.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path

from . import serve, spec_load, validation

RESULTS = Path(__file__).with_name("results")


def row(name: str, r: dict) -> str:
    latency = f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f}"
    return f"| {name} | {r['rps']:.0f} | {latency} | {r['non_2xx']} | {r['socket_errors']} |"


def main() -> None:
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    print("spec load ...", flush=True)
    load = spec_load.run()
    print("validation ...", flush=True)
    pairs = validation.run()
    print("serving (mock, Prism, bare Flask; then 100 / 10,000 / 100,000 items) ...", flush=True)
    served = serve.run(seconds=seconds, rounds=rounds)
    ours, prism, bare, ratios = served["ours"], served["prism"], served["bare"], served["ratios"]
    today = dt.date.today().isoformat()
    lines = [
        f"# Benchmarks, {today}",
        "",
        f"Machine: {served['cpus']} CPUs, Python {platform.python_version()}, {platform.machine()}. "
        f"wrk: 2 threads, 32 connections, {seconds} s per run, on the same machine. "
        f"Ours and the bare app: gunicorn, {served['workers']} gthread workers x 8 threads; ours with SQLite state "
        "shared by the workers, request and response validation on. Prism: `prism mock` of `xsolla-contract spec "
        f"bundle`. All targets run at once; {served['rounds']} rounds measure every scenario back to back; the "
        "tables give the medians of the rounds, the ratios the medians of the per-round ratios.",
        "",
        "## Serving",
        "",
        "| target / scenario | req/s | p50 ms | p99 ms | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|",
        row("ours: (a) catalog list, 50 items", ours["list"]),
        row("ours: (a) same, response cache off", ours["list, no response cache"]),
        row("ours: (b) admin create", ours["create"]),
        row("ours: (c) coupon redeem", ours["redeem"]),
        row("Prism: (a) catalog list", prism["list"]),
        row("Prism: (b) admin create", prism["create"]),
        row("bare Flask: (a) same list body", bare["list"]),
        row("bare Flask: (b) same create answer", bare["create"]),
        "",
        "| ratio | (a) list | (b) create |",
        "|---|---:|---:|",
        f"| ours / Prism | {ratios['list / prism']:.2f}x | {ratios['create / prism']:.2f}x |",
        f"| ours / bare | {ratios['list / bare']:.2f}x | {ratios['create / bare']:.2f}x |",
        "",
        "Prism answers the list from the spec's example (one item) and keeps no state; ours builds the page "
        "from state. Non-2xx answers are errors of the target (for example Prism's validation of our "
        "generated credentials).",
        "",
        "## Catalog list with a larger store (response cache off: every request builds its page)",
        "",
        "| items in the store | first page req/s | p50 ms | second page req/s | p50 ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size, r in served["scale"].items():
        lines.append(
            f"| {size:,} | {r['first page']['rps']:.0f} | {r['first page']['p50_ms']:.1f} | "
            f"{r['second page']['rps']:.0f} | {r['second page']['p50_ms']:.1f} |"
        )
    lines += [
        "",
        "## Spec, validation, start-up",
        "",
        f"- `Spec.from_path()` of the bundled spec: cold {load['cold_s'] * 1000:.0f} ms, warm (cached) "
        f"{load['warm_s'] * 1000:.0f} ms ({load['speedup']:.0f}x).",
    ]
    for name, r in pairs.items():
        lines.append(
            f"- Request+response pairs validated per second, {name}: openapi-core as it comes (one cached "
            f"`OpenAPI` object) {r['openapi_core']:.0f}, ours without compiled checks {r['uncompiled']:.0f}, "
            f"ours {r['ours']:.0f} ({r['ours'] / r['openapi_core']:.1f}x); ours with a query string never seen "
            f"before (the memo of accepted parameters does not answer) {r['ours_new_query']:.0f}."
        )
    lines.append(f"- Mock start-up (`xsolla-contract mock`, seeded, to the first answer): {served['startup_s']:.2f} s.")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{today}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {out}", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["soak"]:
        from . import soak

        soak.main(sys.argv[2:])
    else:
        main()
