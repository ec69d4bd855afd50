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
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._progress import Progress
from .checks import OUR_CHECKS, DeletedAliases
from .coverage import shortfalls
from .fuzz_report import Finding, RunRecord, coverage_report, summary, write_coverage, write_junit
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

    def user_id(self) -> str:
        """The user the token names (its `sub`), for admin calls about that user."""
        token = self.user_token()
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return str(claims.get("sub") or "")
        except (IndexError, ValueError):
            return ""

    def headers_for(self, security: list[dict[str, Any]] | None) -> dict[str, str]:
        names = {name for requirement in security or [] for name in requirement}
        if "basicAuth" in names or "basicMerchantAuth" in names:
            raw = f"{self.project_id}:{self.api_key}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if names & {"XsollaLoginUserJWT", "AuthForCart"}:
            return {"Authorization": f"Bearer {self.user_token()}"}
        return {}


def _security_of(operation: Any) -> list[dict[str, Any]] | None:
    """The operation's security requirements, else the document's (OpenAPI's default)."""
    definition = getattr(operation, "definition", None)
    raw = getattr(definition, "raw", definition) or {}
    if "security" in raw:
        return raw["security"]
    return (getattr(getattr(operation, "schema", None), "raw_schema", None) or {}).get("security")


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


def _pinned(creds: Credentials, path_parameters: dict[str, Any]) -> dict[str, Any]:
    """A valid `project_id` becomes the configured project's, so that calls reach its data; an
    invalid one (negative data) stays."""
    value = path_parameters.get("project_id")
    valid = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if valid or (isinstance(value, str) and value.isdigit() and int(value) >= 1):
        path_parameters["project_id"] = creds.project_id
    return path_parameters


def _pin_project(creds: Credentials):
    def map_case(context: Any, case: Any) -> Any:
        if case.path_parameters:
            _pinned(creds, case.path_parameters)
        return case

    return map_case


def _pin_project_examples(creds: Credentials):
    """The same for the cases of the examples phase (which applies no `map_case`)."""

    def before_add_examples(context: Any, examples: list[Any]) -> None:
        for case in examples:
            if case.path_parameters:
                _pinned(creds, case.path_parameters)

    return before_add_examples


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

RESOURCE_CHECKS = ("use_after_free", "ensure_resource_availability")
WORKFLOW_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    *RESOURCE_CHECKS,
)
PHASES = ("workflows", "examples", "coverage", "fuzzing", "stateful")
COVERAGE_FACTOR = 4  # the examples and coverage phases keep this many times --max-examples cases per operation
STATEFUL_FACTOR = 2  # scenarios per stateful group, as a multiple of --max-examples


@dataclass
class FuzzOptions:
    base_url: str | None = None
    app: str | None = None  # "mock"
    spec_path: str | None = None
    credentials: Credentials = field(default_factory=Credentials)
    include_tags: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    max_examples: int = 5
    seed: int | None = None
    workers: int = 1
    stateful: bool = False
    negative: bool = False
    read_only: bool = False
    prepare: bool | None = None  # None: only for the in-process mock
    junit: str | None = None
    report_dir: str = "fuzz-report"
    checks: tuple[str, ...] = DEFAULT_CHECKS
    mock_seed: int = 1
    max_failures: int | None = None
    stateful_examples: int | None = None  # scenarios per group; None: STATEFUL_FACTOR x max_examples
    stateful_steps: int = 10  # calls per scenario
    stateful_time: float = 3.0  # seconds per group, at most
    database: str = "none"  # schemathesis' example database: none, :memory: or a path
    min_success_coverage: float | None = None
    progress_bar: bool | None = None  # None: on a terminal
    phases: tuple[str, ...] = ()  # only these (of PHASES); empty: all that apply

    @property
    def scenarios(self) -> int:
        return self.stateful_examples if self.stateful_examples is not None else STATEFUL_FACTOR * self.max_examples

    @property
    def prepares(self) -> bool:
        if self.read_only:
            return False
        return self.prepare if self.prepare is not None else self.app == "mock"

    def runs(self, phase: str) -> bool:
        """Whether the run includes a phase: workflows need a prepared sandbox, stateful asks for --stateful."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; the phases are {', '.join(PHASES)}")
        if phase == "workflows" and not self.prepares:
            return False
        if phase == "stateful" and not self.stateful and "stateful" not in self.phases:
            return False
        return not self.phases or phase in self.phases


@dataclass
class FuzzResult:
    code: int
    record: RunRecord
    coverage: dict[str, Any]  # coverage.report of the selected operations
    reports: dict[str, Path]
    text: str


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


def operation_groups(spec: Spec, selected: set[str]) -> dict[str, list[str]]:
    """The selected operations by API group (tag), in the spec's order."""
    groups: dict[str, list[str]] = defaultdict(list)
    for op in spec.operations.values():
        if op.operation_id in selected:
            groups[op.tag].append(op.operation_id)
    return dict(sorted(groups.items()))


