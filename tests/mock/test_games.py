"""Games and game keys: the catalog, the code stock, purchases and entitlements."""

from __future__ import annotations

from typing import Any

from xsolla_contract.toolkit.testing import Answer, ContractClient

ADMIN = "/v2/project/{project_id}/admin"
GAMES = "/v2/project/{project_id}/items/game"
KEYS = ADMIN + "/items/game/key"
ENTITLEMENTS = "/v2/project/{project_id}/entitlement"
PRESS = {"user_email": "liveops@example.com", "reason": "Press kit"}


def key(sku: str, drm: str, **extra: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "drm_sku": drm,
        "order": extra.pop("order", 1),
        "prices": [{"amount": 20, "currency": "USD", "is_default": True, "is_enabled": True}],
        **extra,
    }


def create_game(api: ContractClient, sku: str = "starfall", *keys: dict[str, Any], **extra: Any) -> None:
    keys = keys or (
        key(f"{sku}_steam", "steam", name={"en": "Starfall (Steam)"}),
        key(f"{sku}_free", "drmfree", order=2),
    )
    body = {
        "sku": sku,
        "name": {"en-US": "Starfall", "de-DE": "Sternenfall"},
        "description": {"en": "Space RPG"},
        "unit_items": list(keys),
        **extra,
    }
    assert api.post(api.path(ADMIN + "/items/game"), json=body, headers=api.admin()).status == 201


def plain(api: ContractClient, method: str, path: str, **kw: Any) -> Answer:
    """A call answered in text/plain (checked against the spec like every other answer)."""
    answer = api.call(method, path, headers=api.admin(), **kw)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/plain"), answer.body
    return answer


def upload(
    api: ContractClient,
    key_sku: str,
    *codes: str,
    region_id: int | None = None,
    path: str = KEYS + "/upload/sku/{item_sku}",
) -> Answer:
    boundary = "c0des-b0undary"
    fields = [("file", "\n".join(codes) + "\n", '; filename="codes.txt"')]
    if region_id is not None:
        fields.append(("region_id", str(region_id), ""))
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n{value}\r\n'
            for name, value, extra in fields
        )
        + f"--{boundary}--\r\n"
    )
    return api.call(
        "POST",
        api.path(path, item_sku=key_sku, item_id=key_sku),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=api.admin(),
    )


def stock(api: ContractClient, key_sku: str, game: str = "starfall") -> dict[str, int]:
    units = api.get(api.path(ADMIN + "/items/game/sku/{item_sku}", item_sku=game), headers=api.admin()).data
    return next(u["keys"] for u in units["unit_items"] if u["sku"] == key_sku)


def owned(api: ContractClient, user: str, **params: Any) -> list[tuple[str, str]]:
    answer = api.get(api.path(ENTITLEMENTS), headers=api.user(user), params=params)
    assert answer.status == 200
    return [(g["game_sku"], g["drm"]) for g in answer.data["items"]]


def revocation(user: str, drm: str = "drmfree", game: str = "starfall") -> dict[str, Any]:
    return {"user_external_id": user, "game": {"sku": game}, "drm": {"sku": drm}, "mode": "default"}


def entitlement(user: str, drm: str = "drmfree", code: str | None = None, game: str = "starfall") -> dict[str, Any]:
    return {**revocation(user, drm, game), "code": code}


def test_drm_list_is_the_fixed_platform_list(api: ContractClient) -> None:
    drm = {d["sku"]: d for d in api.get(api.path(GAMES + "/drm")).data["drm"]}
    assert drm["steam"]["drm_id"] == 1 and drm["drmfree"]["name"] == "DRM free"
    assert {"playstation", "xbox", "epicgames", "gog"} <= set(drm)


def test_games_and_keys_in_the_catalog(api: ContractClient) -> None:
    api.post(api.path(ADMIN + "/items/groups"), json={"external_id": "rpg", "name": {"en": "RPG"}}, headers=api.admin())
    create_game(api, groups=[{"external_id": "rpg"}], order=2)
    create_game(api, "moonfall", key("moonfall_steam", "steam"), order=1, is_enabled=False)
    games = api.get(api.path(GAMES), params={"locale": "de"}).data["items"]
    assert [g["sku"] for g in games] == ["starfall"]
    game = games[0]
    assert game["type"] == "unit" and game["unit_type"] == "game_key" and game["name"] == "Sternenfall"
    steam, free = game["unit_items"]
    assert (steam["sku"], steam["name"], steam["drm_name"]) == ("starfall_steam", "Starfall (Steam)", "Steam")
    assert free["name"] == "Sternenfall" and free["description"] == "Space RPG"  # inherited from the game
    assert free["price"]["amount"] == "20.00" and free["has_keys"] is False
    assert [g["sku"] for g in api.get(api.path(GAMES + "/group/rpg")).data["items"]] == ["starfall"]
    keys = api.get(api.path(GAMES + "/key/group/rpg")).data["items"]
    assert [k["sku"] for k in keys] == ["starfall_steam", "starfall_free"]
    assert api.get(api.path(GAMES + "/group/racing")).data["errorCode"] == 4403
    upload(api, "starfall_free", "FREE-1")
    assert api.get(api.path(GAMES + "/key/sku/starfall_free")).data["has_keys"] is True
    assert api.get(api.path(GAMES + "/sku/starfall")).data["unit_items"][1]["has_keys"] is True
    sellable = [i["sku"] for i in api.get(api.path("/v2/project/{project_id}/items")).data["items"]]
    assert sellable == ["starfall_steam", "starfall_free"]  # keys are sold, games are not
    for path in (
        GAMES + "/sku/moonfall",
        GAMES + "/key/sku/moonfall_steam",
        GAMES + "/sku/starfall_steam",
        GAMES + "/key/sku/starfall",
    ):
        missing = api.get(api.path(path))
        assert (missing.status, missing.data["errorCode"]) == (404, 4001)


