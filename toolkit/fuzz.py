"""Fuzz and stateful contract suites on schemathesis, against the mock or any server.

Two entry points share the same configuration:

- `contract_schema(...)`: a schemathesis schema for client projects, for
  `@schema.parametrize()` tests (`case.call_and_validate()`), configured for a
  base URL or the in-process mock, with the right credentials per operation.
- `run_fuzz(...)`: what `xsolla-contract fuzz` runs: schemathesis' own CLI in
  this process (its phases, checks, progress output and reports): the
  examples, coverage and fuzzing phases over every selected operation, then
  (with `--stateful`) one stateful run per API group, one JUnit report of all
  runs, and a per-operation summary at the end.

Credentials per operation follow the spec's security: Basic
`project_id:api_key` for `basicAuth`, the user JWT for `XsollaLoginUserJWT` and
`AuthForCart`. Generated `project_id` path values are pinned to the configured
project when they are valid, so cases reach that project's data; negative cases
that mutate `project_id` keep their invalid value.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import Spec

DEFAULT_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
)


@dataclass
class Credentials:
    project_id: int = 44056
    api_key: str = "fuzz-key"
    token: str | None = None  # user JWT; minted for the mock when None

    @classmethod
    def from_env(cls, basic: str | None = None, token: str | None = None, project_id: int | None = None) -> Credentials:
        """From flags, else XSOLLA_BASIC (PROJECT:KEY) and XSOLLA_TOKEN."""
        basic = basic or os.environ.get("XSOLLA_BASIC")
        creds = cls(token=token or os.environ.get("XSOLLA_TOKEN"))
        if basic:
            project, sep, key = basic.partition(":")
            if not sep or not project.isdigit() or not key:
                raise ValueError("Basic credentials must be PROJECT_ID:API_KEY")
            creds.project_id, creds.api_key = int(project), key
        if project_id is not None:
            creds.project_id = project_id
        return creds

    def user_token(self, jwt_secret: str | None = None) -> str:
        if self.token is None:
            from ..mocks.auth import mint_token

            self.token = mint_token(
                "fuzz-user", project=self.project_id, attributes={"tier": "gold", "level": 10}, secret=jwt_secret
            )
        return self.token

    def headers_for(self, security: list[dict[str, Any]] | None) -> dict[str, str]:
        names = {name for requirement in security or [] for name in requirement}
        if "basicAuth" in names or "basicMerchantAuth" in names:
            raw = f"{self.project_id}:{self.api_key}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if names & {"XsollaLoginUserJWT", "AuthForCart"}:
            return {"Authorization": f"Bearer {self.user_token()}"}
        return {}


def _security_of(operation: Any) -> list[dict[str, Any]] | None:
    definition = getattr(operation, "definition", None)
    raw = getattr(definition, "raw", definition) or {}
    return raw.get("security")


def _auth_provider(creds: Credentials) -> type:
    class OperationCredentials:
        """Sets the credentials each operation's security asks for."""

        def get(self, case: Any, context: Any) -> Credentials:
            return creds

        def set(self, case: Any, data: Credentials, context: Any) -> None:
            headers = data.headers_for(_security_of(context.operation))
            if headers:
                case.headers = {**(case.headers or {}), **headers}

    return OperationCredentials


def _pin_project(creds: Credentials):
    def map_case(context: Any, case: Any) -> Any:
        value = (case.path_parameters or {}).get("project_id")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            case.path_parameters["project_id"] = creds.project_id
        return case

    return map_case


def _patch_wsgi_transport() -> None:
    """Let schemathesis' WSGI transport call the app through a werkzeug client.

    schemathesis 4.32 forwards socket-level settings (max_redirects, verify, cert,
    proxies) to `werkzeug.Client.open`, which rejects them; it drops them only when
    the session is a `requests.Session`. Drop them for werkzeug clients too.
    """
    from schemathesis.transport import wsgi

    transport = wsgi.WSGITransport
    if getattr(transport.send, "_xsolla_tolerant", False):
        return
    original = transport.send

    def send(self: Any, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        import requests

        if not isinstance(session, requests.Session):
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    send._xsolla_tolerant = True  # type: ignore[attr-defined]
    transport.send = send


def mock_app(*, seed: int = 1, spec: Spec | None = None, jwt_secret: str | None = None, project_id: int = 44056) -> Any:
    from ..mocks import MockConfig, create_app

    return create_app(spec, config=MockConfig(seed=seed, project_id=project_id, jwt_secret=jwt_secret))


def contract_schema(
    base_url: str | None = None,
    *,
    app: Any = None,
    spec: Spec | None = None,
    credentials: Credentials | None = None,
    max_examples: int | None = None,
) -> Any:
    """A schemathesis schema of the bundled spec for a base URL or an in-process WSGI app (e.g. the mock).

    schema = contract_schema(app=mock_app())
    @schema.parametrize()
    def test_api(case):
        case.call_and_validate()
    """
    import schemathesis

    spec = spec or Spec.from_path()
    creds = credentials or Credentials.from_env()
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(spec.document)))
    if app is not None:
        _patch_wsgi_transport()
        schema.app = app
        schema.config.update(base_url=base_url or "http://127.0.0.1/api")
    elif base_url:
        schema.config.update(base_url=base_url)
    else:
        raise ValueError("give a base_url or an app")
    if max_examples is not None:
        schema.config.generation.update(max_examples=max_examples)
    schema.auth()(_auth_provider(creds))
    schema.hook("map_case")(_pin_project(creds))
    return schema


