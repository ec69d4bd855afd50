"""Cold and warm `Spec.from_path()` of the bundled spec.

Cold: an empty cache directory, so prance resolves every $ref and the result is
validated. Warm: the cache written by the cold load, keyed by the sources' hashes.
Each load runs in a fresh interpreter so that nothing stays in memory between
runs; the time is measured around the call inside that interpreter.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile

_PROBE = """
import json, os, sys, time
from xsolla_contract.toolkit.spec import Spec
t = time.perf_counter(); s = Spec.from_path(); dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "operations": len(s.operations)}))
"""


def _load_once(cache_dir: str) -> dict:
    env = {"XSOLLA_CONTRACT_CACHE": cache_dir, "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(cold_runs: int = 3, warm_runs: int = 7) -> dict:
    cold, warm = [], []
    for _ in range(cold_runs):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(_load_once(cache)["seconds"])
            for _ in range(warm_runs // cold_runs + 1):
                warm.append(_load_once(cache)["seconds"])
    result = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm)}
    result["speedup"] = result["cold_s"] / result["warm_s"]
    return result


if __name__ == "__main__":
    r = run()
    print(f"Spec.from_path cold {r['cold_s'] * 1000:.0f} ms, warm {r['warm_s'] * 1000:.0f} ms, {r['speedup']:.1f}x")