def stateful_groups(spec: Spec, selected: set[str]) -> list[tuple[str, list[str]]]:
    """The groups to run a state machine on: those with a link between two of their operations."""

    def linked(ops: list[str]) -> bool:
        return any(
            link.get("operationId") in ops
            for op_id in ops
            for links in spec.operation(op_id).links.values()
            for link in links.values()
        )

    return [(tag, ops) for tag, ops in operation_groups(spec, selected).items() if linked(ops)]


def _engine_config(options: FuzzOptions, phases: tuple[str, ...]) -> Any:
    from schemathesis.config import SchemathesisConfig

    checks: dict[str, Any] = {"enabled": False}
    for name in (*options.checks, *RESOURCE_CHECKS, *(c.__name__ for c in OUR_CHECKS)):
        checks[name] = {"enabled": True}
    config: dict[str, Any] = {
        "workers": options.workers,
        "cache": {"enabled": False},  # a run depends on its options and --seed only
        "suppress-health-check": ["all"],
        "warnings": False,
        "checks": checks,
        "generation": {
            "mode": "all" if options.negative else "positive",
            "max-examples": options.max_examples,
            "database": options.database,
        },
        "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
    }
    # A sequence reaches its later steps only when the earlier ones succeed: stateful scenarios use
    # valid data; invalid data is the examples, coverage and fuzzing phases' job (--negative).
    config["phases"]["stateful"].update(
        {
            "max-steps": options.stateful_steps,
            "generation": {"max-examples": options.scenarios, "mode": "positive"},
        }
    )
    if options.seed is not None:
        config["seed"] = options.seed
    if options.max_failures:
        config["max-failures"] = options.max_failures
    return SchemathesisConfig.from_dict(config)


def _document(spec: Spec, ops: list[str]) -> dict[str, Any]:
    """A copy of the resolved spec with only the paths and operations of `ops` (and links only
    between them), so that a schemathesis schema of a few operations is quick to build."""
    wanted = set(ops)
    paths: dict[str, Any] = {}
    for path, item in spec.document["paths"].items():
        kept = {
            method: op
            for method, op in item.items()
            if not isinstance(op, dict) or "operationId" not in op or op["operationId"] in wanted
        }
        if any(isinstance(op, dict) and op.get("operationId") in wanted for op in kept.values()):
            paths[path] = kept
    document = json.loads(json.dumps({**spec.document, "paths": paths}))
    for item in document["paths"].values():
        for op in item.values():
            for response in (op.get("responses") or {}).values() if isinstance(op, dict) else ():
                links = response.get("links") if isinstance(response, dict) else None
                if links:
                    response["links"] = {k: v for k, v in links.items() if v.get("operationId") in wanted}
    return document


def _schema(
    spec: Spec, options: FuzzOptions, app: Any, ops: list[str], phases: tuple[str, ...], record: RunRecord | None
):
    """A schemathesis schema of `ops`, configured for `phases`, calling the target (and telling `record`
    every call)."""
    import schemathesis

    schema = schemathesis.openapi.from_dict(_document(spec, ops), config=_engine_config(options, phases))
    schema.config.update(base_url=options.base_url or "http://mock.local/api")
    if app is not None:
        schema.app = app
    creds = options.credentials
    schema.auth()(_auth_provider(creds))
    schema.hook("map_case")(_pin_project(creds))
    schema.hook("before_add_examples")(_pin_project_examples(creds))
    DeletedAliases().register(schema)
    if record is not None:

        def after_call(context: Any, case: Any, response: Any) -> None:
            record.record_call(case.operation.definition.raw.get("operationId", ""), response.status_code)

        schema.hook("after_call")(after_call)
    return schema