# ------------------------------------------------------------------ the CLI run


@dataclass
class Coverage:
    """What the run exercised, per operation label (`GET /v2/...`): statuses seen and failures."""

    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record_call(self, label: str, status: int) -> None:
        with self.lock:
            self.statuses[label][status] += 1

    def read_junit(self, path: str | Path) -> None:
        """Failures and errors per operation, from schemathesis' JUnit report."""
        from xml.etree import ElementTree

        for case in ElementTree.parse(path).getroot().iter("testcase"):
            for problem in [*case.findall("failure"), *case.findall("error")]:
                text = (problem.text or problem.get("message") or problem.tag).strip()
                titles = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")]
                self.failures[case.get("name", "?")].extend(titles or [text.splitlines()[0]])

    @property
    def failure_count(self) -> int:
        return sum(len(f) for f in self.failures.values())

    def summary(self, spec: Spec, selected: set[str]) -> str:
        by_label = {f"{op.method} {op.path}": op.operation_id for op in spec.operations.values()}
        lines = ["", "Per-operation coverage", "======================"]
        exercised = 0
        for label, op_id in sorted(by_label.items(), key=lambda kv: kv[1]):
            if op_id not in selected:
                continue
            statuses = self.statuses.get(label, Counter())
            failures = Counter(self.failures.get(label, []))
            exercised += bool(statuses)
            mark = "FAIL" if failures else "ok  " if statuses else "none"
            seen = ", ".join(f"{s}x{n}" for s, n in sorted(statuses.items())) or "no calls"
            lines.append(f"{mark} {op_id:52} {sum(statuses.values()):5} calls  statuses {seen}")
            lines += [f"       {name}" + (f" (x{n})" if n > 1 else "") for name, n in failures.items()]
        for label, names in sorted(self.failures.items()):
            if label not in by_label:  # failures of a stateful sequence, not of one operation
                lines.append(f"FAIL {label}")
                lines += [f"       {name}" + (f" (x{n})" if n > 1 else "") for name, n in Counter(names).items()]
        cases = sum(sum(c.values()) for c in self.statuses.values())
        lines.append(
            f"\n{exercised}/{len(selected)} operations exercised, {cases} calls, {self.failure_count} failures"
        )
        return "\n".join(lines)


@dataclass
class FuzzOptions:
    base_url: str | None = None
    app: str | None = None  # "mock"
    spec_path: str | None = None
    credentials: Credentials = field(default_factory=Credentials)
    include_tags: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    max_examples: int = 10
    seed: int | None = None
    workers: int = 1
    stateful: bool = False
    negative: bool = False
    read_only: bool = False
    junit: str | None = None
    report_dir: str | None = None
    checks: tuple[str, ...] = DEFAULT_CHECKS
    mock_seed: int = 1
    max_failures: int | None = None
    stateful_examples: int = 100  # scenarios of the stateful phase (each up to `stateful_steps` linked calls)
    stateful_steps: int = 10
    database: str = "none"  # schemathesis' example database: none, :memory: or a path


def selected_operations(spec: Spec, options: FuzzOptions) -> set[str]:
    chosen = set()
    for op in spec.operations.values():
        if options.include_tags and op.tag not in options.include_tags:
            continue
        if options.operations and op.operation_id not in options.operations:
            continue
        if options.read_only and op.method != "GET":
            continue
        chosen.add(op.operation_id)
    return chosen


def stateful_groups(spec: Spec, selected: set[str]) -> list[tuple[str, list[str]]]:
    """The selected operations by API group (tag), for one state machine each; groups
    without a link between two of their operations have no sequence to run."""
    groups: dict[str, list[str]] = defaultdict(list)
    for op in spec.operations.values():
        if op.operation_id in selected:
            groups[op.tag].append(op.operation_id)

    def linked(ops: list[str]) -> bool:
        return any(
            link.get("operationId") in ops
            for op_id in ops
            for links in spec.operation(op_id).links.values()
            for link in links.values()
        )

    return [(tag, sorted(ops)) for tag, ops in sorted(groups.items()) if linked(ops)]


STATEFUL_CASE = "Stateful tests"  # schemathesis' JUnit test case of a stateful phase


