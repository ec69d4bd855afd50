"""Derive tests/data/expected_operations.yaml from Xsolla's reference operation lists.

The test suite checks the bundled spec against that table: every operation of the
reference with its method, path, group and security scheme, and every error the
reference documents for it (status and errorCode). The table is ours and lives in
the repository, so the tests never need the reference material; re-derive it when
the reference changes:

    .venv/bin/python maintainer/derive_expected_operations.py --reference DIR

DIR holds the reference's tab-separated lists: liveops-operations.tsv and
catalog-operations.tsv (group, operation, method, path, auth) and errors.tsv
(operation, method, path, status, errorCode, errorMessage).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "expected_operations.yaml"
APIS = {"LiveOps": "liveops-operations.tsv", "Catalog": "catalog-operations.tsv"}
HEADER = """\
# The operations of Xsolla's LiveOps and Catalog API reference and the errors it
# documents for each (status: errorCodes), by API and group. tests/test_spec.py checks
# the bundled spec against this table. Derived from the reference's operation lists by
# maintainer/derive_expected_operations.py: re-derive rather than edit.
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def derive(reference: Path) -> dict[str, dict[str, dict[str, dict]]]:
    errors: dict[str, dict[str, set[int]]] = {}
    for row in _rows(reference / "errors.tsv"):
        errors.setdefault(row["operation"], {}).setdefault(row["status"], set()).add(int(row["errorCode"]))
    table: dict[str, dict[str, dict[str, dict]]] = {}
    seen = set()
    for api, name in APIS.items():
        for row in _rows(reference / name):
            entry = {"method": row["method"], "path": row["path"], "auth": row["auth"]}
            documented = errors.get(row["operation"])
            if documented:
                entry["errors"] = {status: sorted(codes) for status, codes in sorted(documented.items())}
            table.setdefault(api, {}).setdefault(row["group"], {})[row["operation"]] = entry
            seen.add(row["operation"])
    unknown = sorted(set(errors) - seen)
    if unknown:
        raise SystemExit(f"errors.tsv names operations the lists do not have: {', '.join(unknown)}")
    return table


def render(table: dict[str, dict[str, dict[str, dict]]]) -> str:
    lines = [HEADER.rstrip("\n")]
    for api, groups in table.items():
        lines.append(f"{api}:")
        for group, operations in groups.items():
            lines.append(f"  {group}:")
            for operation, entry in operations.items():
                flow = yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, width=10**6).strip()
                lines.append(f"    {operation}: {flow}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="folder of the reference's .tsv lists")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT.relative_to(ROOT)})")
    args = parser.parse_args()
    table = derive(args.reference)
    args.out.write_text(render(table), encoding="utf-8")
    count = sum(len(ops) for groups in table.values() for ops in groups.values())
    print(f"wrote {args.out}: {count} operations")


if __name__ == "__main__":
    main()