def _spread(cases: list[Any], limit: int) -> list[Any]:
    """At most `limit` of `cases`, spread evenly from the first to the last."""
    if len(cases) <= limit:
        return cases
    if limit <= 1:
        return cases[:limit]
    step = (len(cases) - 1) / (limit - 1)
    return [cases[round(i * step)] for i in range(limit)]


SCAN_FACTOR = 4  # the bounded phases look at this many times the cases they keep


@contextmanager
def _bounded_drivers(examples: int, coverage: int):
    """Bound the examples and coverage phases per operation: schemathesis' `--max-examples`
    bounds fuzzing only; these phases enumerate every case they can derive (hundreds for an
    operation with a deep body, and deriving them costs more than sending them). Of the
    first SCAN_FACTOR x limit cases they derive, `limit` are kept, spread from first to last."""
    from itertools import islice

    from schemathesis.generation import drivers

    patched = []
    for cls, limit in ((drivers.ExamplesGenerator, examples), (drivers.CoverageGenerator, coverage)):
        original = cls.__iter__

        def bounded(self: Any, _original: Any = original, _limit: int = limit) -> Any:
            yield from _spread(list(islice(_original(self), SCAN_FACTOR * _limit)), _limit)

        cls.__iter__ = bounded
        patched.append((cls, original))
    try:
        yield
    finally:
        for cls, original in patched:
            cls.__iter__ = original


def _findings(phase: str, case: str, recorder: Any) -> list[Finding]:
    """The failures a schemathesis scenario recorded."""
    found = []
    for nodes in recorder.checks.values():
        for node in nodes:
            info = getattr(node, "failure_info", None)
            if info is None or str(node.status.value) != "failure":
                continue
            failure = info.failure
            found.append(
                Finding(
                    phase=phase,
                    case=case or failure.operation or recorder.label,
                    operation=failure.operation or recorder.label,
                    check=node.name,
                    title=f"{getattr(failure, 'code', '')} {failure.title}".strip(),
                    message=(failure.message or "").strip(),
                    reproduce=info.code_sample or "",
                )
            )
    return found


