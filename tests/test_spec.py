"""The bundled spec: loading, caching, lint, bundling, and fidelity to the reference's operations and errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from xsolla_contract.toolkit import spec as spec_module
from xsolla_contract.toolkit.cli import main
from xsolla_contract.toolkit.errors import DanglingReferencesError, SpecValidationError, UnknownOperationError
from xsolla_contract.toolkit.lint import lint
from xsolla_contract.toolkit.spec import BUNDLED_SPEC, Spec
from xsolla_contract.toolkit.validation import Validator

EXPECTED = Path(__file__).resolve().parent / "data" / "expected_operations.yaml"


def expected_operations() -> dict[str, dict]:
    """operationId -> {api, group, method, path, auth, errors}: the reference's table (maintainer/ re-derives it)."""
    table = yaml.safe_load(EXPECTED.read_text())
    return {
        op: {**entry, "api": api, "group": group}
        for api, groups in table.items()
        for group, operations in groups.items()
        for op, entry in operations.items()
    }


def test_bundled_spec_has_every_reference_operation(spec: Spec) -> None:
    expected = expected_operations()
    assert len(expected) == 227
    assert set(spec.operations) == set(expected)
    for name, row in expected.items():
        op = spec.operation(name)
        assert (op.method, op.path) == (row["method"], row["path"]), name
        assert op.tags == (row["group"],), name
        assert row["group"] in spec.tag_groups[row["api"]], name
        wanted = set() if row["auth"] == "none" else {row["auth"]}
        assert wanted <= op.security_schemes, name
        extra = op.security_schemes - wanted
        if row["auth"] == "AuthForCart":
            assert extra == {"AuthForCartGuestId", "AuthForCartGuestUser"}, name
        else:
            assert not extra, name
        if row["auth"] == "none":
            assert op.security == (), name


def test_operation_counts_per_api(spec: Spec) -> None:
    by_tag = spec.by_tag()
    groups = spec.tag_groups
    assert sum(by_tag[t] for t in groups["LiveOps"]) == 113
    assert sum(by_tag[t] for t in groups["Catalog"]) == 114


def test_documented_errors_are_in_the_spec(spec: Spec) -> None:
    missing, documented = [], 0
    for name, row in expected_operations().items():
        op = spec.operation(name)
        for status, codes in (row.get("errors") or {}).items():
            documented += len(codes)
            response = op.responses.get(status)
            if response is None:
                missing.append(f"{name} {status}")
                continue
            media = (response.get("content") or {}).get("application/json") or {}
            examples = [media.get("example")] + [e.get("value") for e in (media.get("examples") or {}).values()]
            found = {e.get("errorCode") for e in examples if isinstance(e, dict)}
            missing += [f"{name} {status} errorCode {code}" for code in codes if code not in found]
    assert documented, "the table lists no documented errors"
    assert not missing, missing


def test_bundled_spec_is_lint_clean(spec: Spec) -> None:
    assert lint(spec) == []


def test_every_operation_documents_errors_and_examples(spec: Spec) -> None:
    for op in spec.operations.values():
        if op.security:
            assert "401" in op.responses, op
        assert "422" in op.responses, op
        if op.request_body:
            media = op.request_body["content"].get("application/json")
            if media:
                assert "example" in media or media.get("examples"), op


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param({"en": "Sword"}, True, id="two-letter"),
        pytest.param({"en-US": "Sword", "de-DE": "Schwert"}, True, id="five-letter"),
        pytest.param({"en": "Sword", "de-DE": "Schwert"}, True, id="mixed"),
        pytest.param(None, True, id="null"),
        pytest.param({"xx": "?"}, False, id="unknown-locale"),
        pytest.param({"en": 5}, False, id="not-text"),
    ],
)
def test_localized_text_accepts_both_key_forms(spec: Spec, value: object, valid: bool) -> None:
    create = {
        "method": "POST",
        "url": "/v2/project/44056/admin/items/virtual_items",
        "headers": {"Authorization": "Basic NDQwNTY6a2V5", "Content-Type": "application/json"},
        "json": {"sku": "sword_1", "name": value},
    }
    violations = Validator(spec).validate_request(create).violations
    assert (not [v for v in violations if v.where.startswith("request body /name")]) is valid


