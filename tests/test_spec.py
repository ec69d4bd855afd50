"""The bundled spec: loading, caching, lint, bundling, and fidelity to the reference operation lists."""

from __future__ import annotations

import csv
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


def reference_rows(reference: Path) -> list[dict[str, str]]:
    rows = []
    for api, name in (("LiveOps", "liveops-operations.tsv"), ("Catalog", "catalog-operations.tsv")):
        with open(reference / name, newline="") as fh:
            rows += [{**r, "api": api} for r in csv.DictReader(fh, delimiter="\t")]
    return rows


def test_bundled_spec_has_every_reference_operation(spec: Spec, reference: Path) -> None:
    rows = reference_rows(reference)
    assert len(rows) == 227
    assert set(spec.operations) == {r["operation"] for r in rows}
    for row in rows:
        op = spec.operation(row["operation"])
        assert (op.method, op.path) == (row["method"], row["path"]), row["operation"]
        assert op.tags == (row["group"],), row["operation"]
        wanted = set() if row["auth"] == "none" else {row["auth"]}
        assert wanted <= op.security_schemes, row["operation"]
        extra = op.security_schemes - wanted
        if row["auth"] == "AuthForCart":
            assert extra == {"AuthForCartGuestId", "AuthForCartGuestUser"}, row["operation"]
        else:
            assert not extra, row["operation"]
        if row["auth"] == "none":
            assert op.security == (), row["operation"]


def test_operation_counts_per_api(spec: Spec) -> None:
    by_tag = spec.by_tag()
    groups = spec.tag_groups
    assert sum(by_tag[t] for t in groups["LiveOps"]) == 113
    assert sum(by_tag[t] for t in groups["Catalog"]) == 114


def test_documented_errors_are_in_the_spec(spec: Spec, reference: Path) -> None:
    missing = []
    with open(reference / "errors.tsv", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            op = spec.operation(row["operation"])
            response = op.responses.get(row["status"])
            if response is None:
                missing.append(f"{row['operation']} {row['status']}")
                continue
            media = (response.get("content") or {}).get("application/json") or {}
            examples = [media.get("example")] + [e.get("value") for e in (media.get("examples") or {}).values()]
            codes = {e.get("errorCode") for e in examples if isinstance(e, dict)}
            if int(row["errorCode"]) not in codes:
                missing.append(f"{row['operation']} {row['status']} errorCode {row['errorCode']}")
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


def test_bundle_is_self_contained(tmp_path: Path, spec: Spec) -> None:
    out = tmp_path / "bundle" / "xsolla.json"
    code, text = run_cli("spec", "bundle", str(out))
    assert code == 0, text
    raw = out.read_text()
    assert '"$ref"' not in raw
    alone = tmp_path / "alone.json"
    shutil.move(out, alone)  # nothing beside it
    loaded = Spec.from_path(alone, cache=False)
    assert set(loaded.operations) == set(spec.operations)
    code, text = run_cli("spec", "bundle", str(tmp_path / "xsolla.yaml"))
    assert code == 0 and yaml.safe_load((tmp_path / "xsolla.yaml").read_text())["openapi"] == "3.0.3"


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