class _Run:
    """One fuzz run: the phases in order, their progress and what they found."""

    def __init__(self, options: FuzzOptions, out: Any = None):
        self.options = options
        self.spec = Spec.from_path(options.spec_path)
        self.selected = selected_operations(self.spec, options)
        if not self.selected:
            raise ValueError("no operation matches the filters")
        if options.app not in (None, "mock"):
            raise ValueError("--app accepts only 'mock'")
        if options.app is None and not options.base_url:
            raise ValueError("give --base-url URL or --app mock")
        creds = options.credentials
        self.app = (
            mock_app(seed=options.mock_seed, spec=self.spec, project_id=creds.project_id) if options.app else None
        )
        if self.app is not None:
            _patch_wsgi_transport()
        self.record = RunRecord()
        self.progress = Progress(out, bar=options.progress_bar)
        self.groups = operation_groups(self.spec, self.selected)
        self.tag_of = {f"{op.method} {op.path}": op.tag for op in self.spec.operations.values()}
        self.extra_cases: list[str] = []
        self.stopped = False

    # ------------------------------------------------------------- workflows

    def workflows(self) -> Any:
        from . import scenarios
        from .workflows import Runner

        options, creds = self.options, self.options.credentials
        schema = _schema(self.spec, options, self.app, sorted(self.spec.operations), (), None)
        checks = [_check_function(name) for name in WORKFLOW_CHECKS] + list(OUR_CHECKS)
        runner = Runner(
            schema,
            project_id=creds.project_id,
            headers_for=lambda operation: creds.headers_for(_security_of(operation)),
            checks=checks,
            record=self.record.record_call,
            user=creds.user_id(),
            token=creds.user_token(),
            run=f"{options.seed % 0x1000000:06x}" if options.seed is not None and self.app is not None else None,
        )
        chosen = [w for w in scenarios.WORKFLOWS if w is scenarios.SANDBOX or {s.op for s in w.steps} & self.selected]
        self.begin("workflows", f"Workflows: {len(chosen)} ({sum(len(w.steps) for w in chosen)} steps)", len(chosen))
        for report in runner.run_all(chosen, workers=options.workers):
            self.workflow_report(report)
        self.end("workflows")
        return runner

    def workflow_report(self, report: Any) -> None:
        case = f"Workflow: {report.name}"
        self.extra_cases.append(case)
        for step in report.steps:
            for p in step.failures:
                self.record.add(Finding("workflows", case, p.operation, p.check, p.title, p.message, p.reproduce))
        unmet = report.unmet
        self.record.notes[case] += [s.line() for s in report.steps]
        failures = sum(len(s.failures) for s in report.steps)
        self.progress.advance()
        self.progress.line(
            f"  {report.name:36} {len(report.steps):3} steps  {failures} failures"
            + (f"  {len(unmet)} not as expected" if unmet else "")
            + f"  {report.seconds:5.1f}s"
        )
        for step in unmet[:5]:
            self.progress.line(f"      {step.line()}")

    def cleanup(self, runner: Any) -> None:
        self.begin("cleanup", "Cleanup: removing what the run created", 1)
        report = runner.cleanup()
        left = [s for s in report.steps if s.reason]
        self.progress.line(f"  {len(report.steps)} removals, {len(left)} refused")
        for step in left:
            self.progress.line(f"      {step.line()}")
        self.end("cleanup")

    def _label(self, op_id: str) -> str:
        op = self.spec.operation(op_id)
        return f"{op.method} {op.path}"

    # -------------------------------------------------- schemathesis phases

    def unit_phases(self, phases: tuple[str, ...]) -> None:
        from schemathesis.engine import events, from_schema

        ops = sorted(self.selected)
        schema = _schema(self.spec, self.options, self.app, ops, phases, self.record)
        finished: dict[str, Counter[str]] = defaultdict(Counter)
        printed: set[tuple[str, str]] = set()
        stream = from_schema(schema).execute()
        for event in stream:
            if isinstance(event, events.PhaseStarted) and event.phase.name.value in phases:
                name = event.phase.name.value
                self.begin(name, f"{name.capitalize()}: {len(ops)} operations", len(ops))
            elif isinstance(event, events.ScenarioFinished) and event.phase.value in phases:
                name = event.phase.value
                tag = self.tag_of.get(event.label, "")
                finished[name][tag] += 1
                for finding in _findings(name, event.label, event.recorder):
                    self.record.add(finding)
                self.progress.advance()
                if finished[name][tag] >= len(self.groups.get(tag, ())) and (name, tag) not in printed:
                    printed.add((name, tag))
                    self.group_line(name, tag)
            elif isinstance(event, events.PhaseFinished) and event.phase.name.value in phases:
                name = event.phase.name.value
                for tag in self.groups:
                    if (name, tag) not in printed and finished[name][tag]:
                        printed.add((name, tag))
                        self.group_line(name, tag)
                self.end(name)
            elif isinstance(event, events.NonFatalError):
                self.error(event, event.phase.value if event.phase else "fuzz")
            elif isinstance(event, events.EngineFinished):
                self.stopped = self.stopped or str(event.stop_reason.value) == "failure_limit"

    def group_line(self, phase: str, tag: str) -> None:
        labels = {self._label(o) for o in self.groups.get(tag, ())}
        failures = sum(1 for f in self.record.findings if f.phase == phase and f.operation in labels)
        self.progress.line(f"  {tag:36} {len(labels):3} operations  {failures} failures")

    def error(self, event: Any, phase: str) -> None:
        label = event.label or "fuzz"
        self.record.add(Finding(phase, label, label, "error", event.info.title, str(event.info.message or "")))

    def stateful(self) -> None:
        from schemathesis.engine import events, from_schema

        groups = stateful_groups(self.spec, self.selected)
        options = self.options
        self.begin(
            "stateful",
            f"Stateful: {len(groups)} groups, up to {options.scenarios} scenarios of {options.stateful_steps} "
            f"calls and {options.stateful_time:g}s each",
            len(groups),
        )
        for tag, ops in groups:
            case = f"Stateful tests: {tag}"
            self.extra_cases.append(case)
            if self.stopped:
                break
            started, calls_before = time.perf_counter(), self.record.calls
            schema = _schema(self.spec, options, self.app, ops, ("stateful",), self.record)
            stream = from_schema(schema).execute()
            timer = threading.Timer(options.stateful_time, stream.stop)
            timer.daemon = True
            timer.start()
            timed_out = False
            try:
                for event in stream:
                    if isinstance(event, events.ScenarioFinished):
                        for finding in _findings("stateful", case, event.recorder):
                            self.record.add(finding)
                    elif isinstance(event, events.NonFatalError):
                        self.error(event, "stateful")
                    elif isinstance(event, events.EngineFinished):
                        timed_out = str(event.stop_reason.value) == "interrupted"
                        self.stopped = str(event.stop_reason.value) == "failure_limit"
            finally:
                timer.cancel()
            failures = sum(1 for f in self.record.findings if f.case == case)
            self.progress.advance()
            self.progress.line(
                f"  {tag:36} {len(ops):3} operations  {self.record.calls - calls_before:5} calls  {failures} failures"
                f"  {time.perf_counter() - started:5.1f}s" + ("  (time limit reached)" if timed_out else "")
            )
        self.end("stateful")

    # --------------------------------------------------------------- frame

    def begin(self, phase: str, title: str, total: int) -> None:
        self.record.phase = phase
        self._phase_started = time.perf_counter()
        unit = {"workflows": "groups", "stateful": "groups", "cleanup": "removals"}.get(phase, "operations")
        self.progress.start(title, total, unit)

    def end(self, phase: str) -> None:
        seconds = time.perf_counter() - self._phase_started
        self.record.phase_times[phase] = self.record.phase_times.get(phase, 0.0) + seconds
        self.progress.line(f"  ({phase}: {self.record.phase_calls[phase]} calls in {seconds:.1f}s)")

    def run(self) -> FuzzResult:
        options = self.options
        target = "the mock, in process" if self.app is not None else options.base_url
        self.progress.line(
            f"xsolla-contract fuzz: {len(self.selected)} operations against {target}; "
            f"seed {options.seed if options.seed is not None else 'random'}; "
            f"{options.max_examples} cases per operation and phase "
            f"({COVERAGE_FACTOR * options.max_examples} in examples and coverage)"
            + ("; positive and negative data" if options.negative else "; positive data")
        )
        for phase in options.phases:
            options.runs(phase)  # an unknown name fails before anything runs
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # in process, the mock runs deep in the stack
        started = time.perf_counter()
        runner = None
        try:
            with _bounded_drivers(COVERAGE_FACTOR * options.max_examples, COVERAGE_FACTOR * options.max_examples):
                if options.runs("workflows"):
                    runner = self.workflows()
                unit = tuple(p for p in ("examples", "coverage", "fuzzing") if options.runs(p))
                if unit:
                    self.unit_phases(unit)
                if options.runs("stateful"):
                    self.stateful()
        finally:
            if runner is not None:
                self.cleanup(runner)
            self.progress.close()
        self.record.phase_times["total"] = time.perf_counter() - started
        return self.finish()

    def finish(self) -> FuzzResult:
        options = self.options
        data = coverage_report(self.spec, self.selected, self.record)
        directory = Path(options.report_dir)
        meta = {
            "target": options.base_url or "mock (in process)",
            "seed": options.seed,
            "max_examples": options.max_examples,
            "stateful": options.stateful,
            "negative": options.negative,
            "prepared": options.prepares,
        }
        paths = write_coverage(data, self.record, directory, meta)
        junit = Path(options.junit) if options.junit else directory / "junit.xml"
        write_junit(data, self.record, junit, self.extra_cases)
        text = summary(data, self.record)
        code = 1 if self.record.findings else 0
        for shortfall in shortfalls(data, success=options.min_success_coverage):
            code = 1
            text += f"\n{shortfall.capitalize()} (--min-success-coverage)"
        times = ", ".join(f"{k} {v:.1f}s" for k, v in self.record.phase_times.items())
        text += f"\nTimes: {times}"
        text += f"\nReports: {junit}, {paths[0]}, {paths[1]}"
        return FuzzResult(code, self.record, data, {"junit": junit, "json": paths[0], "markdown": paths[1]}, text)


def _check_function(name: str) -> Any:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    return CHECKS.get_by_names([name])[0]


def run_fuzz(options: FuzzOptions, out: Any = None) -> FuzzResult:
    """Run the suite: workflows (with a prepared sandbox), schemathesis' examples, coverage and
    fuzzing phases, then (with `stateful`) one state machine per API group; write the reports."""
    return _Run(options, out).run()
