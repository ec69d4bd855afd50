"""Workflows: explicit sequences of calls that reach the success answer of every operation.

Random generation rarely builds the state an operation needs to succeed: a coupon that
is enabled and has a code the user has not redeemed yet, a cart with items in it, a
chain step the user can claim. A workflow builds that state the way a client would and
says the order in which calls make sense, where the spec's links cannot: create a
coupon, read it, activate it, add a code, redeem it, redeem it again (refused: limit),
delete it, read it again (gone).

A workflow is a list of `Step`s. A step names an operation and where its values come from:

- `via="coupon.GetCoupon"`: the spec's link `GetCoupon` from the answer of the earlier
  step named `coupon` (its runtime expressions carry IDs, codes and bodies);
- `path=`, `query=`, `body=`: explicit values; a value may be a function of the
  earlier steps (`lambda s: {"coupon_code": s.code("welcome")}`);
- otherwise the body is the spec's request example.

Every call is checked as the random phases check theirs (schemathesis' checks, with the
steps' parent relations recorded so that its resource checks `use_after_free` and
`ensure_resource_availability` apply), plus the promises a step states: `refused="..."`
(this call must be refused: a redemption past its limit) and `pages=True` (two pages of
a list do not overlap). A step whose values need an earlier step that did not succeed
is skipped, and says so.

`undo="DeleteCoupon"` on a creating step records the link that removes what it created;
`Runner.cleanup()` calls what the workflows did not remove themselves, so that a run
against a live sandbox leaves it as it found it.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

EXAMPLE: Any = object()  # a step's body: the spec's request example
Value = Any  # a value, or a function of the earlier steps (`Steps`) returning one


class Missing(LookupError):
    """A value needs an earlier step that did not succeed."""


@dataclass(frozen=True)
class Step:
    """One call of a workflow (see the module docstring)."""

    op: str
    name: str | None = None
    via: str | None = None
    path: Mapping[str, Value] | Callable[[Steps], Mapping[str, Any]] = field(default_factory=dict)
    query: Mapping[str, Value] | Callable[[Steps], Mapping[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, Value] | Callable[[Steps], Mapping[str, Any]] = field(default_factory=dict)
    body: Value = EXAMPLE
    media_type: str | None = None
    expect: int | None = None  # a specific status this step is about (404 after a delete, ...)
    refused: str | None = None  # the promise this call checks by being refused (4xx)
    pages: bool = False  # also check that two pages of this list do not overlap
    undo: str | None = None  # link (of this step's answer) that removes what it created
    note: str = ""

    @property
    def label(self) -> str:
        return self.name or self.op


@dataclass(frozen=True)
class Workflow:
    """The steps of one API group (or of the preparation), in order."""

    name: str
    steps: tuple[Step, ...]
    user_state: bool = True  # changes the user's cart, inventory or progress: runs alone


@dataclass
class Outcome:
    """What a step sent and got."""

    step: Step
    case: Any  # schemathesis Case
    response: Any  # schemathesis Response, None when the call failed at the network level

    @property
    def status(self) -> int:
        return self.response.status_code if self.response is not None else 0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.response.content or b"null")
        except (ValueError, AttributeError):
            return None


class Steps(Mapping[str, Outcome]):
    """The successful steps so far, by name, and the run's unique names.

    `s.id("coupon")` is an identifier unique to this run (the same one every time it is
    asked for in the run), shaped for SKUs and external IDs; `s.code("welcome")` is its
    upper-case, letters-and-digits form for promotion codes.
    """

    def __init__(self, run: str, user: str = "", token: str = "", shared: Steps | None = None):
        self.run = run
        self.user = user  # the user the client calls act for (the token's subject)
        self.token = token  # that user's JWT
        self.shared = shared  # the steps every workflow sees (the sandbox's)
        self._outcomes: dict[str, Outcome] = {}

    def __getitem__(self, name: str) -> Outcome:
        if name in self._outcomes:
            return self._outcomes[name]
        if self.shared is not None:
            return self.shared[name]
        raise Missing(name)

    def __iter__(self):
        return iter({**({} if self.shared is None else dict(self.shared)), **self._outcomes})

    def __len__(self) -> int:
        return len(list(iter(self)))

    def scope(self) -> Steps:
        """Steps of their own for one workflow, seeing these ones."""
        return Steps(self.run, self.user, self.token, shared=self)

    def add(self, name: str, outcome: Outcome) -> None:
        self._outcomes[name] = outcome

    def id(self, label: str) -> str:
        return f"xcf_{self.run}_{label}"

    def code(self, label: str) -> str:
        return f"XCF{self.run}{label}".upper().replace("_", "")

    def json(self, name: str, pointer: str = "") -> Any:
        """A value of the answer of step `name`, by JSON pointer (`/items/0/sku`)."""
        return _pointer(self[name].json, pointer, name)


def _pointer(document: Any, pointer: str, name: str) -> Any:
    value = document
    for token in [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]:
        try:
            value = value[int(token)] if isinstance(value, list) else value[token]
        except (KeyError, IndexError, TypeError, ValueError):
            raise Missing(f"{name}{pointer}") from None
    return value


@dataclass(frozen=True)
class Problem:
    """A failed check: its name, title and message, and the operation it is about (for the
    resource checks, the operation that created or deleted the resource)."""

    check: str
    title: str
    message: str
    operation: str
    reproduce: str = ""

    def __str__(self) -> str:
        first = self.message.strip().splitlines()[0][:200] if self.message.strip() else ""
        return f"{self.check}: {self.title}" + (f" ({first})" if first else "")


@dataclass
class StepReport:
    workflow: str
    step: Step
    status: int | None  # None: skipped
    reason: str = ""  # why skipped, or the error the answer gave
    failures: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        where = f"{self.step.label} ({self.step.op})" if self.step.name else self.step.op
        if self.status is None:
            return f"skipped {where}: {self.reason}"
        text = f"{self.status} {where}"
        return text + (f": {self.reason}" if self.reason else "")


@dataclass
class WorkflowReport:
    name: str
    steps: list[StepReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Problem]:
        return [f for s in self.steps for f in s.failures]

    @property
    def unmet(self) -> list[StepReport]:
        """Steps that did not get the answer they were written for (not failures of the server
        by themselves: the operation's success answer is simply not reached)."""
        return [s for s in self.steps if s.status is None or (not s.failures and not _as_expected(s))]


def _as_expected(report: StepReport) -> bool:
    step, status = report.step, report.status or 0
    if step.expect is not None:
        return status == step.expect
    if step.refused:
        return 400 <= status < 500
    return 200 <= status < 300


PROMISES = {
    "redemption_limit": "A redemption past its limit was accepted",
    "claim_limit": "A reward that was already claimed was given again",
    "pages_do_not_overlap": "Two pages of the list share an entry",
}


class Runner:
    """Runs workflows against the schemathesis schema's target (a base URL or an in-process app).

    `headers_for(operation)` gives the credentials of an operation; `record(operation_id, status)`
    is told every call; `checks` are schemathesis check functions applied to every answer.
    """

    def __init__(
        self,
        schema: Any,
        *,
        project_id: int,
        headers_for: Callable[[Any], dict[str, str]],
        checks: Iterable[Callable[..., Any]],
        record: Callable[[str, int], None] | None = None,
        run: str | None = None,
        user: str = "",
        token: str = "",
    ):
        self.schema = schema
        self.project_id = project_id
        self.headers_for = headers_for
        self.checks = list(checks)
        self.record = record or (lambda label, status: None)
        self.steps = Steps(run or secrets.token_hex(3), user, token)
        self._local = threading.local()  # a keep-alive HTTP session per thread, for a live target
        self._undo: list[Any] = []  # cases that remove what a step created
        from schemathesis.engine.recorder import ScenarioRecorder

        self._recorder_type = ScenarioRecorder

    # ---------------------------------------------------------------- running

    def run(self, workflow: Workflow, steps: Steps | None = None) -> WorkflowReport:
        """Run one workflow; its named steps are its own (`steps`, by default a scope of the
        runner's steps, which hold the sandbox's)."""
        steps = steps if steps is not None else self.steps.scope()
        recorder = self._recorder_type(label=f"Workflow: {workflow.name}")
        report = WorkflowReport(workflow.name)
        started = time.perf_counter()
        for step in workflow.steps:
            report.steps.append(self.run_step(workflow.name, step, recorder, steps))
        report.seconds = time.perf_counter() - started
        return report

    def run_all(self, workflows: Iterable[Workflow], workers: int = 1) -> Iterator[WorkflowReport]:
        """Run workflows in order, the first one (the sandbox) into the shared steps. With
        `workers` > 1, workflows that leave the user's state alone run side by side; those
        that change it run one after another in a lane of their own."""
        workflows = list(workflows)
        if not workflows:
            return
        yield self.run(workflows[0], self.steps)
        rest = workflows[1:]
        if workers <= 1:
            for workflow in rest:
                yield self.run(workflow)
            return
        from concurrent.futures import ThreadPoolExecutor

        user_lane = [w for w in rest if w.user_state]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self.run, w) for w in rest if not w.user_state]
            futures.append(pool.submit(lambda: [self.run(w) for w in user_lane]))
            for future in futures:
                result = future.result()
                yield from result if isinstance(result, list) else [result]

    def run_step(self, workflow: str, step: Step, recorder: Any, steps: Steps | None = None) -> StepReport:
        steps = steps if steps is not None else self.steps
        try:
            case, parent = self.build(step, steps)
        except Missing as exc:
            return StepReport(workflow, step, None, f"needs {exc.args[0]}, which did not succeed")
        except LookupError as exc:  # a step the spec does not allow (a link it lacks)
            return StepReport(workflow, step, None, str(exc))
        response, failures = self.execute(case, parent, recorder)
        outcome = Outcome(step, case, response)
        report = StepReport(workflow, step, outcome.status, failures=failures)
        if response is None:
            report.reason = "no answer"
            return report
        if not _as_expected(report):
            report.reason = _error_text(outcome)
        if step.refused and outcome.ok:
            report.failures.append(
                Problem(
                    step.refused, PROMISES.get(step.refused, step.refused), step.note, case.operation.label, _curl(case)
                )
            )
        if step.pages and outcome.ok:
            report.failures += self.check_pages(case, parent, recorder)
        if step.name and (outcome.ok or step.expect == outcome.status):
            steps.add(step.name, outcome)
        if step.undo and outcome.ok:
            self.remember_undo(outcome, step.undo)
        if outcome.ok and case.operation.method.upper() == "DELETE":
            done = _request_key(case)
            self._undo = [u for u in self._undo if _request_key(u) != done]
        return report

    def build(self, step: Step, steps: Steps | None = None) -> tuple[Any, Outcome | None]:
        """The schemathesis case of a step, and the outcome it follows from (via a link)."""
        steps = steps if steps is not None else self.steps
        operation = self.schema.find_operation_by_id(step.op)
        values: dict[str, dict[str, Any]] = {"path": {"project_id": self.project_id}, "query": {}, "header": {}}
        body: Any = EXAMPLE
        parent = None
        if step.via:
            parent_name, _, link_name = step.via.partition(".")
            parent = steps[parent_name]
            linked, linked_body = self.follow(parent, link_name, operation)
            for location, items in linked.items():
                values[location].update(items)
            if linked_body is not EXAMPLE:
                body = linked_body
        values["path"].update(self.resolve(step.path, steps))
        values["query"].update(self.resolve(step.query, steps))
        values["header"].update(self.resolve(step.headers, steps))
        if step.body is not EXAMPLE:
            body = self.resolve(step.body, steps)
        media_type = step.media_type or _media_type(operation)
        if body is EXAMPLE:
            body = _request_example(operation, media_type)
        return self.case(operation, values["path"], values["query"], values["header"], body, media_type), parent

    def case(
        self,
        operation: Any,
        path: Mapping[str, Any],
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        media_type: str | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {
            "path_parameters": dict(path),
            "query": dict(query) if query else None,
            "headers": {**self.headers_for(operation), **(headers or {})},
        }
        if body is not None:
            kwargs.update(body=body, media_type=media_type)
        return operation.Case(**kwargs)

    def resolve(self, value: Value, steps: Steps) -> Any:
        if callable(value):
            return copy.deepcopy(value(steps))
        if isinstance(value, Mapping):
            return {k: self.resolve(v, steps) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, steps) for v in value]
        return copy.deepcopy(value)

    def link(self, parent: Outcome, link_name: str) -> Mapping[str, Any]:
        responses = parent.case.operation.definition.raw.get("responses", {})
        link = (responses.get(str(parent.status)) or {}).get("links", {}).get(link_name)
        if link is None:
            raise LookupError(f"{parent.case.operation.label} answers {parent.status} without a link {link_name}")
        return link

    def follow(self, parent: Outcome, link_name: str, operation: Any) -> tuple[dict[str, dict[str, Any]], Any]:
        """The values a link of `parent`'s answer gives the operation it points to."""
        from schemathesis.core.transforms import Unresolvable
        from schemathesis.generation.stateful.state_machine import StepOutput
        from schemathesis.specs.openapi.expressions import evaluate

        link = self.link(parent, link_name)
        if link.get("operationId") not in (None, operation.definition.raw.get("operationId")):
            raise LookupError(f"link {link_name} points to {link.get('operationId')}, not to this step's operation")
        output = StepOutput(parent.response, parent.case)
        locations = {p.name: p.location.value for p in operation.iter_parameters()}
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        for key, expression in (link.get("parameters") or {}).items():
            location, _, name = key.partition(".") if "." in key else (locations.get(key, "path"), "", key)
            value = evaluate(expression, output)
            if isinstance(value, Unresolvable):
                raise Missing(f"{parent.step.label}: {expression}")
            values.setdefault(location, {})[name] = value
        body = EXAMPLE
        if "requestBody" in link:
            body = evaluate(link["requestBody"], output, evaluate_nested=True)
        return values, body

    def execute(self, case: Any, parent: Outcome | None, recorder: Any) -> tuple[Any, list[Problem]]:
        """Call, record and check one case: (the response or None, failure lines)."""
        from schemathesis.core.failures import FailureGroup

        recorder.record_case(case=case, parent_id=parent.case.id if parent else None)
        kwargs = {"session": self._session()} if getattr(self.schema, "app", None) is None else {}
        try:
            response = case.call(**kwargs)
        except Exception as exc:  # noqa: BLE001 - a network error is a finding, not a crash of the run
            self.record(case.operation.definition.raw.get("operationId", ""), 0)
            return None, [Problem("no_answer", "No answer", f"{type(exc).__name__}: {exc}", case.operation.label)]
        recorder.record_response(case_id=case.id, response=response)
        self.record(case.operation.definition.raw.get("operationId", ""), response.status_code)
        failures: list[Problem] = []
        try:
            case.validate_response(response, checks=self.checks, recorder=recorder)
        except FailureGroup as group:
            failures = [problem(f, case) for f in group.exceptions]
        except AssertionError as exc:
            failures = [Problem("", type(exc).__name__, str(exc), case.operation.label, _curl(case))]
        return response, failures

    def check_pages(self, case: Any, parent: Outcome | None, recorder: Any) -> list[Problem]:
        """Two pages of two entries (offset 0 and 2) of a list must not share an entry."""
        from .checks import list_entries

        pages = []
        for offset in (0, 2):
            query = {**(case.query or {}), "limit": 2, "offset": offset}
            page = case.operation.Case(
                path_parameters=dict(case.path_parameters or {}), query=query, headers=dict(case.headers or {})
            )
            response, failures = self.execute(page, parent, recorder)
            if failures or response is None or not 200 <= response.status_code < 300:
                return failures
            pages.append(list_entries(case.operation, json.loads(response.content or b"null")) or [])
        first = {json.dumps(e, sort_keys=True) for e in pages[0]}
        shared = [e for e in pages[1] if json.dumps(e, sort_keys=True) in first]
        if shared:
            message = f"offset 0 and offset 2 (limit 2) both list {json.dumps(shared[0])[:200]}"
            return [
                Problem(
                    "pages_do_not_overlap", PROMISES["pages_do_not_overlap"], message, case.operation.label, _curl(case)
                )
            ]
        return []

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = self._local.session = requests.Session()
        return session

    # ---------------------------------------------------------------- cleanup

    def remember_undo(self, outcome: Outcome, link_name: str) -> None:
        """Keep the call (through a link of `outcome`) that removes what it created."""
        target = self.link(outcome, link_name).get("operationId")
        operation = self.schema.find_operation_by_id(target)
        values, _ = self.follow(outcome, link_name, operation)
        self._undo.append(self.case(operation, {"project_id": self.project_id, **values["path"]}))

    def cleanup(self) -> WorkflowReport:
        """Remove what the workflows created and did not remove themselves, newest first."""
        recorder = self._recorder_type(label="Cleanup")
        report = WorkflowReport("cleanup")
        started = time.perf_counter()
        pending, self._undo = self._undo, []
        for case in reversed(pending):
            op_id = case.operation.definition.raw.get("operationId", case.operation.label)
            response, failures = self.execute(case, None, recorder)
            status = response.status_code if response is not None else 0
            step = Step(op_id, expect=404 if status == 404 else None)  # 404: already gone (under another name)
            entry = StepReport("cleanup", step, status, failures=failures)
            if response is not None and not (200 <= status < 300 or status == 404):
                entry.reason = _error_text(Outcome(step, case, response))
            report.steps.append(entry)
        report.seconds = time.perf_counter() - started
        return report


