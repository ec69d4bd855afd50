"""`make bench` (`python -m bench`): every benchmark, written to bench/results/<date>.md
(or <date>-<time>.md when a run of the same day is there; never asserted in tests).
`python -m bench <name>` runs one of them; each subcommand is a function of this module's
COMMANDS table, which writes its own section of the results.

`python -m bench soak --minutes N [--clients C]` is the long run under mixed traffic
(bench/soak.py, not part of `make bench`), written to bench/results/soak-<date>.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Callable

from . import results_file


def row(name: str, r: dict, extra: str = "") -> str:
    load = f"{r['load']:.1f} ({r['load_min']:.1f}-{r['load_max']:.1f})"
    return (
        f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} | "
        f"{r['socket_errors']} | {load} |{extra}"
    )


HEAD = [
    "| target / scenario | req/s | p50 ms | p99 ms | non-2xx | socket errors | load (min-max) |",
    "|---|---:|---:|---:|---:|---:|---|",
]


def serving(seconds: int, rounds: int) -> list[str]:
    from . import serve

    print("serving (mock, `xsolla-contract mock`, Prism, bare Flask; then lists at 100 / 10,000 / 100,000) ...")
    served = serve.run(seconds=seconds, rounds=rounds)
    ours, mock, prism, bare, ratios = (served[k] for k in ("ours", "mock", "prism", "bare", "ratios"))
    lines = [
        f"Machine: {served['cpus']} CPUs, Python {platform.python_version()}, {platform.machine()}, shared with "
        "other work: the load column is the 1-minute load average read before each run (median, min-max), and "
        f"figures taken at a load above {served['cpus']} are lower than the machine gives when quiet. wrk: 2 threads, "
        f"32 connections, {seconds} s per run, on the same machine. Ours and the bare app: gunicorn, "
        f"{served['workers']} gthread workers x 8 threads, each taking at most its share of the connections; "
        "ours with SQLite state shared by the workers, request and "
        "response validation on. `xsolla-contract mock`: one process (waitress, 8 threads), memory state, the "
        "same 50-item page, its response cache (on by default) off. Prism: `prism mock` of `xsolla-contract spec "
        "bundle`. All targets run at once; "
        f"{served['rounds']} rounds measure every scenario back to back; the tables give the medians of the rounds, "
        "the ratios the medians of the per-round ratios.",
        "",
        "## Serving, response cache off (every answer built anew)",
        "",
        *HEAD,
        row("ours: (a) catalog list, 50 items", ours["list"]),
        row("ours: (b) admin create", ours["create"]),
        row("ours: (c) coupon redeem", ours["redeem"]),
        row("ours: (d) day in the life, 50 users", ours["mixed"]),
        row("`xsolla-contract mock`: (a) catalog list", mock["list"]),
        row("Prism: (a) catalog list", prism["list"]),
        row("Prism: (b) admin create", prism["create"]),
        row("bare Flask: (a) same list body", bare["list"]),
        row("bare Flask: (b) same create answer", bare["create"]),
        "",
        "| ratio | value |",
        "|---|---:|",
        f"| ours / Prism, (a) list | {ratios['list / prism']:.2f}x |",
        f"| ours / bare Flask, (a) list | {ratios['list / bare']:.2f}x |",
        f"| ours / Prism, (b) create | {ratios['create / prism']:.2f}x |",
        f"| ours / bare Flask, (b) create | {ratios['create / bare']:.2f}x |",
        f"| `xsolla-contract mock` / Prism, (a) list | {ratios['mock list / prism']:.2f}x |",
        "",
        "(d) cycles through catalog pages (offsets 0-60, locales en/de/fr/es, a group), an item, bundles, the "
        "cart (set a line, read it, fill it), purchases of one item, coupon redemptions, and admin edits, admin "
        "lists and admin creates in between, each request as one of 50 users in turn.",
        "",
        "## With the response cache (a repeated GET within the same second and state)",
        "",
        *HEAD,
        row("ours: (a) catalog list, response cache on", ours["list, response cache on"]),
        "",
        f"Hit rate of the response cache in that run: {served['hit_rate'] * 100:.0f}% (a client's tests, where "
        "most reads follow a write, see a rate near 0% and the figure of the first table).",
        "",
        "Prism answers the list from the spec's example (one item) and keeps no state; ours builds the page "
        "from state. Non-2xx answers are errors of the target.",
        "",
        "## (e) Lists with a larger store (response cache off)",
        "",
        "| list | records | first page req/s | p50 ms | offset 50 req/s | p50 ms | first page vs 100 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sizes in served["scale"].items():
        base = sizes[min(sizes)]["first page"]["rps"]
        for size, r in sizes.items():
            first, later = r["first page"], r["offset 50"]
            slower = base / first["rps"] if first["rps"] else float("inf")
            lines.append(
                f"| {name} | {size:,} | {first['rps']:.0f} | {first['p50_ms']:.1f} | {later['rps']:.0f} | "
                f"{later['p50_ms']:.1f} | {slower:.2f}x the cost |"
            )
    lines += [
        "",
        f"- Mock start-up (`xsolla-contract mock`, seeded, to the first answer): {served['startup_s']:.2f} s.",
    ]
    return lines


def spec_and_validation(seconds: int, rounds: int) -> list[str]:
    from . import spec_load, validation

    print("spec load, validation ...")
    load = spec_load.run()
    pairs = validation.run()
    lines = [
        "## Spec, validation",
        "",
        f"- `Spec.from_path()` of the bundled spec: cold {load['cold_s'] * 1000:.0f} ms, warm (cached) "
        f"{load['warm_s'] * 1000:.0f} ms ({load['speedup']:.0f}x).",
    ]
    for name, r in pairs.items():
        lines.append(
            f"- Request+response pairs validated per second, {name}: openapi-core as it comes (one cached "
            f"`OpenAPI` object) {r['openapi_core']:.0f}, ours without compiled checks {r['uncompiled']:.0f}, "
            f"ours {r['ours']:.0f} ({r['ours'] / r['openapi_core']:.1f}x); ours with a query string never seen "
            f"before (the memo of accepted parameters does not answer) {r['ours_new_query']:.0f}; ours with the "
            f"same response again (its verdict is remembered by content) {r['ours_same_response']:.0f}."
        )
    return lines


# name -> section writer(seconds, rounds) -> markdown lines; `python -m bench` runs them all in order
COMMANDS: dict[str, Callable[[int, int], list[str]]] = {
    "serve": serving,
    "validation": spec_and_validation,
}


def main(argv: list[str]) -> None:
    names = argv or list(COMMANDS)
    unknown = [n for n in names if n not in COMMANDS]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; choose from: {', '.join(COMMANDS)}")
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    today = dt.date.today().isoformat()
    lines = [f"# Benchmarks, {today}", ""]
    for name in names:
        lines += [*COMMANDS[name](seconds, rounds), ""]
    out = results_file(today if not argv else f"{today}-{'-'.join(names)}")
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"\nwrote {out}", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["soak"]:
        from . import soak

        soak.main(sys.argv[2:])
    else:
        main(sys.argv[1:])
