"""The pytest plugin, used the way a client project uses it (pytester)."""

from __future__ import annotations

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
