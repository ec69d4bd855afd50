"""What a client's test run exercised: operations and documented statuses, and what it did not.

`Tally` counts the answers a client got, per operation and status (and the calls no
operation matched, and the connections a fault rule dropped). Its size depends on the
spec, not on the number of requests, so it counts a whole test session however long.

`report()` reads the resolved spec for what each operation documents (its response
statuses) and compares: per operation, the documented statuses exercised and missing,
the undocumented ones seen (an injected 503, say), whether a documented success answer
(2xx) was among them, and totals over a scope of operations. `markdown()` and `table()`
print it.

A scope selects operations by operationId (`fnmatch` patterns: `get-virtual-*`), by tag
(`Cart`) or by API (`Catalog`, `LiveOps`); without one, every operation of the spec.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .spec import Operation, Spec

MAX_UNMATCHED = 200  # distinct unmatched (method, path) kept; more are only counted


class Tally:
    """Answers per (operation, status), thread-safe and mergeable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.answers: Counter[tuple[str, int]] = Counter()
            self.injected: Counter[tuple[str, int]] = Counter()  # answers a fault rule produced
            self.dropped: Counter[str] = Counter()  # connections a fault rule dropped
            self.unmatched: Counter[tuple[str, str]] = Counter()
            self.unmatched_other = 0
            self.since = time.time()

    def record(self, entry: Mapping[str, Any]) -> None:
        """Count one journal entry (`operation`, `status`, `fault`, `method`, `path`)."""
        operation, status, fault = entry.get("operation"), entry.get("status"), entry.get("fault")
        with self._lock:
            if operation is None:
                key = (str(entry.get("method")), str(entry.get("path")))
                if key in self.unmatched or len(self.unmatched) < MAX_UNMATCHED:
                    self.unmatched[key] += 1
                else:
                    self.unmatched_other += 1
            elif fault and fault.get("disconnect"):
                self.dropped[operation] += 1
            elif status is not None:
                self.answers[(operation, int(status))] += 1
                if fault and fault.get("status") is not None:
                    self.injected[(operation, int(status))] += 1

    def merge(self, other: Tally) -> None:
        with other._lock:
            answers, injected, dropped = Counter(other.answers), Counter(other.injected), Counter(other.dropped)
            unmatched, other_count, since = Counter(other.unmatched), other.unmatched_other, other.since
        with self._lock:
            self.answers += answers
            self.injected += injected
            self.dropped += dropped
            self.unmatched += unmatched
            self.unmatched_other += other_count
            self.since = min(self.since, since)

    def __len__(self) -> int:
        with self._lock:
            return sum(self.answers.values()) + sum(self.dropped.values()) + sum(self.unmatched.values())


def documented_statuses(op: Operation) -> list[int]:
    """The statuses an operation documents (ranges such as `4XX` and `default` are not countable)."""
    return sorted(int(s) for s in op.responses if s.isdigit())


def select(spec: Spec, scope: Iterable[str] | str | None) -> list[Operation]:
    """The operations a scope names, in spec order; ValueError for an entry that names none."""
    entries = [e.strip() for e in (scope.split(",") if isinstance(scope, str) else scope or ()) if e.strip()]
    if not entries:
        return list(spec.operations.values())
    groups = {name.lower(): set(tags) for name, tags in spec.tag_groups.items()}
    chosen: set[str] = set()
    for entry in entries:
        key = entry.lower()
        found = {
            op.operation_id
            for op in spec.operations.values()
            if fnmatch.fnmatchcase(op.operation_id, entry)
            or key in (t.lower() for t in op.tags)
            or op.tag in groups.get(key, ())
        }
        if not found:
            names = [*spec.operations, *spec.by_tag(), *spec.tag_groups]
            near = difflib.get_close_matches(entry, names, n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(near)}?" if near else ""
            raise ValueError(f"coverage scope {entry!r} names no operation, tag or API.{hint}")
        chosen |= found
    return [op for op in spec.operations.values() if op.operation_id in chosen]


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def report(spec: Spec, tally: Tally, scope: Iterable[str] | str | None = None) -> dict[str, Any]:
    """The coverage of `scope` (default: every operation) by the answers in `tally`."""
    operations = select(spec, scope)
    with tally._lock:
        answers, injected, dropped = Counter(tally.answers), Counter(tally.injected), Counter(tally.dropped)
        unmatched, unmatched_other, since = Counter(tally.unmatched), tally.unmatched_other, tally.since
    seen: dict[str, dict[int, int]] = {}
    for (operation, status), count in answers.items():
        seen.setdefault(operation, {})[status] = count
    rows = []
    documented_total = documented_hit = exercised_ops = succeeded = 0
    for op in operations:
        statuses = seen.get(op.operation_id, {})
        documented = documented_statuses(op)
        hit = [s for s in documented if s in statuses]
        calls = sum(statuses.values()) + dropped[op.operation_id]
        exercised_ops += bool(calls)
        documented_total += len(documented)
        documented_hit += len(hit)
        success = any(200 <= s < 300 for s in hit)
        succeeded += success
        rows.append(
            {
                "operation": op.operation_id,
                "method": op.method,
                "path": op.path,
                "tag": op.tag,
                "calls": calls,
                "documented": documented,
                "exercised": {str(s): statuses[s] for s in hit},
                "missing": [s for s in documented if s not in statuses],
                "undocumented": {str(s): n for s, n in sorted(statuses.items()) if s not in documented},
                "injected": {str(s): n for (o, s), n in sorted(injected.items()) if o == op.operation_id},
                "dropped": dropped[op.operation_id],
                "success": success,  # a documented 2xx was answered
            }
        )
    return {
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since)),
        "scope": None if scope is None or scope == "" else scope if isinstance(scope, str) else ",".join(scope),
        "requests": sum(answers.values()) + sum(dropped.values()) + sum(unmatched.values()) + unmatched_other,
        "operations": {
            "total": len(operations),
            "exercised": exercised_ops,
            "percent": _percent(exercised_ops, len(operations)),
        },
        "responses": {
            "total": documented_total,
            "exercised": documented_hit,
            "percent": _percent(documented_hit, documented_total),
        },
        "success": {"total": len(operations), "reached": succeeded, "percent": _percent(succeeded, len(operations))},
        "by_operation": rows,
        "unmatched": [
            {"method": m, "path": p, "count": n} for (m, p), n in sorted(unmatched.items(), key=lambda kv: -kv[1])
        ]
        + ([{"method": "*", "path": "(other paths)", "count": unmatched_other}] if unmatched_other else []),
    }