def test_unknown_operation_suggests_the_nearest(spec: Spec) -> None:
    with pytest.raises(UnknownOperationError, match="redeem-coupon"):
        spec.operation("redeem-coupons")


def test_router_prefers_literal_segments(spec: Spec) -> None:
    match = spec.find("PUT", "/v2/project/1/cart/fill")
    assert match and match.operation.operation_id == "cart-fill"
    match = spec.find("GET", "/v2/project/1/cart/abc")
    assert match and match.operation.operation_id == "get-cart-by-id" and match.path_params["cart_id"] == "abc"
    assert spec.find("PATCH", "/v2/project/1/cart/fill") is None
    assert spec.methods_for("/v2/project/1/cart/fill") == ["PUT"]


# ----------------------------------------------------------------- caching


def test_warm_load_comes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "spec"
    shutil.copytree(BUNDLED_SPEC.parent, copy)
    monkeypatch.setenv("XSOLLA_CONTRACT_CACHE", str(tmp_path / "cache"))
    cold = Spec.from_path(copy / "openapi.yaml")
    calls = []
    real = spec_module._resolve
    monkeypatch.setattr(spec_module, "_resolve", lambda *a, **k: calls.append(a) or real(*a, **k))
    warm = Spec.from_path(copy / "openapi.yaml")
    assert calls == [] and warm.document == cold.document
    # editing any source file invalidates the cache
    coupons = copy / "liveops" / "coupons.yaml"
    coupons.write_text(coupons.read_text() + "\n# edited\n")
    Spec.from_path(copy / "openapi.yaml")
    assert len(calls) == 1


# ------------------------------------------------------- broken specs, CLI


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "spec"
    shutil.copytree(BUNDLED_SPEC.parent, copy)
    return copy


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_spec_check_passes_on_the_bundled_spec() -> None:
    code, out = run_cli("spec", "check")
    assert code == 0, out
    assert "227 operations (LiveOps 113, Catalog 114)" in out


def test_spec_check_names_a_dangling_ref(spec_copy: Path) -> None:
    coupons = spec_copy / "liveops" / "coupons.yaml"
    coupons.write_text(
        coupons.read_text().replace("'../common/errors.yaml#/Unauthorized'", "'../common/errors.yaml#/Unauthorised'", 1)
    )
    code, out = run_cli("spec", "check", str(spec_copy / "openapi.yaml"))
    assert code == 1
    assert "'../common/errors.yaml#/Unauthorised'" in out and "coupons.yaml" in out
    assert "errors.yaml has nothing at #/Unauthorised" in out


