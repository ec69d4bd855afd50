"""Benchmarks: `make bench` (python -m bench) runs them and writes bench/results/<date>.md.

Numbers are measured here and reported; tests never assert on timing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

RESULTS = Path(__file__).with_name("results")


def results_file(stem: str) -> Path:
    """bench/results/<stem>.md, or <stem>-<time>.md when a run of the same day wrote that one."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{stem}.md"
    return out if not out.exists() else RESULTS / f"{stem}-{dt.datetime.now():%H%M}.md"
