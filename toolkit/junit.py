"""JUnit XML for QA pipelines: one test case per operation, failures listing violations."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree as ET


def write_junit(
    path: str | os.PathLike[str], suite: str, cases: Iterable[tuple[str, int, list[str]]], time_s: float = 0.0
) -> Path:
    """cases: (name, number of checks, failure messages). An empty message list is a pass."""
    cases = list(cases)
    failures = sum(1 for _, _, msgs in cases if msgs)
    root = ET.Element(
        "testsuites", name=suite, tests=str(len(cases)), failures=str(failures), errors="0", time=f"{time_s:.3f}"
    )
    element = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{time_s:.3f}",
    )
    for name, checks, messages in cases:
        case = ET.SubElement(element, "testcase", classname=suite, name=name, time="0")
        ET.SubElement(case, "system-out").text = f"{checks} exchange(s) checked"
        if messages:
            failure = ET.SubElement(
                case, "failure", message=f"{len(messages)} contract violation(s)", type="ContractViolation"
            )
            failure.text = "\n".join(messages)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out