def test_upload_take_and_delete_codes(api: ContractClient) -> None:
    create_game(api)
    uploaded = upload(api, "starfall_steam", "K-1", "K-2", "K-2", "", "K-3", "K-4")
    assert uploaded.status == 200
    assert uploaded.data["count_total"] == 5 and uploaded.data["count_uploaded"] == 4
    assert uploaded.data["count_skipped"] == 1 and uploaded.data["status"] == "finished"
    session = api.get(
        api.path(KEYS + "/upload/session/{session_id}", session_id=uploaded.data["session_id"]), headers=api.admin()
    )
    assert session.data == uploaded.data
    assert upload(api, "starfall_free", "K-1", "F-1").data["count_uploaded"] == 1  # codes are unique
    assert stock(api, "starfall_steam") == {"available": 4, "used": 0}
    taken = plain(api, "GET", api.path(KEYS + "/request/sku/starfall_steam"), params={"quantity": 3, **PRESS})
    assert taken.body.decode().splitlines() == ["K-1", "K-2", "K-3"]
    assert stock(api, "starfall_steam") == {"available": 1, "used": 3}
    game = api.get(api.path(ADMIN + "/items/game/sku/starfall"), headers=api.admin()).data
    steam_id = game["unit_items"][0]["item_id"]
    rest = plain(
        api, "GET", api.path(KEYS + "/request/id/{item_id}", item_id=steam_id), params={"quantity": 5, **PRESS}
    )
    assert rest.body.decode().splitlines() == ["K-4"]
    deleted = plain(api, "DELETE", api.path(KEYS + "/delete/sku/starfall_free"), params=PRESS)
    assert deleted.body == b"1" and stock(api, "starfall_free")["available"] == 0
    missing = api.get(api.path(KEYS + "/upload/session/nope"), headers=api.admin())
    assert (missing.status, missing.data["errorCode"]) == (404, 4001)


def test_codes_by_region_and_by_id(api: ContractClient) -> None:
    create_game(api)
    game = api.get(api.path(ADMIN + "/items/game/sku/starfall"), headers=api.admin()).data
    steam_id = game["unit_items"][0]["item_id"]
    europe = upload(api, str(steam_id), "EU-1", "EU-2", region_id=2, path=KEYS + "/upload/id/{item_id}")
    assert europe.status == 200
    upload(api, "starfall_steam", "US-1")
    default = plain(api, "GET", api.path(KEYS + "/request/sku/starfall_steam"), params={"quantity": 5, **PRESS})
    assert default.body == b"US-1\n"
    deleted = plain(
        api, "DELETE", api.path(KEYS + "/delete/id/{item_id}", item_id=steam_id), params={"region_id": 2, **PRESS}
    )
    assert deleted.body == b"2"


def test_code_calls_refuse_unknown_keys_and_other_bodies(api: ContractClient) -> None:
    create_game(api)
    for answer in (
        upload(api, "starfall", "X-1"),
        upload(api, "nothing", "X-1"),
        upload(api, "999", "X-1", path=KEYS + "/upload/id/{item_id}"),
        api.get(api.path(KEYS + "/request/sku/nothing"), params={"quantity": 1, **PRESS}, headers=api.admin()),
    ):
        assert (answer.status, answer.data["errorCode"]) == (404, 4001)
    as_json = api.post(api.path(KEYS + "/upload/sku/starfall_steam"), json={"file": "X-1"}, headers=api.admin())
    assert as_json.status == 415
    no_file = api.call(
        "POST",
        api.path(KEYS + "/upload/sku/starfall_steam"),
        headers=api.admin(),
        data='--b\r\nContent-Disposition: form-data; name="region_id"\r\n\r\n2\r\n--b--\r\n',
        content_type="multipart/form-data; boundary=b",
    )
    assert (no_file.status, no_file.data["errorCode"]) == (422, 1102)


