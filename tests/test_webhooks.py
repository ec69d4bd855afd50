"""The webhook toolkit: signing, the webhooks spec and its validator, delivery policy, the
`webhooks check` battery (which must name the case a flawed handler fails) and `webhooks send`."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
import yaml
from click.testing import CliRunner
from flask import Flask, jsonify, request

from xsolla_contract.mocks import MockConfig, create_app
from xsolla_contract.toolkit.cli import main
from xsolla_contract.toolkit.spec import BUNDLED_WEBHOOKS
from xsolla_contract.toolkit.testing import ContractClient, MockServer
from xsolla_contract.toolkit.validation import ContractViolation, HttpRequest, Validator
from xsolla_contract.toolkit.webhooks import (
    DeliveryPolicy,
    WebhookReceiver,
    WebhookValidator,
    example_body,
    send_to,
    sign,
    signature,
    signed_request,
    verify,
)

SECRET = "battery-secret"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "game_server"


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# ------------------------------------------------------------------ signing


def test_signature_is_sha1_of_the_raw_body_and_the_secret() -> None:
    body = b'{"notification_type":"user_validation"}'
    assert signature(body, "key") == hashlib.sha1(body + b"key").hexdigest()
    assert sign(body, "key") == f"Signature {signature(body, 'key')}"
    assert verify(body, sign(body, "key"), "key")
    assert not verify(body, sign(body, "other"), "key")
    assert not verify(body + b" ", sign(body, "key"), "key")  # the raw bytes, not the parsed JSON
    assert not verify(body, None, "key") and not verify(body, "Bearer abc", "key")
    assert not verify(body, sign(body, "key").upper(), "key")  # 40 lowercase hex digits


# ------------------------------------------------------------------ the spec and its validator


def test_every_example_of_the_spec_validates_signed() -> None:
    validator = WebhookValidator.bundled()
    assert list(validator.spec.webhooks) == [
        "user_validation",
        "payment",
        "order_paid",
        "order_canceled",
        "refund",
        "partial_refund",
    ]
    for event in validator.spec.webhooks:
        body, headers = signed_request(example_body(event), SECRET)
        request = HttpRequest("POST", "/hook", [], {k.lower(): v for k, v in headers.items()}, body)
        assert validator.validate(request, {"status": 204}, secret=SECRET).violations == [], event


def request_of(payload: object, secret: str | None = SECRET, **headers: str) -> HttpRequest:
    body, signed = signed_request(payload, secret)
    return HttpRequest("POST", "/hook", [], {**{k.lower(): v for k, v in signed.items()}, **headers}, body)


def test_the_validator_names_what_breaks_the_spec() -> None:
    validator = WebhookValidator.bundled()
    broken = example_body("order_paid")
    del broken["order"]["id"]
    broken["items"][0]["type"] = "weapon"
    found = {v.where: v.message for v in validator.validate(request_of(broken)).violations}
    assert "request body /items/0/type" in found and "'weapon' is not one of" in found["request body /items/0/type"]
    assert any("'id' is a required property" in m for m in found.values())

    wrong = validator.validate(request_of(example_body("order_paid"), "other"), secret=SECRET).violations
    assert [(v.kind, v.where) for v in wrong] == [("security", "request header Authorization")]
    unsigned = validator.validate(request_of(example_body("order_paid"), None)).violations
    assert [v.kind for v in unsigned] == ["security"]
    unknown = validator.validate(request_of({"notification_type": "order_shipped"})).violations
    assert unknown[0].kind == "no-operation" and "order_shipped" in unknown[0].message


@pytest.mark.parametrize(
    ("event", "status", "body", "problem"),
    [
        pytest.param("order_paid", 400, {"error": {"code": "NOPE"}}, "'NOPE' is not one of", id="unknown-error-code"),
        pytest.param("order_paid", 400, None, "must have a body", id="refusal-without-body"),
        pytest.param("order_paid", 204, {"ok": True}, "without a body", id="success-with-body"),
        pytest.param("order_paid", 302, None, "not documented", id="redirect"),
        pytest.param("user_validation", 409, None, "not documented", id="user-validation-conflict"),
    ],
)
def test_the_validator_checks_the_games_answer(event: str, status: int, body: object, problem: str) -> None:
    answer = {"status": status, "headers": {"content-type": "application/json"} if body else {}}
    if body is not None:
        answer["body"] = json.dumps(body).encode()
    result = WebhookValidator.bundled().validate(request_of(example_body(event)), answer, secret=SECRET)
    assert [v.kind for v in result.violations if v.kind.startswith("response") or v.kind == "status"]
    assert any(problem in v.message for v in result.violations), result.violations


def test_answers_that_are_fine() -> None:
    validator = WebhookValidator.bundled()
    refusal = {"status": 400, "headers": {"content-type": "application/json"}}
    refusal["body"] = b'{"error": {"code": "INVALID_USER", "message": "Invalid user"}}'
    for answer in ({"status": 204}, {"status": 200}, refusal, {"status": 503, "body": b"<html>busy</html>"}):
        assert validator.validate(request_of(example_body("order_paid")), answer, secret=SECRET).ok, answer


def test_delivery_policy_comes_from_the_spec() -> None:
    order_paid = DeliveryPolicy.for_event("order_paid")
    assert [order_paid.outcome(s) for s in (204, 200, 201, 400, 409, 422, 500, 302, 202, None)] == [
        "success",
        "success",
        "success",
        "final",
        "final",
        "final",
        "retry",
        "retry",
        "retry",
        "retry",
    ]
    assert order_paid.intervals == (300.0,) * 2 + (900.0,) * 7 + (3600.0,) * 10 and order_paid.timeout == 3
    assert order_paid.next_delay(19) == 3600.0 and order_paid.next_delay(20) is None
    payment = DeliveryPolicy.for_event("payment")
    assert [payment.outcome(s) for s in (204, 404, 500, None)] == ["success", "final", "retry", "retry"]
    assert len(payment.intervals) == 12
    assert [DeliveryPolicy.for_event("user_validation").outcome(s) for s in (204, 400, None)] == [
        "success",
        "final",
        "final",
    ]


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "spec"
    shutil.copytree(BUNDLED_WEBHOOKS.parent, copy)
    return copy / "webhooks.yaml"


def test_spec_check_names_an_invalid_webhook_example(spec_copy: Path) -> None:
    code, out = run_cli("spec", "check")
    assert code == 0 and "6 webhooks (user_validation, payment, order_paid" in out and "lint clean" in out
    doc = yaml.safe_load(spec_copy.read_text())
    example = doc["webhooks"]["user_validation"]["post"]["requestBody"]["content"]["application/json"]["example"]
    example["settings"]["project_id"] = "44056"
    spec_copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    code, out = run_cli("spec", "check", str(spec_copy))
    assert code == 1 and "webhook-user-validation" in out and "settings/project_id" in out


# ------------------------------------------------------------------ handlers for the battery


def handler(flaw: str | None = None) -> Flask:
    """A small webhook handler, correct unless given one flaw."""
    app = Flask(f"handler-{flaw}")
    ledger: dict[int, int] = {}

    def refuse(code: str):
        return jsonify({"error": {"code": code, "message": code.replace("_", " ").capitalize()}}), 400

    @app.post("/hook")
    def hook():
        body = request.get_data()
        if flaw != "skips the signature check" and not verify(body, request.headers.get("Authorization"), SECRET):
            return refuse("INVALID_SIGNATURE")
        try:
            data = json.loads(body)
        except ValueError:
            return refuse("INVALID_PARAMETER")
        if data["notification_type"] == "user_validation":
            if flaw != "accepts test users" and data["user"]["id"].startswith("test_xsolla"):
                return refuse("INVALID_USER")
            return "", 204
        if data["notification_type"] == "order_paid":
            order_id = data["order"]["id"]
            if order_id in ledger and flaw != "processes duplicates twice":
                return "", 204  # processed before: the same answer, nothing granted again
            ledger[order_id] = ledger.get(order_id, 0) + 1  # grants the items ...
            if ledger[order_id] > 1:  # ... and its ledger's unique key refuses the second row
                raise RuntimeError(f"UNIQUE constraint failed: ledger.order_id ({order_id})")
        return "", 204

    return app


@pytest.fixture
def serve():
    servers = []

    def start(app, path: str = "/hook") -> str:
        server = MockServer(app).start()
        app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500, as in production
        servers.append(server)
        return f"{server.url}{path}"

    yield start
    for server in servers:
        server.stop()


def test_the_battery_passes_a_correct_handler_and_the_example(serve, tmp_path: Path) -> None:
    code, out = run_cli("webhooks", "check", serve(handler()), "--secret", SECRET, "--junit", str(tmp_path / "j.xml"))
    assert code == 0, out
    assert "8 passed, 0 failed" in out
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite.get("tests") == "8" and suite.get("failures") == "0"
    sys.path.insert(0, str(EXAMPLE))
    try:
        from game_server import create_app as game_app
    finally:
        sys.path.remove(str(EXAMPLE))
    code, out = run_cli(
        "webhooks", "check", serve(game_app(SECRET), "/xsolla/webhook"), "--secret", SECRET, "--user", "player-2"
    )
    assert code == 0, out


@pytest.mark.parametrize(
    ("flaw", "failed"),
    [
        pytest.param("skips the signature check", ["wrong signature refused", "missing signature refused"], id="sig"),
        pytest.param("processes duplicates twice", ["duplicate gets the same answer"], id="duplicate"),
        pytest.param("accepts test users", ["user_validation of a test user"], id="test-user"),
    ],
)
def test_the_battery_names_the_case_a_flawed_handler_fails(serve, tmp_path: Path, flaw: str, failed: list) -> None:
    junit = tmp_path / "junit.xml"
    code, out = run_cli("webhooks", "check", serve(handler(flaw)), "--secret", SECRET, "--junit", str(junit))
    assert code == 1
    assert [line.split(": ")[0].removeprefix("  FAIL ") for line in out.splitlines() if "FAIL" in line] == failed
    assert out.rstrip().endswith(f"{8 - len(failed)} passed, {len(failed)} failed: {', '.join(failed)}")
    cases = ET.parse(junit).getroot().iter("testcase")
    assert [c.get("name") for c in cases if c.find("failure") is not None] == failed


def test_the_battery_names_a_slow_or_absent_handler(serve) -> None:
    code, out = run_cli("webhooks", "check", "http://127.0.0.1:9/hook", "--secret", SECRET, "--timeout", "1")
    assert code == 1 and "0 passed, 8 failed" in out and "no answer" in out


# ------------------------------------------------------------------ webhooks send


def test_send_one_example_or_one_order_of_a_mock(spec) -> None:
    with WebhookReceiver(SECRET) as receiver:
        code, out = run_cli("webhooks", "send", "order_paid", "--url", receiver.url, "--secret", SECRET)
        assert code == 0 and "answer: 204" in out
        assert receiver.received[0].signature_ok and receiver.received[0].json() == example_body("order_paid")
        receiver.answer_with(500)
        code, out = run_cli("webhooks", "send", "payment", "--url", receiver.url, "--secret", SECRET)
        assert code == 1 and "answer: 500" in out
        app = create_app(spec, config=MockConfig(seed=1))
        api = ContractClient(Validator(spec), app=app)
        bought = api.post("/v2/project/44056/payment/item/frozen_hammer", json={}, headers=api.user("player-1"))
        order_id = bought.data["order_id"]
        api.set_order_status(order_id, "paid")
        with MockServer(app) as mock:
            args = ("--url", receiver.url, "--secret", SECRET, "--order", str(order_id), "--mock", mock.url)
            code, out = run_cli("webhooks", "send", "order_canceled", *args, "--mode", "separate")
            assert code == 0, out
            sent = receiver.received[-1].json()
            assert sent["order"]["id"] == order_id and sent["notification_type"] == "order_canceled"
            assert "billing" not in sent and sent["items"][0]["sku"] == "frozen_hammer"
            code, out = run_cli("webhooks", "send", "order_paid", *args[:4], "--order", "999", "--mock", mock.url)
            assert code == 2 and "Order not found" in out
        code, out = run_cli("webhooks", "send", "order_shipped", "--url", receiver.url, "--secret", SECRET)
        assert code == 2 and "order_paid" in out


# ------------------------------------------------------------------ in process, through test clients


def test_send_to_a_flask_test_client_checks_the_answer() -> None:
    client = handler().test_client()
    assert send_to(client, "/hook", example_body("order_paid"), SECRET).status_code == 204
    refused = send_to(client, "/hook", example_body("order_paid"), SECRET, authorization="Signature " + "0" * 40)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "INVALID_SIGNATURE"

    sloppy = Flask("sloppy")
    sloppy.post("/hook")(lambda: (jsonify({"error": "bad user"}), 400))
    with pytest.raises(ContractViolation, match="response 400 body"):
        send_to(sloppy.test_client(), "/hook", example_body("user_validation"), SECRET)


def test_send_to_an_httpx_client_like_fastapis() -> None:
    transport = httpx.WSGITransport(app=handler())
    with httpx.Client(transport=transport, base_url="http://game.test") as client:
        answer = send_to(client, "/hook", example_body("order_paid"), SECRET)
        assert answer.status_code == 204
        unsigned = send_to(client, "/hook", example_body("order_paid"), SECRET, authorization="")
        assert unsigned.status_code == 400


def test_send_to_a_django_style_client() -> None:
    class Response:
        def __init__(self, status_code: int, content: bytes):
            self.status_code, self.content, self.headers = status_code, content, {}

    class Client:  # django.test.Client's calling convention: data + content_type, headers as HTTP_* extras
        def post(self, path: str, data: bytes, content_type: str, **extra: str) -> Response:
            self.seen = (path, content_type, extra)
            ok = verify(data, extra.get("HTTP_AUTHORIZATION"), SECRET)
            return Response(204 if ok else 400, b"" if ok else b'{"error": {"code": "INVALID_SIGNATURE"}}')

    Client.__module__ = "django.test.client"
    client = Client()
    assert send_to(client, "/hook", example_body("order_paid"), SECRET).status_code == 204
    path, content_type, extra = client.seen
    assert (path, content_type) == ("/hook", "application/json") and extra["HTTP_AUTHORIZATION"].startswith(
        "Signature "
    )