def _request_key(case: Any) -> tuple[str, str]:
    return case.operation.label, json.dumps(case.path_parameters, sort_keys=True, default=str)


def problem(failure: Any, case: Any) -> Problem:
    """A schemathesis failure as a `Problem`."""
    checks = getattr(failure, "checks", ()) or ()
    title = f"{getattr(failure, 'code', '')} {getattr(failure, 'title', None) or type(failure).__name__}".strip()
    return Problem(
        checks[0] if checks else "",
        title,
        (getattr(failure, "message", "") or "").strip(),
        getattr(failure, "operation", None) or case.operation.label,
        _curl(case),
    )


def _curl(case: Any) -> str:
    try:
        return case.as_curl_command()
    except Exception:  # noqa: BLE001 - a reproduction hint is best effort
        return ""


def _error_text(outcome: Outcome) -> str:
    body = outcome.json
    if isinstance(body, Mapping) and "errorMessage" in body:
        return f"errorCode {body.get('errorCode')}: {str(body['errorMessage'])[:200]}"
    text = (outcome.response.content or b"")[:200] if outcome.response is not None else b""
    return text.decode("utf-8", "replace")


def _media_type(operation: Any) -> str | None:
    content = (operation.definition.raw.get("requestBody") or {}).get("content") or {}
    return "application/json" if "application/json" in content else next(iter(content), None)


def _request_example(operation: Any, media_type: str | None) -> Any:
    content = (operation.definition.raw.get("requestBody") or {}).get("content") or {}
    media = content.get(media_type or "") or {}
    if "example" in media:
        return copy.deepcopy(media["example"])
    examples = media.get("examples") or {}
    if examples:
        return copy.deepcopy(next(iter(examples.values())).get("value"))
    schema = media.get("schema") or {}
    return copy.deepcopy(schema["example"]) if "example" in schema else None
