"""The engine: routing, auth, validation, the error format and generic CRUD, through HTTP."""

from __future__ import annotations

import base64

from xsolla_contract.toolkit.testing import ContractClient

ITEMS = "/v2/project/{project_id}/admin/items/virtual_items"
ITEM = "/v2/project/{project_id}/admin/items/virtual_items/sku/{sku}"


def sword(sku: str = "sword_1", **extra: object) -> dict:
    return {
        "sku": sku,
        "name": {"en-US": "Sword", "de-DE": "Schwert"},
        "prices": [{"amount": 9.99, "currency": "USD", "is_default": True}],
        **extra,
    }


def test_crud_round_trip(api: ContractClient) -> None:
    created = api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    assert created.status == 201 and created.data == {"sku": "sword_1"}
    got = api.get(api.path(ITEM, sku="sword_1"), headers=api.admin())
    assert got.status == 200
    assert got.data["name"] == {"en": "Sword", "de": "Schwert"}  # five-letter keys stored as two-letter
    assert got.data["type"] == "virtual_good" and got.data["item_id"] >= 1
    updated = api.put(api.path(ITEM, sku="sword_1"), json=sword(name={"en": "Long sword"}), headers=api.admin())
    assert updated.status == 204
    assert api.get(api.path(ITEM, sku="sword_1"), headers=api.admin()).data["name"] == {"en": "Long sword"}
    assert api.delete(api.path(ITEM, sku="sword_1"), headers=api.admin()).status == 204
    missing = api.get(api.path(ITEM, sku="sword_1"), headers=api.admin())
    assert missing.status == 404 and missing.data["errorCode"] == 4001


def test_list_pages(api: ContractClient) -> None:
    for n in range(5):
        api.post(api.path(ITEMS), json=sword(f"sword_{n}", order=n), headers=api.admin())
    page = api.get(api.path(ITEMS), params={"limit": 2, "offset": 2}, headers=api.admin())
    assert [i["sku"] for i in page.data["items"]] == ["sword_2", "sword_3"]


def test_duplicate_sku_is_refused_and_nothing_is_lost(api: ContractClient) -> None:
    api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    again = api.post(api.path(ITEMS), json=sword(name={"en": "Other"}), headers=api.admin())
    assert again.status == 422 and again.data["statusCode"] == 422
    assert api.get(api.path(ITEM, sku="sword_1"), headers=api.admin()).data["name"] == {"en": "Sword", "de": "Schwert"}


def test_auth_errors(api: ContractClient) -> None:
    path = api.path(ITEMS)
    missing = api.get(path)
    assert (missing.status, missing.data["errorCode"]) == (401, 1020)
    malformed = api.get(path, headers={"Authorization": "Basic not-base64!"})
    assert malformed.status == 401
    other = api.get(path, headers=api.admin(project_id=99))
    assert other.status == 403
    merchant = api.get(path, headers={"Authorization": "Basic " + base64.b64encode(b"1000:key").decode()})
    assert merchant.status == 200


def test_validation_errors_are_422_with_the_failing_fields(api: ContractClient) -> None:
    answer = api.post(api.path(ITEMS), json={"sku": "bad sku"}, headers=api.admin())
    assert answer.status == 422 and answer.data["errorCode"] == 1102
    properties = {e["property"] for e in answer.data["errorMessageExtended"]}
    assert {"body", "body/sku"} <= properties
    bad_query = api.get(api.path(ITEMS), params={"limit": 500}, headers=api.admin())
    assert bad_query.status == 422 and bad_query.data["errorMessageExtended"][0]["property"] == "query.limit"


def test_malformed_json_and_wrong_content_type(api: ContractClient) -> None:
    broken = api.call("POST", api.path(ITEMS), data="{bad", content_type="application/json", headers=api.admin())
    assert broken.status == 400 and broken.data["errorCode"] == 1102
    plain = api.call("POST", api.path(ITEMS), data="sku=x", content_type="text/plain", headers=api.admin())
    assert plain.status == 415
    not_utf8 = api.call("POST", api.path(ITEMS), data=b"3\xfd", content_type="application/json", headers=api.admin())
    assert not_utf8.status == 400 and not_utf8.data["errorCode"] == 1102


def test_unreadable_multipart_body_is_400(api: ContractClient) -> None:
    upload = "/v2/project/{project_id}/admin/items/game/key/upload/sku/{item_sku}"
    answer = api.call(
        "POST",
        api.path(upload, item_sku="any_key"),
        data=b"\xfd\xfe not a multipart body",
        content_type="multipart/form-data; boundary=nothing-here",
        headers=api.admin(),
    )
    assert answer.status == 400 and "not valid multipart/form-data" in answer.data["errorMessage"]


def test_unknown_path_names_the_nearest_operations(api: ContractClient) -> None:
    api.check = False
    answer = api.get("/v2/project/44056/admin/items/virtual_itemz", headers=api.admin())
    assert answer.status == 404
    assert "admin-get-virtual-items-list" in answer.data["errorMessage"]
    assert (
        answer.data["errorMessageExtended"]["nearest"][0]["path"]
        == "/v2/project/{project_id}/admin/items/virtual_items"
    )


def test_wrong_method_is_405_with_allow(api: ContractClient) -> None:
    api.check = False
    answer = api.call("PATCH", api.path(ITEMS), headers=api.admin())
    assert answer.status == 405 and answer.headers["allow"] == "GET, POST"


def test_production_base_path_is_served(api: ContractClient) -> None:
    api.post(api.path(ITEMS), json=sword(), headers=api.admin())
    assert api.get("/api" + api.path(ITEM, sku="sword_1"), headers=api.admin()).status == 200


def test_every_operation_is_served_by_a_hook_or_a_resource_action(mock_app) -> None:
    from xsolla_contract.mocks import engine_of

    engine = engine_of(mock_app)
    assert engine.unserved == []
    served = {op for op in engine.spec.operations if op in engine.hooks}
    served |= {op.operation_id for op in engine.spec.operations.values() if engine.resources.action_for(op)}
    assert served == set(engine.spec.operations) and len(served) == 227
