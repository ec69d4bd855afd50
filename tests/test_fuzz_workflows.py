"""The workflows of the fuzz suite: every operation's success answer, on the seeded mock and
on an empty one prepared through the admin API (as a sandbox project is), and cleaned up."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import requests
import schemathesis
from click.testing import CliRunner

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit import scenarios
from xsolla_contract.toolkit.cli import main
from xsolla_contract.toolkit.fuzz import WORKFLOW_CHECKS, Credentials, _check_function
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import MockServer
from xsolla_contract.toolkit.workflows import Runner, Step, Workflow

PROJECT = 44056


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.from_path()


def runner(spec: Spec, *, app=None, base_url: str | None = None, calls: list | None = None) -> Runner:
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(spec.document)))
    if app is not None:
        from xsolla_contract.toolkit.fuzz import _patch_wsgi_transport

        _patch_wsgi_transport()
        schema.app = app
    schema.config.update(base_url=base_url or "http://mock.local/api")
    if calls is not None:

        def after_call(context, case, response):
            calls.append((case.operation.definition.raw["operationId"], response.status_code))

        schema.hook("after_call")(after_call)
    creds = Credentials(project_id=PROJECT)
    return Runner(
        schema,
        project_id=PROJECT,
        headers_for=lambda op: creds.headers_for(op.definition.raw.get("security")),
        checks=[_check_function(name) for name in WORKFLOW_CHECKS],
        user=creds.user_id(),
        token=creds.user_token(),
    )


def sparse_item(s, label: str, title: str, *, price: float | None = 1.99, **fields):
    """An admin item body with nothing optional the caller does not ask for (bundles and
    packages keep their description, which they require)."""
    body = FULL_ITEM(s, label, title, price=price, **fields)
    if "content" not in fields:
        for optional in ("description", "groups"):
            body.pop(optional, None)
    return body


FULL_ITEM = scenarios.item


@pytest.mark.parametrize(
    "sandbox", [pytest.param("full", id="seeded-mock-full-items"), pytest.param("sparse", id="empty-mock-sparse-items")]
)
def test_every_operation_succeeds_and_the_mock_makes_nothing_up(
    spec: Spec, sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workflows reach a documented 2xx of all 227 operations; every field a success answer
    requires comes from the mock's state, none is made up by the renderer, whether the items
    carry their optional texts (on the seeded mock) or only what they must (on an empty one)."""
    if sandbox == "sparse":
        monkeypatch.setattr(scenarios, "item", sparse_item)
    config = MockConfig(seed=1, project_id=PROJECT) if sandbox == "full" else MockConfig(empty=True, seed=None)
    app = create_app(spec, config=config)
    shaper = app.config["ENGINE"].shaper
    shaper.synthesized = []
    made_up: dict[str, list[str]] = {}
    calls: list[tuple[str, int]] = []

    run = runner(spec, app=app, calls=calls)

    def check_made_up(context, case, response):
        if shaper.synthesized:
            if 200 <= response.status_code < 300:
                made_up.setdefault(case.operation.definition.raw["operationId"], []).extend(shaper.synthesized)
            shaper.synthesized.clear()

    run.schema.hook("after_call")(check_made_up)
    reports = list(run.run_all(scenarios.WORKFLOWS))
    reports.append(run.cleanup())
    failures = [f"{r.name}: {p}" for r in reports for p in r.failures]
    assert not failures, failures
    unmet = [f"{r.name}: {s.line()}" for r in reports for s in r.unmet]
    assert not unmet, unmet
    succeeded = {op for op, status in calls if 200 <= status < 300}
    assert succeeded == set(spec.operations), sorted(set(spec.operations) - succeeded)
    assert not made_up, made_up


