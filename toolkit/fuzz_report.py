"""What a fuzz run found and reached: per operation, the statuses seen and the failures.

`RunRecord` counts every call of every phase (operation x status, in a `coverage.Tally`)
and keeps every failure. From it and the spec come:

- the coverage report (`coverage.report`, operation x status: documented statuses seen
  and not seen, undocumented ones that appeared, whether a documented success answer was
  reached), with the run's failures and phase times; as JSON (`coverage.json`) and
  Markdown (`coverage.md`);
- the JUnit report: one test case per operation (failures of the per-operation
  phases), one per workflow and one per stateful group (failures of sequences);
- the summary printed at the end of a run.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from . import coverage
from .spec import Spec


@dataclass(frozen=True)
class Finding:
    """One failure: which phase, which test case (an operation, a workflow, a stateful group),
    the operation it is about (`METHOD /path`), the check, and how to reproduce it."""

    phase: str
    case: str
    operation: str
    check: str
    title: str
    message: str = ""
    reproduce: str = ""

    def line(self) -> str:
        text = f"{self.check}: {self.title}" if self.check else self.title
        return text + (f" ({self.message.strip().splitlines()[0][:160]})" if self.message.strip() else "")


@dataclass
class RunRecord:
    """Every call and failure of a run, from any thread."""

    tally: coverage.Tally = field(default_factory=coverage.Tally)
    findings: list[Finding] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # per test case
    phase_times: dict[str, float] = field(default_factory=dict)
    phase_calls: Counter[str] = field(default_factory=Counter)
    phase: str = ""
    _keys: set[tuple[str, ...]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record_call(self, operation_id: str, status: int) -> None:
        self.tally.record({"operation": operation_id, "status": status})
        with self._lock:
            self.phase_calls[self.phase] += 1

    def add(self, finding: Finding) -> None:
        """Keep a failure, once per test case, operation, check and title (the first message)."""
        key = (finding.case, finding.operation, finding.check, finding.title)
        with self._lock:
            if key not in self._keys:
                self._keys.add(key)
                self.findings.append(finding)

    @property
    def calls(self) -> int:
        return len(self.tally)


def _label(row: dict[str, Any]) -> str:
    return f"{row['method']} {row['path']}"


def coverage_report(spec: Spec, selected: set[str], record: RunRecord) -> dict[str, Any]:
    """`coverage.report` of the selected operations, each row with its number of failures."""
    data = coverage.report(spec, record.tally, sorted(selected))
    data["scope"] = None if len(selected) == len(spec.operations) else f"{len(selected)} selected operations"
    failures = Counter(f.operation for f in record.findings)
    for row in data["by_operation"]:
        row["failures"] = failures.get(_label(row), 0)
    return data


def write_coverage(data: dict[str, Any], record: RunRecord, directory: Path, meta: dict[str, Any]) -> list[Path]:
    """coverage.json and coverage.md in `directory`: the coverage, the run's failures and times."""
    full = {
        **data,
        "run": meta,
        "phases": {
            name: {"seconds": round(seconds, 1), "calls": record.phase_calls.get(name, 0)}
            for name, seconds in record.phase_times.items()
        },
        "failures": [asdict(f) for f in record.findings],
    }
    text = coverage.markdown(data).replace("# API coverage of the test run", "# Fuzz run: coverage and failures", 1)
    if record.findings:
        text += "\n## Failures\n\n" + "".join(f"- **{f.case}** ({f.phase}): {f.line()}\n" for f in record.findings)
    paths = [directory / "coverage.json", directory / "coverage.md"]
    directory.mkdir(parents=True, exist_ok=True)
    paths[0].write_text(json.dumps(full, indent=1) + "\n", encoding="utf-8")
    paths[1].write_text(text, encoding="utf-8")
    return paths


def write_junit(data: dict[str, Any], record: RunRecord, path: Path, extra_cases: list[str]) -> Path:
    """One test suite: a case per operation, then the workflow and stateful cases (`extra_cases`)."""
    by_case: dict[str, list[Finding]] = defaultdict(list)
    for finding in record.findings:
        by_case[finding.case].append(finding)
    names = sorted(_label(row) for row in data["by_operation"])
    names += [c for c in extra_cases if c not in names]
    names += [c for c in by_case if c not in names]
    root = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(root, "testsuite", name="xsolla-contract fuzz")
    failed = 0
    for name in names:
        case = ElementTree.SubElement(suite, "testcase", classname="xsolla-contract fuzz", name=name)
        findings = by_case.get(name, [])
        if findings:
            failed += 1
            failure = ElementTree.SubElement(case, "failure", message=f"{len(findings)} failure(s)", type="failure")
            failure.text = "\n\n".join(_failure_text(f) for f in findings)
        notes = record.notes.get(name)
        if notes:
            ElementTree.SubElement(case, "system-out").text = "\n".join(notes)
    for element in (root, suite):
        element.set("tests", str(len(names)))
        element.set("failures", str(failed))
        element.set("errors", "0")
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _failure_text(finding: Finding) -> str:
    text = f"- {finding.line()}\n{finding.message}".rstrip()
    return text + (f"\n\nReproduce with:\n    {finding.reproduce}" if finding.reproduce else "")


def summary(data: dict[str, Any], record: RunRecord) -> str:
    """The end of a run's output: each operation with its calls, statuses and failures; totals."""
    lines = ["", "Per-operation coverage", "======================"]
    failing = defaultdict(list)
    for f in record.findings:
        failing[f.operation].append(f)
    labels = set()
    for row in data["by_operation"]:
        label = _label(row)
        labels.add(label)
        mark = "FAIL" if failing.get(label) else "ok  " if row["success"] else "no2x" if row["calls"] else "none"
        statuses = {**row["exercised"], **row["undocumented"]}
        seen = ", ".join(f"{s}x{n}" for s, n in sorted(statuses.items())) or "no calls"
        lines.append(f"{mark} {row['operation']:52} {row['calls']:5} calls  statuses {seen}")
        for text, n in Counter(f.line() for f in failing.get(label, [])).items():
            lines.append(f"       {text}" + (f" (x{n})" if n > 1 else ""))
    for operation, findings in failing.items():  # failures of operations outside the selection
        if operation not in labels:
            lines.append(f"FAIL {operation}")
            lines += [f"       {f.line()}" for f in findings]
    ops, success = data["operations"], data["success"]
    lines.append(
        f"\n{ops['exercised']}/{ops['total']} operations exercised, {success['reached']}/{success['total']} reached "
        f"a documented 2xx ({success['percent']}%), {record.calls} calls, {len(record.findings)} failures"
    )
    return "\n".join(lines)
