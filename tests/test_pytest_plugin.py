"""The pytest plugin, used the way a client project uses it (pytester)."""

from __future__ import annotations

import json

import pytest


def test_plugin_is_idle_without_its_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert "xsolla" not in result.stdout.str()


def test_fixtures_in_a_client_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_admin_item_reaches_the_client(xsolla_mock, xsolla_validator):
            base = f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}"
            created = requests.post(base + "/admin/items/virtual_items", auth=xsolla_mock.admin_auth,
                                    json={"sku": "plugin_sword", "name": {"en": "Sword"}})
            xsolla_validator.assert_valid(created)
            listed = requests.get(base + "/items/virtual_items", params={"limit": 50},
                                  headers={"Authorization": "Bearer " + xsolla_mock.user_token("u1", tier="gold")})
            assert "plugin_sword" in [i["sku"] for i in listed.json()["items"]]
            assert [e["operation"] for e in xsolla_mock.requests][-2:] == [
                "admin-create-virtual-item", "get-virtual-items"]

        def test_state_is_reset_for_each_test(xsolla_mock):
            base = f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}"
            answer = requests.get(base + "/admin/items/virtual_items/sku/plugin_sword", auth=xsolla_mock.admin_auth)
            assert answer.status_code == 404 and xsolla_mock.requests[0]["status"] == 404

        def test_clock(xsolla_mock):
            before = xsolla_mock.clock.now()
            after = xsolla_mock.clock.advance("P2D")
            assert (after - before).days == 2

        def test_load_fixtures(xsolla_mock):
            xsolla_mock.load({"virtual_items": [{"sku": "from_fixture", "name": {"en": "Fixture"}}]})
            answer = requests.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}"
                                  "/admin/items/virtual_items/sku/from_fixture", auth=xsolla_mock.admin_auth)
            assert answer.status_code == 200

        def test_in_process_app(xsolla_app, xsolla_spec):
            answer = xsolla_app.get("/v2/project/44056/items/groups")
            assert answer.status_code == 200 and answer.json["groups"]
            assert len(xsolla_spec.operations) == 227
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=5)


def test_marker_fails_a_test_on_a_contract_violation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest
        import requests

        @pytest.mark.xsolla_contract
        def test_client_sends_an_invalid_limit(xsolla_mock):
            requests.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items",
                         params={"limit": 500})

        @pytest.mark.xsolla_contract
        def test_valid_exchanges_pass(xsolla_mock):
            httpx.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items",
                      params={"limit": 5})

        def test_unmarked_tests_are_not_checked(xsolla_mock):
            requests.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items",
                         params={"limit": 500})

        @pytest.mark.xsolla_contract
        def test_async_clients_are_checked_too(xsolla_mock):
            import asyncio

            async def call():
                async with httpx.AsyncClient() as client:
                    await client.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items",
                                     params={"offset": -1})

            asyncio.run(call())
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolation*1 contract violation(s) in 1 HTTP exchange(s)*",
            "*query limit: limit: 500 is greater than the maximum of 50*",
        ]
    )
    result.stdout.fnmatch_lines(["*query offset: offset: -1 is less than the minimum of 0*"])


def test_server_errors_resurface_in_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_boom(xsolla_mock, monkeypatch):
            def explode(*args, **kwargs):
                raise RuntimeError("engine exploded")
            monkeypatch.setattr(xsolla_mock.engine, "handle", explode)
            requests.get(f"{xsolla_mock.url}/v2/project/1/items/groups")
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: engine exploded*"])


