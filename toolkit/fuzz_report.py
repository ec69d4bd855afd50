"""What a fuzz run found and reached: per operation, the statuses seen and the failures.

`RunRecord` collects every call (operation label, status) and every failure of every
phase. From it and the spec come:

- the coverage report, operation x status: documented statuses seen and not seen,
  undocumented statuses that appeared, and whether a documented success answer (2xx)
  was reached; as JSON (`coverage.json`) and Markdown (`coverage.md`);
- the JUnit report: one test case per operation (failures of the per-operation
  phases), one per workflow and one per stateful group (failures of sequences);
- the summary printed at the end of a run.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .spec import Operation, Spec


@dataclass(frozen=True)
class Finding:
    """One failure: which phase, which test case (an operation, a workflow, a stateful group),
    the operation it is about, the check, and how to reproduce it."""

    phase: str
    case: str
    operation: str
    check: str
    title: str
    message: str = ""
    reproduce: str = ""

    def line(self) -> str:
        text = f"{self.check}: {self.title}" if self.check else self.title
        return text + (f" ({self.message.splitlines()[0][:160]})" if self.message.strip() else "")


@dataclass
class RunRecord:
    """Every call and failure of a run, from any thread."""

    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    findings: list[Finding] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # per test case
    phase_times: dict[str, float] = field(default_factory=dict)
    phase_calls: Counter[str] = field(default_factory=Counter)
    phase: str = ""
    _keys: set[tuple[str, ...]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record_call(self, label: str, status: int) -> None:
        with self._lock:
            self.statuses[label][status] += 1
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
        return sum(sum(c.values()) for c in self.statuses.values())


def _label(op: Operation) -> str:
    return f"{op.method} {op.path}"


def operation_rows(spec: Spec, selected: Iterable[str], record: RunRecord) -> list[dict[str, Any]]:
    """The coverage report's rows: one per selected operation, in the spec's group order."""
    rows = []
    failures = Counter(f.operation for f in record.findings)
    for op in sorted((spec.operation(o) for o in selected), key=lambda o: (o.tag, o.operation_id)):
        seen = record.statuses.get(_label(op), Counter())
        documented = sorted(int(s) for s in op.responses if s.isdigit())
        rows.append(
            {
                "operation": op.operation_id,
                "method": op.method,
                "path": op.path,
                "group": op.tag,
                "calls": sum(seen.values()),
                "statuses": {str(s): n for s, n in sorted(seen.items())},
                "documented_seen": [s for s in documented if s in seen],
                "documented_not_seen": [s for s in documented if s not in seen],
                "undocumented": sorted(s for s in seen if s not in documented),
                "success_reached": any(200 <= s < 300 for s in documented if s in seen),
                "failures": failures.get(_label(op), 0),
            }
        )
    return rows


def success_coverage(rows: list[dict[str, Any]]) -> float:
    return 100.0 * sum(r["success_reached"] for r in rows) / len(rows) if rows else 100.0


def write_coverage(rows: list[dict[str, Any]], record: RunRecord, directory: Path, meta: dict[str, Any]) -> list[Path]:
    """coverage.json and coverage.md in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    totals = {
        "operations": len(rows),
        "success_reached": sum(r["success_reached"] for r in rows),
        "success_coverage_percent": round(success_coverage(rows), 1),
        "calls": record.calls,
        "failures": len(record.findings),
        "phase_seconds": {k: round(v, 1) for k, v in record.phase_times.items()},
        "phase_calls": dict(record.phase_calls),
    }
    data = {
        "run": meta,
        "totals": totals,
        "operations": rows,
        "failures": [asdict(f) for f in record.findings],
    }
    json_path = directory / "coverage.json"
    json_path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    lines = [
        "# Fuzz coverage",
        "",
        f"{totals['success_reached']}/{totals['operations']} operations reached a documented success answer "
        f"({totals['success_coverage_percent']}%); {totals['calls']} calls; {totals['failures']} failures.",
        "",
        "| Group | Operation | 2xx | Calls | Statuses seen | Documented, not seen | Undocumented | Failures |",
        "|---|---|:-:|--:|---|---|---|--:|",
    ]
    for r in rows:
        seen = ", ".join(f"{s}×{n}" for s, n in r["statuses"].items()) or "none"
        lines.append(
            f"| {r['group']} | `{r['operation']}` | {'yes' if r['success_reached'] else '**no**'} | {r['calls']} "
            f"| {seen} | {', '.join(map(str, r['documented_not_seen'])) or '-'} "
            f"| {', '.join(map(str, r['undocumented'])) or '-'} | {r['failures'] or ''} |"
        )
    if record.findings:
        lines += ["", "## Failures", ""]
        for f in record.findings:
            lines.append(f"- **{f.case}** ({f.phase}): {f.line()}")
    md_path = directory / "coverage.md"
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [json_path, md_path]


def write_junit(spec: Spec, selected: Iterable[str], record: RunRecord, path: Path, extra_cases: list[str]) -> Path:
    """One test suite: a case per operation, then the workflow and stateful cases (`extra_cases`)."""
    by_case: dict[str, list[Finding]] = defaultdict(list)
    for finding in record.findings:
        by_case[finding.case].append(finding)
    names = [_label(spec.operation(o)) for o in sorted(selected, key=lambda o: _label(spec.operation(o)))]
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
            failure.text = "\n\n".join(
                f"- {f.line()}\n{f.message}".rstrip()
                + (f"\n\nReproduce with:\n    {f.reproduce}" if f.reproduce else "")
                for f in findings
            )
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


def summary(rows: list[dict[str, Any]], record: RunRecord) -> str:
    """The end of a run's output: operations without a success answer, failures, totals."""
    lines = ["", "Per-operation coverage", "======================"]
    failing = defaultdict(list)
    for f in record.findings:
        failing[f.operation].append(f)
    for r in rows:
        label = f"{r['method']} {r['path']}"
        mark = "FAIL" if failing.get(label) else "ok  " if r["success_reached"] else "no2x" if r["calls"] else "none"
        seen = ", ".join(f"{s}x{n}" for s, n in r["statuses"].items()) or "no calls"
        lines.append(f"{mark} {r['operation']:52} {r['calls']:5} calls  statuses {seen}")
        for name, n in Counter(f.line() for f in failing.get(label, [])).items():
            lines.append(f"       {name}" + (f" (x{n})" if n > 1 else ""))
    labels = {f"{r['method']} {r['path']}" for r in rows}
    for case, findings in sorted({f.case: [] for f in record.findings}.items()):
        findings = [f for f in record.findings if f.case == case and f.operation not in labels]
        if findings:
            lines.append(f"FAIL {case}")
            lines += [f"       {f.line()}" for f in findings]
    reached = sum(r["success_reached"] for r in rows)
    exercised = sum(1 for r in rows if r["calls"])
    lines.append(
        f"\n{exercised}/{len(rows)} operations exercised, {reached}/{len(rows)} reached a documented 2xx "
        f"({success_coverage(rows):.1f}%), {record.calls} calls, {len(record.findings)} failures"
    )
    return "\n".join(lines)
