"""Test helpers shared by our own tests and the pytest plugin.

`MockServer` runs a WSGI app (the mock) on 127.0.0.1 on a free port in a thread
and stops with the context. `ServerProcess` runs a server command (`xsolla-contract
mock --port 0`, `make mock`) as a process until it says where it serves, and stops it
politely. `ContractClient` talks to the mock (in process via Flask's test client, or
over HTTP) and checks every response against the spec.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .validation import ContractViolation, HttpRequest, HttpResponse, Validator

RESPONSE_KINDS = ("status", "response-content-type", "response-body")


class MockServer:
    """A live server for a WSGI app on 127.0.0.1:<free port>, in a daemon thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        from werkzeug.serving import make_server

        self.errors: list[BaseException] = []
        if hasattr(app, "config"):  # a Flask app: let errors reach the guard instead of becoming 500s
            app.config["PROPAGATE_EXCEPTIONS"] = True
        self._server = make_server(host, port, self._guard(app), threaded=True)
        self.host, self.port = host, self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="xsolla-mock", daemon=True)

    def _guard(self, app: Any) -> Any:
        def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
            try:
                return app(environ, start_response)
            except BaseException as exc:  # resurfaced in the test by `raise_errors`
                self.errors.append(exc)
                raise

        return wrapped

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MockServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def raise_errors(self) -> None:
        if self.errors:
            error, self.errors = self.errors[0], []
            raise error

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ServerProcess:
    """A server command run as a process, from the line that says where it serves until stopped.

        with ServerProcess([".venv/bin/xsolla-contract", "mock", "--port", "0"]) as mock:
            requests.get(mock.url + "/v2/project/44056/items/virtual_items")
        assert mock.returncode == 0     # SIGTERM is a clean stop

    `url` is the first http(s) URL the server prints; the lines it printed until then are
    in `lines`. `ready(line)` can ask for more: the context starts once it is true (the
    mock's banner ends with its `control:` line). With `group=True` the command runs in its
    own process group, and the stop reaches every process of it (`make mock` and the mock
    it starts).
    """

    URL = re.compile(r"https?://[^\s/]+(?:/\S*)?")

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        group: bool = False,
        ready: Callable[[str], bool] | None = None,
        timeout: float = 120,
    ):
        self.args, self.env, self.cwd, self.group, self.timeout = list(args), env, cwd, group, timeout
        self.ready = ready
        self.lines: list[str] = []
        self.url: str | None = None
        self.returncode: int | None = None
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(
            self.args,
            env=None if self.env is None else dict(self.env),
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=self.group,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read(stream: Any) -> None:
            for line in stream:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=read, args=(self._process.stdout,), daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=self.timeout)
                if line is None:
                    raise AssertionError(f"{self.args} ended before serving:\n" + "\n".join(self.lines))
                self.lines.append(line)
                found = self.URL.search(line)
                if found and self.url is None:
                    self.url = found.group(0)
                if self.ready(line) if self.ready is not None else self.url is not None:
                    break
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (to the group with `group=True`); SIGKILL if it is still there after `timeout` seconds."""
        process = self._process
        if process is None:
            raise RuntimeError("not started")
        if process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self.returncode = process.returncode
        return process.returncode

    def _signal(self, signum: int) -> None:
        assert self._process is not None
        if self.group:
            os.killpg(self._process.pid, signum)
        else:
            self._process.send_signal(signum)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server another process is about to start."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    """Wait until `url` answers 2xx (a server starting in another process); TimeoutError after `timeout` s."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"nothing answers at {url} after {timeout} s")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    data: Any = None

    def json(self) -> Any:
        return self.data


