"""Request+response pairs validated per second, on one core.

Two representative exchanges: a client catalog list (get-virtual-items, 50 items
with prices, groups, attributes and limits) and an admin create
(admin-create-virtual-item). Compared:

- openapi-core as it comes: one cached `OpenAPI` object, its werkzeug adapters;
- our `Validator` without the compiled checks: openapi-core with the router as path
  finder and each schema validator built once;
- our `Validator`: the same plus the compiled yes/no check before openapi-core's
  validator (see `toolkit/_core.py`);
- our `Validator` with a query string it has not seen before on every request
  (`offset` counts up), so its memo of accepted parameters never answers;
- our `Validator` given the same response again, whose verdict it remembers by content.

All but the last check every response in full (`Validator(verdicts=0)`): the answers a
mock builds are new objects, and the ones that differ are checked in full.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.validation import HttpRequest, HttpResponse, Validator


def catalog_item(n: int) -> dict[str, Any]:
    return {
        "item_id": n,
        "sku": f"sword_{n}",
        "type": "virtual_good",
        "name": f"Sword {n}",
        "description": "A sharp blade forged in dragon fire.",
        "image_url": f"https://cdn.example.com/sword_{n}.png",
        "groups": [{"external_id": "weapons", "name": "Weapons"}],
        "attributes": [
            {"external_id": "rarity", "name": "Rarity", "values": [{"external_id": "epic", "value": "Epic"}]}
        ],
        "is_free": False,
        "price": {"amount": "8.99", "amount_without_discount": "9.99", "currency": "USD"},
        "virtual_prices": [
            {
                "sku": "gold",
                "item_id": 1,
                "amount": 90,
                "amount_without_discount": 100,
                "is_default": True,
                "image_url": None,
                "name": "Gold",
                "type": "virtual_currency",
            }
        ],
        "can_be_bought": True,
        "limits": {"per_user": {"total": 5, "available": 4}, "per_item": None},
        "periods": [],
        "promotions": [
            {
                "name": "Weekend sale",
                "date_start": None,
                "date_end": None,
                "discount": {"percent": "10.00", "value": None},
                "bonus": [],
            }
        ],
        "vp_rewards": [],
        "virtual_item_type": "consumable",
        "inventory_options": {"consumable": {"usages_count": 1}, "expiration_period": None},
    }


def exchanges(spec: Spec) -> dict[str, tuple[HttpRequest, HttpResponse]]:
    token = "Bearer " + ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJ1In0", "c2ln"])
    list_body = json.dumps({"has_more": True, "items": [catalog_item(n) for n in range(1, 51)]}).encode()
    create = spec.operation("admin-create-virtual-item")
    body = copy.deepcopy(create.request_body["content"]["application/json"]["example"])
    return {
        "catalog list (50 items)": (
            HttpRequest(
                "GET",
                "/v2/project/44056/items/virtual_items",
                [("limit", "50"), ("locale", "en")],
                {"authorization": token},
            ),
            HttpResponse(200, {"content-type": "application/json"}, list_body),
        ),
        "admin create": (
            HttpRequest(
                "POST",
                "/v2/project/44056/admin/items/virtual_items",
                [],
                {"authorization": "Basic NDQwNTY6a2V5", "content-type": "application/json"},
                json.dumps(body).encode(),
            ),
            HttpResponse(201, {"content-type": "application/json"}, json.dumps({"sku": body["sku"]}).encode()),
        ),
    }


def _rate(fn, seconds: float = 2.0) -> float:
    fn()  # warm up (compiles, caches)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def openapi_core_pair(spec: Spec, request: HttpRequest, response: HttpResponse):
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request, Response

    openapi = spec.openapi  # one cached OpenAPI object

    def run() -> None:
        env = EnvironBuilder(
            path=request.path,
            method=request.method,
            query_string=request.query,
            headers=request.headers,
            data=request.body,
            base_url="http://127.0.0.1/",
        ).get_environ()
        req = WerkzeugOpenAPIRequest(Request(env))
        resp = WerkzeugOpenAPIResponse(Response(response.body, status=response.status, headers=response.headers))
        openapi.validate_request(req)
        openapi.validate_response(req, resp)

    return run


def run(seconds: float = 2.0) -> dict[str, dict[str, float]]:
    from xsolla_contract.toolkit import _core

    spec = Spec.from_path()
    validator = Validator(spec, verdicts=0)  # every response checked (a mock's answers are new ones)
    remembering = Validator(spec)  # the same response again: the verdict on its content is remembered
    compiled, _core.jsonschema_rs = _core.jsonschema_rs, None
    try:
        plain = Validator(Spec(spec.document, source=spec.source), verdicts=0)  # its own openapi-core object
        for request, response in exchanges(spec).values():
            plain.validate_response(request, response)  # builds its validators without compiled checks
    finally:
        _core.jsonschema_rs = compiled
    results = {}
    for name, (request, response) in exchanges(spec).items():
        ours = validator.validate_response(request, response)
        assert not [v for v in ours.violations if v.kind != "security"], ours.violations
        results[name] = {
            "openapi_core": _rate(openapi_core_pair(spec, request, response), seconds),
            "uncompiled": _rate(lambda r=request, s=response: plain.validate_response(r, s), seconds),
            "ours": _rate(lambda r=request, s=response: validator.validate_response(r, s), seconds),
            "ours_new_query": _rate(_new_query_each_time(validator, request, response), seconds),
            "ours_same_response": _rate(lambda r=request, s=response: remembering.validate_response(r, s), seconds),
        }
    return results


def _new_query_each_time(validator: Validator, request: HttpRequest, response: HttpResponse):
    counter = iter(range(10**9))

    def run() -> None:
        fresh = copy.copy(request)
        fresh.query = [*request.query, ("offset", str(next(counter)))]
        validator.validate_response(fresh, response)

    return run


if __name__ == "__main__":
    for name, r in run().items():
        print(
            f"{name:26} openapi-core {r['openapi_core']:8.0f}   ours without compiled checks {r['uncompiled']:8.0f}   "
            f"ours {r['ours']:8.0f} pairs/s ({r['ours'] / r['openapi_core']:.1f}x)   "
            f"ours, a new query each time {r['ours_new_query']:8.0f}"
        )