def test_spec_check_names_an_operation_without_responses(spec_copy: Path) -> None:
    path = spec_copy / "catalog" / "regions.yaml"
    doc = yaml.safe_load(path.read_text())
    del doc["paths"]["v2.admin.region"]["get"]["responses"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, out = run_cli("spec", "check", str(spec_copy / "openapi.yaml"))
    assert code == 1
    assert "paths -> /v2/project/{project_id}/admin/region -> get: " in out
    assert "responses" in out and "is a required property" in out
    with pytest.raises(SpecValidationError):
        Spec.from_path(spec_copy / "openapi.yaml", cache=False)


def test_spec_check_names_an_invalid_example(spec_copy: Path) -> None:
    path = spec_copy / "catalog" / "regions.yaml"
    text = path.read_text()
    assert "countries:" in text
    doc = yaml.safe_load(text)
    media = doc["paths"]["v2.admin.region"]["post"]["requestBody"]["content"]["application/json"]
    media["example"]["countries"] = "US"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, out = run_cli("spec", "check", str(spec_copy / "openapi.yaml"))
    assert code == 1
    assert "admin-create-region" in out and "example does not match its schema at countries" in out


def _refs_in(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs_in(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs_in(value)]
    return []


def _pointer_target(document: dict, ref: str) -> object:
    node: object = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]  # type: ignore[index]
    return node


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bundle") / "nested" / "xsolla.yaml"
    code, text = run_cli("spec", "bundle", str(out))
    assert code == 0, text
    return out, text


def test_bundle_keeps_named_components_and_internal_refs(bundled: tuple[Path, str]) -> None:
    out, text = bundled
    document = yaml.safe_load(out.read_text())
    components = document["components"]
    assert f"wrote {out} (YAML" in text and "227 operations" in text and "internal $refs only" in text
    assert {"Coupon", "CouponCreate", "Error", "LocalizedText", "Sku"} <= set(components["schemas"])
    assert {"Unauthorized", "ValidationError"} <= set(components["responses"])
    assert "ProjectId" in components["parameters"]
    assert {"basicAuth", "XsollaLoginUserJWT"} <= set(components["securitySchemes"])
    assert {"CartCart", "PromoCodesCart"} <= set(components["schemas"])  # one name, two files: both kept
    refs = _refs_in(document)
    assert len(refs) > 1000 and all(r.startswith("#/components/") for r in refs)
    for ref in set(refs):
        assert isinstance(_pointer_target(document, ref), dict), ref  # every reference lands inside the file
    coupon = document["paths"]["/v3/project/{project_id}/admin/coupon"]["post"]
    assert coupon["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CouponCreate"
    }
    assert coupon["responses"]["401"] == {"$ref": "#/components/responses/Unauthorized"}


def test_bundle_alone_reads_as_the_spec(bundled: tuple[Path, str], tmp_path: Path, spec: Spec) -> None:
    """A consumer that resolves references itself (prance, openapi-spec-validator, openapi-core, as Prism
    or Redoc do) reads the file alone and finds the same API."""
    from openapi_core import OpenAPI

    alone = tmp_path / "alone.yaml"
    shutil.copy(bundled[0], alone)  # nothing beside it
    loaded = Spec.from_path(alone, cache=False)
    assert loaded.document["paths"] == spec.document["paths"]
    raw = yaml.safe_load(alone.read_text())
    assert OpenAPI.from_dict(raw).spec is not None


def test_bundle_as_json_and_dereferenced(tmp_path: Path, spec: Spec) -> None:
    code, text = run_cli("spec", "bundle", str(tmp_path / "xsolla.json"))
    assert code == 0, text
    assert json.loads((tmp_path / "xsolla.json").read_text())["components"]["schemas"]["Coupon"]["type"] == "object"
    out = tmp_path / "flat.json"
    code, text = run_cli("spec", "bundle", "--dereference", str(out))
    assert code == 0 and "every $ref replaced by its target" in text, text
    raw = out.read_text()
    assert '"$ref"' not in raw
    assert json.loads(raw)["paths"] == spec.document["paths"]


@pytest.mark.parametrize("name", ["xsolla.txt", "xsolla"])
def test_bundle_refuses_an_unknown_extension(tmp_path: Path, name: str) -> None:
    code, text = run_cli("spec", "bundle", str(tmp_path / name))
    assert code == 2
    assert "the extension picks the format; use .json, .yaml, .yml" in text
    assert list(tmp_path.iterdir()) == []


def test_bundle_names_a_dangling_ref(spec_copy: Path, tmp_path: Path) -> None:
    coupons = spec_copy / "liveops" / "coupons.yaml"
    coupons.write_text(coupons.read_text().replace("'#/schemas/CouponCreate'", "'#/schemas/CouponCreated'", 1))
    code, text = run_cli("spec", "bundle", "--spec", str(spec_copy / "openapi.yaml"), str(tmp_path / "b.yaml"))
    assert code == 1
    assert "'#/schemas/CouponCreated'" in text and "coupons.yaml has nothing at #/schemas/CouponCreated" in text


SPLIT = {
    "openapi.yaml": """
openapi: 3.0.3
info: {title: split, version: '1'}
paths:
  /items/{sku}:
    $ref: 'paths/items.yaml#/item'
""",
    "paths/items.yaml": """
item:
  parameters:
    - $ref: '../common.yaml#/Sku'
  get:
    responses:
      '200':
        description: ok
        content:
          application/json:
            schema: {$ref: '../schemas/item.yaml'}
      '404': {$ref: '../common.yaml#/NotFound'}
""",
    "schemas/item.yaml": """
type: object
properties:
  sku: {$ref: '../common.yaml#/Error/properties/code'}
  parameters:
    type: array
    items: {$ref: '#/definitions/Pair'}
  parent: {$ref: '#'}
  error: {$ref: '../common.yaml#/Error'}
definitions:
  Pair: {type: object, properties: {key: {type: string}, value: {type: string}}}
""",
    "common.yaml": """
Sku: {name: sku, in: path, required: true, schema: {type: string}}
NotFound:
  description: not found
  content: {application/json: {schema: {$ref: '#/Error'}}}
Error: {type: object, properties: {code: {type: string}, pair: {$ref: 'schemas/pair.yaml#/Pair'}}}
""",
    "schemas/pair.yaml": """
Pair: {type: string}
""",
}


def test_bundle_of_a_split_spec_names_each_kind_of_component(tmp_path: Path) -> None:
    """Whole-file and deep references, a recursive schema, one name in two files, and a
    property called `parameters` (a schema, not a parameter)."""
    from xsolla_contract.toolkit.bundle import bundle

    for name, text in SPLIT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    document, stats = bundle(tmp_path / "openapi.yaml")
    components = document["components"]
    assert set(components["parameters"]) == {"Sku"} and set(components["responses"]) == {"NotFound"}
    assert set(components["schemas"]) == {"Item", "Error", "ItemPair", "PairPair"}
    item = components["schemas"]["Item"]
    assert item["properties"]["parent"] == {"$ref": "#/components/schemas/Item"}  # recursion by name
    assert item["properties"]["sku"] == {"$ref": "#/components/schemas/Error/properties/code"}
    assert item["properties"]["parameters"]["items"] == {"$ref": "#/components/schemas/ItemPair"}
    assert components["schemas"]["Error"]["properties"]["pair"] == {"$ref": "#/components/schemas/PairPair"}
    operation = document["paths"]["/items/{sku}"]
    assert operation["parameters"] == [{"$ref": "#/components/parameters/Sku"}]
    assert operation["get"]["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}
    assert stats.operations == 1
    assert spec_module.validation_problems(document) == []


def test_spec_info_counts_per_tag_and_scheme() -> None:
    code, out = run_cli("spec", "info")
    assert code == 0
    assert "LiveOps (113)" in out and "Catalog (114)" in out
    assert "basicAuth" in out and "XsollaLoginUserJWT" in out and "AuthForCart" in out


# ------------------------------------------------- third-party spec with dangling refs


THIRD_PARTY = {
    "openapi": "3.0.0",
    "info": {"title": "vendor bundle", "version": "1"},
    "paths": {
        "/v2/project/{project_id}/items": {
            "get": {
                "operationId": "getItems",
                "parameters": [{"$ref": "#/components/parameters/project_id"}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "./components/schemas/item-list.yaml"}}},
                    },
                    "404": {"$ref": "../../responses/not-found.yaml"},
                },
            }
        }
    },
    "components": {
        "parameters": {
            "project_id": {"name": "project_id", "in": "path", "required": True, "schema": {"type": "integer"}}
        }
    },
}