@dataclass
class ContractClient:
    """Calls the mock and asserts that every answer conforms to the spec."""

    validator: Validator
    app: Any = None  # Flask app: in process
    base_url: str | None = None  # or a live server
    project_id: int = 44056
    api_key: str = "test-key"
    jwt_secret: str | None = None
    check: bool = True
    control_token: str | None = None  # sent as `Authorization: Bearer` to /__mock__ (--control-token)
    history: list[tuple[HttpRequest, HttpResponse]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.app is None and self.base_url is None:
            raise ValueError("give an app (in process) or a base_url (live)")
        self._client = self.app.test_client() if self.app is not None else None
        if self._client is None:
            import requests

            self._session = requests.Session()

    # credentials ---------------------------------------------------------
    def admin(self, project_id: int | None = None, key: str | None = None) -> dict[str, str]:
        raw = f"{project_id or self.project_id}:{key or self.api_key}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def token(self, user: str = "user-1", **attributes: Any) -> str:
        from ..mocks.auth import mint_token

        return mint_token(user, project=self.project_id, attributes=attributes or None, secret=self.jwt_secret)

    def user(self, user: str = "user-1", **attributes: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, **attributes)}"}

    @staticmethod
    def guest(email: str = "guest@example.com", request_id: str = "req-1") -> dict[str, str]:
        return {"x-unauthorized-id": request_id, "x-user": base64.b64encode(email.encode()).decode()}

    # calls -----------------------------------------------------------------
    def path(self, template: str, **params: Any) -> str:
        params.setdefault("project_id", self.project_id)
        for name, value in params.items():
            template = template.replace("{" + name + "}", str(value))
        return template

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: bytes | str | None = None,
        content_type: str | None = None,
    ) -> Answer:
        hdrs = dict(headers or {})
        if self.control_token and path.startswith("/__mock__") and not any(k.lower() == "authorization" for k in hdrs):
            hdrs["Authorization"] = f"Bearer {self.control_token}"
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
            if content_type:
                hdrs["Content-Type"] = content_type
        query = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        flat = [(k, str(item)) for k, v in query for item in (v if isinstance(v, list) else [v])]
        if self._client is not None:
            resp = self._client.open(path, method=method, headers=hdrs, data=body, query_string=flat)
            answer = Answer(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.get_data())
        else:
            resp = self._session.request(method, self.base_url + path, headers=hdrs, data=body, params=flat, timeout=30)
            answer = Answer(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content)
        if answer.body and answer.headers.get("content-type", "").startswith("application/json"):
            answer.data = json.loads(answer.body)
        request = HttpRequest(method.upper(), path, flat, {k.lower(): v for k, v in hdrs.items()}, body)
        response = HttpResponse(answer.status, answer.headers, answer.body)
        self.history.append((request, response))
        from ..mocks.faults import FAULT_HEADER

        if self.check and not path.startswith("/__mock__") and FAULT_HEADER not in answer.headers:
            result = self.validator.validate_response(request, response)
            bad = [v for v in result.violations if v.kind in RESPONSE_KINDS]
            if bad:
                raise ContractViolation(f"{method} {path} -> {answer.status}: response breaks the contract", bad)
        return answer

    def get(self, path: str, **kw: Any) -> Answer:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self.call("POST", path, json_body=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self.call("PUT", path, json_body=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self.call("PATCH", path, json_body=json, **kw)

    def delete(self, path: str, json: Any = None, **kw: Any) -> Answer:
        return self.call("DELETE", path, json_body=json, **kw)

    # control API -------------------------------------------------------------
    def control(self, method: str, path: str, json: Any = None) -> Any:
        answer = self.call(method, "/__mock__/" + path.lstrip("/"), json_body=json)
        if answer.status >= 400:
            raise AssertionError(f"control call {method} {path} failed: {answer.status} {answer.body[:300]!r}")
        return answer.data

    def reset(self) -> None:
        self.control("POST", "reset")
        self.history.clear()

    def advance(self, seconds: float | str) -> Any:
        return self.control("POST", "clock", {"advance": seconds})

    def set_order_status(self, order_id: int, status: str) -> Any:
        return self.control("POST", f"orders/{order_id}", {"status": status})

    def grant(self, user: str, sku: str, quantity: float = 1) -> Any:
        return self.control("POST", f"users/{user}/grant", {"sku": sku, "quantity": quantity})