def merge_junit(reports: list[tuple[str, Path]], out: Path) -> None:
    """One JUnit file of several schemathesis reports (one test suite, every test case); the
    stateful case of each group's run is named after the group."""
    from xml.etree import ElementTree

    merged = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(merged, "testsuite", name="xsolla-contract fuzz")
    totals: Counter[str] = Counter()
    for group, report in reports:
        for case in ElementTree.parse(report).getroot().iter("testcase"):
            if group and case.get("name") == STATEFUL_CASE:
                case.set("name", f"{STATEFUL_CASE}: {group}")
            suite.append(case)
            totals["tests"] += 1
            totals["time"] += float(case.get("time") or 0)
            for kind, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
                totals[kind] += bool(case.find(tag) is not None)
    for element in (merged, suite):
        for kind in ("tests", "failures", "errors", "skipped"):
            element.set(kind, str(totals[kind]))
        element.set("time", f"{totals['time']:.3f}")
    out.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)


def _schemathesis(
    st_cli: Any, options: FuzzOptions, bundle: Path, config: Path, phases: str, ops: list[str], junit: Path
) -> int:
    """One run of schemathesis' CLI, in this process, over `ops` and `phases`."""
    args = [
        "--config-file",
        str(config),
        "run",
        str(bundle),
        "--url",
        options.base_url or "http://mock.local/api",
        "--workers",
        str(options.workers),
        "--checks",
        ",".join(options.checks),
        "--mode",
        "all" if options.negative else "positive",
        "--phases",
        phases,
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
        "--generation-database",
        options.database,
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
    ]
    if phases != "stateful":  # the stateful phase takes its own number of scenarios from the config
        args += ["--max-examples", str(options.max_examples)]
    if options.seed is not None:
        args += ["--seed", str(options.seed)]
    if options.max_failures:
        args += ["--max-failures", str(options.max_failures)]
    for op_id in ops:
        args += ["--include-operation-id", op_id]
    if options.report_dir:
        args += ["--report-dir", options.report_dir]
    try:
        code = st_cli.main(args=args, prog_name="xsolla-contract fuzz", standalone_mode=False)
    except SystemExit as exc:  # click may still exit on usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    return int(code or 0)


def run_fuzz(options: FuzzOptions) -> tuple[int, Coverage, set[str]]:
    """Run schemathesis' CLI in this process; answers (exit code, coverage, selected operations)."""
    import schemathesis
    from schemathesis.cli import schemathesis as st_cli
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    spec = Spec.from_path(options.spec_path)
    selected = selected_operations(spec, options)
    if not selected:
        raise ValueError("no operation matches the filters")
    coverage = Coverage()
    creds = options.credentials
    app = mock_app(seed=options.mock_seed, spec=spec, project_id=creds.project_id) if options.app == "mock" else None
    if options.app not in (None, "mock"):
        raise ValueError("--app accepts only 'mock'")
    if app is not None:
        _patch_wsgi_transport()
    if app is None and not options.base_url:
        raise ValueError("give --base-url URL or --app mock")

    registered: list[tuple[str, Any]] = []

    def register(name: str, fn: Any) -> None:
        schemathesis.hook(name)(fn)
        registered.append((name, fn))

    def after_load_schema(context: Any, schema: Any) -> None:
        if app is not None:
            schema.app = app

    def after_call(context: Any, case: Any, response: Any) -> None:
        coverage.record_call(case.operation.label, response.status_code)

    register("after_load_schema", after_load_schema)
    register("map_case", _pin_project(creds))
    register("after_call", after_call)
    schemathesis.auth()(_auth_provider(creds))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # in process, the mock runs deep in the stack
    # One run of the per-operation phases over everything selected; then, with --stateful, one
    # stateful run per API group: a state machine over all 227 operations and their ~600 links
    # samples each group's sequences too thinly to reach them.
    runs: list[tuple[str, str, list[str]]] = [("", "examples,coverage,fuzzing", sorted(selected))]
    if options.stateful:
        runs += [(tag, "stateful", ops) for tag, ops in stateful_groups(spec, selected)]
    code = 0
    try:
        with tempfile.TemporaryDirectory(prefix="xsolla-fuzz-") as tmp:
            bundle = Path(tmp) / "openapi.json"
            bundle.write_text(json.dumps(spec.document))
            config = Path(tmp) / "schemathesis.toml"
            config.write_text(  # no cache of earlier runs: a run depends on its options and --seed only
                "[cache]\nenabled = false\n"
                f"[phases.stateful]\nmax-steps = {options.stateful_steps}\n"
                f"[phases.stateful.generation]\nmax-examples = {options.stateful_examples}\n"
            )
            reports = []
            for number, (tag, phases, ops) in enumerate(runs):
                if tag:
                    print(f"\nStateful sequences: {tag} ({len(ops)} operations)", flush=True)
                report = Path(tmp) / f"junit-{number}.xml"
                code = max(code, _schemathesis(st_cli, options, bundle, config, phases, ops, report))
                if report.is_file():
                    reports.append((tag, report))
            junit = Path(options.junit) if options.junit else Path(tmp) / "junit.xml"
            merge_junit(reports, junit)
            coverage.read_junit(junit)
    finally:
        for _name, fn in registered:
            GLOBAL_HOOK_DISPATCHER.unregister(fn)
        from schemathesis.auths import GLOBAL_AUTH_STORAGE

        GLOBAL_AUTH_STORAGE.unregister()
    return code, coverage, selected