def test_third_party_spec_fails_naming_each_dangling_ref(tmp_path: Path) -> None:
    source = tmp_path / "vendor.json"
    source.write_text(json.dumps(THIRD_PARTY))
    with pytest.raises(DanglingReferencesError) as caught:
        Spec.from_path(source, cache=False)
    message = str(caught.value)
    assert "'./components/schemas/item-list.yaml'" in message and "'../../responses/not-found.yaml'" in message
    assert "paths -> /v2/project/{project_id}/items -> get -> responses -> 200" in message
    assert len(caught.value.problems) == 2


def test_third_party_spec_loads_leniently_and_says_so(tmp_path: Path) -> None:
    source = tmp_path / "vendor.json"
    source.write_text(json.dumps(THIRD_PARTY))
    with pytest.warns(UserWarning, match="unresolved reference"):
        loaded = Spec.from_path(source, lenient=True, cache=False)
    assert len(loaded.warnings) == 2
    op = loaded.operation("getItems")
    assert op.response_schema(200) == {
        "description": "Unresolved reference ./components/schemas/item-list.yaml; accepted as anything."
    }
    assert op.responses["404"]["description"].startswith("Unresolved reference")
    code, out = run_cli("spec", "check", "--lenient", str(source))
    assert "warning: unresolved reference accepted as anything" in out