def _statuses(counts: Mapping[str, int], injected: Mapping[str, int] | None = None) -> str:
    injected = injected or {}
    return ", ".join(f"{s} x{n}" + (f" ({injected[s]} injected)" if injected.get(s) else "") for s, n in counts.items())


def summary_line(data: Mapping[str, Any]) -> str:
    ops, resp = data["operations"], data["responses"]
    return (
        f"operations {ops['exercised']}/{ops['total']} ({ops['percent']}%), "
        f"documented responses {resp['exercised']}/{resp['total']} ({resp['percent']}%), "
        f"{data['requests']} requests"
    )


def table(data: Mapping[str, Any]) -> str:
    """Plain text for a terminal: the exercised operations in full, the others counted per tag."""
    rows = [r for r in data["by_operation"] if r["calls"]]
    width = max([len(r["operation"]) for r in rows] + [9])
    lines = [f"{'operation':{width}}  {'calls':>5}  exercised / missing / also seen"]
    for r in rows:
        parts = [_statuses(r["exercised"], r["injected"]) or "-", " ".join(map(str, r["missing"])) or "-"]
        extra = _statuses(r["undocumented"], r["injected"])
        if r["dropped"]:
            extra = ", ".join(filter(None, [extra, f"dropped x{r['dropped']}"]))
        lines.append(
            f"{r['operation']:{width}}  {r['calls']:5}  {parts[0]} / {parts[1]}" + (f" / {extra}" if extra else "")
        )
    idle = Counter(r["tag"] for r in data["by_operation"] if not r["calls"])
    if idle:
        lines.append("not exercised: " + ", ".join(f"{tag or '(untagged)'} {n}" for tag, n in sorted(idle.items())))
    if data["unmatched"]:
        lines.append(f"no operation matched: {sum(u['count'] for u in data['unmatched'])} requests")
    lines.append(summary_line(data))
    return "\n".join(lines)


def markdown(data: Mapping[str, Any]) -> str:
    """A Markdown report: totals, then every operation of the scope."""
    lines = [
        "# API coverage of the test run",
        "",
        f"Since {data['since']}"
        + (f", scope `{data['scope']}`" if data["scope"] else "")
        + ": "
        + summary_line(data)
        + ".",
        "",
        "| Operation | Calls | 2xx | Exercised | Missing | Also seen |",
        "|---|---:|:-:|---|---|---|",
    ]
    for r in sorted(data["by_operation"], key=lambda r: (not r["calls"], r["tag"], r["operation"])):
        extra = [_statuses(r["undocumented"], r["injected"])] + ([f"dropped x{r['dropped']}"] if r["dropped"] else [])
        exercised = _statuses(r["exercised"], r["injected"])
        lines.append(
            f"| `{r['operation']}` ({r['method']} `{r['path']}`) | {r['calls']} "
            f"| {'yes' if r['success'] else '**no**'} | {exercised} "
            f"| {' '.join(map(str, r['missing']))} | {', '.join(filter(None, extra))} |"
        )
    if data["unmatched"]:
        lines += ["", "Requests no operation matched:", ""]
        lines += [f"- `{u['method']} {u['path']}` x{u['count']}" for u in data["unmatched"]]
    return "\n".join(lines) + "\n"


def shortfalls(
    data: Mapping[str, Any],
    operations: float | None = None,
    responses: float | None = None,
    success: float | None = None,
) -> list[str]:
    """What falls below the minimum percentages given (operations called, documented responses
    answered, operations that got a documented success answer)."""
    found = []
    for minimum, part, name in (
        (operations, "operations", "operations called"),
        (responses, "responses", "documented responses answered"),
        (success, "success", "operations with a documented success answer"),
    ):
        if minimum is not None and data[part]["percent"] < minimum:
            found.append(f"{name} {data[part]['percent']}% is below the minimum of {minimum}%")
    return found


def write_reports(data: Mapping[str, Any], json_path: Path | None, markdown_path: Path | None) -> list[Path]:
    """Write the JSON and Markdown reports (creating their folders); the paths written."""
    written = []
    for path, render in (
        (json_path, lambda: json.dumps(data, indent=1) + "\n"),
        (markdown_path, lambda: markdown(data)),
    ):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render())
            written.append(path)
    return written