def test_a_paid_order_hands_out_codes_and_the_game(api: ContractClient) -> None:
    create_game(api)
    upload(api, "starfall_steam", "S-1", "S-2")

    def order(user: str, quantity: int) -> None:
        created = api.post(
            api.path("/v2/project/{project_id}/payment/item/starfall_steam"),
            json={"quantity": quantity},
            headers=api.user(user),
        )
        assert created.status == 200, created.data
        assert stock(api, "starfall_steam")["available"] > 0  # codes leave the stock on payment only
        api.set_order_status(created.data["order_id"], "paid")

    order("u1", 1)
    assert owned(api, "u1") == [("starfall", "steam")]
    assert stock(api, "starfall_steam") == {"available": 1, "used": 1}
    order("u2", 2)  # one code left: the second unit is delivered without one
    assert stock(api, "starfall_steam")["available"] == 0
    summary = api.control("GET", "users/u2")["entitlements"]
    assert [(e["game_sku"], e["drm"], e["codes"], e["source"]) for e in summary] == [
        ("starfall", "steam", ["S-2"], "purchase")
    ]
    redeemed = api.post(api.path(ENTITLEMENTS + "/redeem"), json={"code": "S-1"}, headers=api.user("u3"))
    assert (redeemed.status, redeemed.data["errorCode"]) == (422, 5107)  # sold codes are activated


def test_grant_list_and_revoke_entitlements(api: ContractClient) -> None:
    create_game(
        api,
        attributes=[
            {
                "external_id": "genre",
                "name": {"en": "Genre"},
                "values": [{"external_id": "rpg", "value": {"en": "RPG"}}],
            }
        ],
    )
    upload(api, "starfall_steam", "S-1")
    grant = api.path(ADMIN + "/entitlement/grant")
    revoke = api.path(ADMIN + "/entitlement/revoke")
    assert api.post(grant, json=entitlement("u1"), headers=api.admin()).status == 200
    assert api.post(grant, json=entitlement("u1", "steam", "S-1"), headers=api.admin()).status == 200
    assert owned(api, "u1") == [("starfall", "drmfree"), ("starfall", "steam")]
    page = api.get(
        api.path(ENTITLEMENTS), params={"limit": 1, "additional_fields[]": "attributes"}, headers=api.user("u1")
    ).data
    assert page["has_more"] is True and page["total_items_count"] == 2
    assert page["items"][0]["name"] == "Starfall" and page["items"][0]["attributes"][0]["name"] == "Genre"
    assert owned(api, "u1", sandbox=1) == []
    refusals = [
        (entitlement("u1"), 422, 5101),
        (entitlement("u2", "steam"), 422, 5103),
        (entitlement("u2", "steam", "S-1"), 404, 4603),  # already activated
        (entitlement("u2", "steam", "NOPE"), 404, 4603),
        (entitlement("u2", game="moonfall"), 404, 4604),
    ]
    for body, status, code in refusals:
        answer = api.post(grant, json=body, headers=api.admin())
        assert (answer.status, answer.data["errorCode"]) == (status, code), body
    assert api.post(revoke, json=revocation("u1"), headers=api.admin()).status == 204
    assert api.post(revoke, json=revocation("u1", "steam"), headers=api.admin()).status == 204
    assert owned(api, "u1") == []
    not_drm_free = api.post(revoke, json=revocation("u1", "steam"), headers=api.admin())
    assert (not_drm_free.status, not_drm_free.data["errorCode"]) == (422, 5103)


def test_redeem_a_game_code(api: ContractClient) -> None:
    create_game(api)
    create_game(
        api,
        "moonfall",
        key("moonfall_free", "drmfree", pre_order={"release_date": "2099-01-01T00:00:00+00:00", "is_enabled": True}),
    )
    upload(api, "starfall_free", "FREE-1", "FREE-2")
    upload(api, "starfall_steam", "STEAM-1")
    upload(api, "moonfall_free", "MOON-1")
    redeem = api.path(ENTITLEMENTS + "/redeem")
    assert api.post(redeem, json={"code": "FREE-1"}, headers=api.user("u1")).status == 201
    assert owned(api, "u1") == [("starfall", "drmfree")]
    assert stock(api, "starfall_free") == {"available": 1, "used": 1}
    refusals = [
        ("u1", "FREE-1", 422, 5107),
        ("u1", "FREE-2", 422, 5101),
        ("u2", "UNKNOWN", 404, 4603),
        ("u2", "STEAM-1", 422, 5103),
        ("u2", "MOON-1", 422, 5106),
    ]
    for user, code, status, error in refusals:
        answer = api.post(redeem, json={"code": code}, headers=api.user(user))
        assert (answer.status, answer.data["errorCode"]) == (status, error), code
    assert api.post(redeem, json={"code": "FREE-2", "sandbox": True}, headers=api.user("u1")).status == 201
    assert owned(api, "u1", sandbox=1) == [("starfall", "drmfree")]