def _leftovers(base_url: str, run: str) -> list[str]:
    """Names of this run's entities still listed by the admin API."""
    headers = {"Authorization": "Basic " + base64.b64encode(f"{PROJECT}:key".encode()).decode()}
    found = []
    for path in (
        "v2/project/{p}/admin/items/virtual_items",
        "v2/project/{p}/admin/items/virtual_currency",
        "v2/project/{p}/admin/items/virtual_currency/package",
        "v2/project/{p}/admin/items/bundle",
        "v2/project/{p}/admin/items/game",
        "v2/project/{p}/admin/items/groups",
        "v2/project/{p}/admin/items/value_points",
        "v2/project/{p}/admin/attribute",
        "v3/project/{p}/admin/coupon",
        "v3/project/{p}/admin/promocode",
        "v3/project/{p}/admin/unique_catalog_offer",
        "v3/project/{p}/admin/promotion",
        "v2/project/{p}/admin/daily_chain",
        "v2/project/{p}/admin/offer_chain",
        "v3/project/{p}/admin/reward_chain",
        "v2/project/{p}/admin/user/attribute/rule",
        "v2/project/{p}/admin/region",
    ):
        answer = requests.get(f"{base_url}/{path.format(p=PROJECT)}", headers=headers, timeout=10)
        assert answer.status_code == 200, (path, answer.text)
        found += [path + ": " + line for line in answer.text.split('"') if f"xcf_{run}" in line or "Contract" in line]
    return found


def test_prepare_on_an_empty_live_mock_reaches_every_success_answer_and_leaves_nothing(spec: Spec) -> None:
    """Against an empty project over HTTP, the preparation creates what the workflows need
    through the admin API; afterwards nothing the run created is left."""
    app = create_app(spec, config=MockConfig(empty=True, seed=None, project_id=PROJECT))
    calls: list[tuple[str, int]] = []
    with MockServer(app) as server:
        base_url = f"{server.url}/api"
        run = runner(spec, base_url=base_url, calls=calls)
        reports = list(run.run_all(scenarios.WORKFLOWS))
        assert not [p for r in reports for p in r.failures]
        assert not [s.line() for r in reports for s in r.unmet]
        assert {op for op, status in calls if 200 <= status < 300} == set(spec.operations)
        assert _leftovers(base_url, run.steps.run)  # the sandbox is there while the suite runs
        cleanup = run.cleanup()
        assert cleanup.steps and not [s.line() for s in cleanup.steps if s.reason or s.failures]
        assert _leftovers(base_url, run.steps.run) == []


def test_a_step_that_needs_a_failed_step_is_skipped_and_says_why(spec: Spec) -> None:
    app = create_app(spec, config=MockConfig(empty=True, seed=None, project_id=PROJECT))
    run = runner(spec, app=app)
    workflow = Workflow(
        "probe",
        (
            Step("admin-create-region", name="region", body={"name": {"en": "x"}, "countries": ["XX-not-a-code"]}),
            Step("admin-get-region", via="region.GetRegion"),
        ),
    )
    [report] = list(run.run_all([workflow]))
    refused, skipped = report.steps
    assert refused.status == 422 and "errorCode 1102" in refused.reason
    assert skipped.status is None and skipped.reason == "needs region, which did not succeed"
    assert [s.step.op for s in report.unmet] == ["admin-create-region", "admin-get-region"]
    assert report.failures == []


def test_workflows_only_run_reports_where_the_summary_says(tmp_path: Path) -> None:
    """`--phases workflows` on the mock: a quick check of every success answer; the reports the
    summary names exist after the run."""
    result = CliRunner().invoke(
        main,
        ["fuzz", "--app", "mock", "--phases", "workflows", "--seed", "1", "--report-dir", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output[-3000:]
    assert "227/227 reached a documented 2xx" in result.output
    reports = result.output.split("Reports: ", 1)[1].split()
    assert [Path(p.rstrip(",")).name for p in reports] == ["junit.xml", "coverage.json", "coverage.md"]
    assert all(Path(p.rstrip(",")).is_file() for p in reports)
    data = json.loads((tmp_path / "out" / "coverage.json").read_text())
    assert data["success"] == {"total": 227, "reached": 227, "percent": 100.0} and data["failures"] == []
    assert data["phases"]["workflows"]["calls"] > 227
    row = next(r for r in data["by_operation"] if r["operation"] == "redeem-coupon")
    assert row["success"] and {"200", "422"} <= set(row["exercised"]) and row["failures"] == 0
    markdown = (tmp_path / "out" / "coverage.md").read_text()
    line = next(line for line in markdown.splitlines() if line.startswith("| `redeem-coupon` "))
    assert re.match(
        r"\| `redeem-coupon` \(POST `/v2/project/\{project_id\}/coupon/redeem`\) \| \d+ \| yes \| 200 x\d+, 422 x1 \|",
        line,
    )