def test_options_ini_and_environment(pytester: pytest.Pytester, live_server, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nxsolla_seed = 7\n")
    pytester.makepyfile(
        """
        def test_seed_from_ini(xsolla_mock, request):
            assert request.config.getini("xsolla_seed") == "7"

        def test_base_url_points_at_a_real_server(xsolla_mock):
            assert xsolla_mock.engine is None and xsolla_mock.url.endswith("/api")
            assert xsolla_mock.admin_auth == ("44056", "k")
        """
    )
    monkeypatch.setenv("XSOLLA_BASIC", "44056:k")
    monkeypatch.setenv("XSOLLA_TOKEN", "t")
    result = pytester.runpytest("-q", "-p", "no:randomly", "--xsolla-base-url", live_server.url + "/api")
    result.assert_outcomes(passed=2)


def test_mock_only_features_skip_against_a_real_server(
    pytester: pytest.Pytester, live_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        def test_needs_the_clock(xsolla_mock):
            xsolla_mock.clock.advance(60)
        """
    )
    monkeypatch.setenv("XSOLLA_BASE_URL", live_server.url + "/api")
    result = pytester.runpytest("-q", "-p", "no:randomly", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*the clock needs the mock*"])


def test_fault_rules_from_a_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import requests

        def catalog(xsolla_mock):
            return requests.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items",
                                headers={"Authorization": "Bearer " + xsolla_mock.user_token()}, timeout=10)

        @pytest.mark.xsolla_contract  # an injected error is not a contract violation
        def test_context_manager_removes_the_rule(xsolla_mock):
            with xsolla_mock.fault("get-virtual-items", status=503, times=5) as outage:
                answer = catalog(xsolla_mock)
                assert answer.status_code == 503 and answer.json()["statusCode"] == 503
                assert (outage.fired, outage.remaining) == (1, 4)
            assert catalog(xsolla_mock).status_code == 200
            assert xsolla_mock.engine.faults.rules() == []

        def test_a_plain_call_lasts_until_the_end_of_the_test(xsolla_mock):
            xsolla_mock.fault(status=429)
            assert catalog(xsolla_mock).status_code == 429
            assert catalog(xsolla_mock).status_code == 429

        def test_rules_do_not_leak_into_the_next_test(xsolla_mock):
            assert catalog(xsolla_mock).status_code == 200

        def test_a_dropped_connection(xsolla_mock):
            xsolla_mock.fault("get-virtual-items", disconnect=True, times=1)
            with pytest.raises(requests.ConnectionError):
                catalog(xsolla_mock)
            assert catalog(xsolla_mock).status_code == 200
            assert [e["status"] for e in xsolla_mock.requests] == [None, 200]

        def test_latency_as_a_range(xsolla_mock):
            with xsolla_mock.fault("get-virtual-items", latency_ms=(50, 80), times=1):
                assert catalog(xsolla_mock).status_code == 200
            assert 50 <= xsolla_mock.requests[-1]["fault"]["latency_ms"] <= 80

        def test_a_bad_rule_says_what_is_wrong(xsolla_mock):
            with pytest.raises(ValueError, match="Did you mean: get-virtual-items"):
                xsolla_mock.fault("get-virtual-item", status=503)
        """
    )
    result = pytester.runpytest("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=6)


def test_coverage_of_a_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XSOLLA_MOCK_JOURNAL_SIZE", "2")  # coverage counts more than the journal keeps
    pytester.makepyfile(
        """
        import requests

        def test_first(xsolla_mock):
            url = f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items"
            for _ in range(3):
                requests.get(url, headers={"Authorization": "Bearer " + xsolla_mock.user_token()}, timeout=10)
            requests.get(url, params={"limit": 500}, timeout=10)

        def test_second_after_a_reset(xsolla_mock):
            xsolla_mock.fault("get-virtual-items", status=503, times=1)
            requests.get(f"{xsolla_mock.url}/v2/project/{xsolla_mock.project_id}/items/virtual_items", timeout=10)
            assert xsolla_mock.coverage("get-virtual-items")["requests"] == 5

        def test_in_process_app_counts_too(xsolla_app):
            assert xsolla_app.get("/v2/project/44056/items/groups").status_code == 200
        """
    )
    result = pytester.runpytest(
        "-q",
        "-p",
        "no:randomly",
        "--xsolla-coverage",
        "--xsolla-coverage-scope",
        "get-virtual-items,get-item-groups,get-virtual-items-group",
        "--xsolla-coverage-json",
        "reports/coverage.json",
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*xsolla-contract API coverage*",
            "get-virtual-items * 5  200 x3, 422 x1 / 401 / 503 x1 (1 injected)",
            "get-item-groups * 1  200 x1 / *",
            "not exercised: * 1",
            "operations 2/3 (66.7%), documented responses 3/*, 6 requests",
            f"reports: {pytester.path / 'reports/coverage.json'} and {pytester.path / 'xsolla-coverage.md'}",
        ]
    )
    data = json.loads((pytester.path / "reports" / "coverage.json").read_text())
    assert data["requests"] == 6 and data["operations"]["exercised"] == 2
    assert "| `get-virtual-items-group`" in (pytester.path / "xsolla-coverage.md").read_text()


def test_coverage_minimum_fails_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_groups(xsolla_app):
            assert xsolla_app.get("/v2/project/44056/items/groups").status_code == 200
        """
    )
    scope = ["--xsolla-coverage-scope", "get-item-groups,get-virtual-items"]
    below = pytester.runpytest(
        "-q", "-p", "no:randomly", *scope, "--xsolla-coverage-min", "60", "--xsolla-coverage-min-responses", "50"
    )
    assert below.ret == pytest.ExitCode.TESTS_FAILED
    below.stdout.fnmatch_lines(
        [
            "FAILED: operations called 50.0% is below the minimum of 60.0%",
            "FAILED: documented responses answered 20.0% is below the minimum of 50.0%",
        ]
    )
    enough = pytester.runpytest(
        "-q", "-p", "no:randomly", *scope, "--xsolla-coverage-min", "50", "--xsolla-coverage-min-responses", "20"
    )
    assert enough.ret == pytest.ExitCode.OK and "FAILED" not in enough.stdout.str()


def test_coverage_scope_that_names_nothing_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("-q", "--xsolla-coverage", "--xsolla-coverage-scope", "get-virtual-itemz")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*Did you mean: get-virtual-items*"])


def test_fault_rules_skip_against_a_real_server(
    pytester: pytest.Pytester, live_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        def test_needs_faults(xsolla_mock):
            xsolla_mock.fault("get-virtual-items", status=503)
        """
    )
    monkeypatch.setenv("XSOLLA_BASE_URL", live_server.url + "/api")
    result = pytester.runpytest("-q", "-p", "no:randomly", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*fault() needs the mock*"])
