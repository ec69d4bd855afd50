"""Serving the mock and the proxy from the command line: waitress, set up for test suites.

- Up to `connection_limit` open connections (default 1000). When a client's pool of idle
  keep-alive connections fills the limit, the connections idle the longest are closed to
  make room, so the next client is answered at once instead of waiting for an idle timeout.
- Connections idle for `idle_timeout` seconds (default 60) are closed.
- Errors of the HTTP layer (a malformed request line or header, a NUL in a header, bad
  framing, a body or headers over the limits) are answered in the API's error format.
- poll() instead of select(), and the process' limit of open files raised to fit the
  connection limit (select() cannot watch more than 1024 descriptors).
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher

from .errors import api_error

DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_IDLE_TIMEOUT = 60
DEFAULT_THREADS = 8
_SPARE_DESCRIPTORS = 64  # files, the store, the trigger pipe, the listening sockets


class _ApiErrorTask(ErrorTask):
    """waitress' answer to a request it could not parse, in the API's error format."""

    def execute(self) -> None:
        error = self.request.error
        status, reason = error.code, error.reason
        detail = str(error.body).strip().rstrip(".")
        if status == 413:
            limit = self.channel.adj.max_request_body_size
            detail = f"The request body is larger than {limit} bytes (the server's --max-body)"
        codings = [c.strip().lower() for c in self.request.headers.get("TRANSFER_ENCODING", "").split(",")]
        if status == 501 and codings[-1] != "chunked":  # RFC 9112 6.3: a server MUST answer 400 to that
            status, reason, detail = 400, "Bad Request", "Transfer-Encoding must end with chunked"
        code = 1102 if status in (400, 413, 431) else 0
        body = json.dumps(api_error(status, code, f"[0401-{code:04d}]: {reason}. {detail}")).encode()
        self.status = f"{status} {reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _ApiErrorTask

    @property
    def idle(self) -> bool:
        return not (self.requests or self.request or self.total_outbufs_len or self.will_close)


class _Server(TcpWSGIServer):
    channel_class = _Channel

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        if len(self._map) >= self.adj.connection_limit:  # accept again once the reclaimed ones are closed
            self._reclaim_idle(len(self._map) - self.adj.connection_limit + 1)
            return False
        return True

    def _reclaim_idle(self, wanted: int) -> None:
        """Close the connections idle the longest (they close in this turn of the loop)."""
        idle = sorted((c for c in self.active_channels.values() if c.idle), key=lambda c: c.last_activity)
        for channel in idle[: max(wanted, 8)]:
            channel.will_close = True


def _raise_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def create_server(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    threads: int = DEFAULT_THREADS,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT,
    max_body_bytes: int | None = None,
    ident: str = "xsolla-contract",
) -> Any:
    """A waitress server for `app` (`.run()` serves until stopped, `.close()`; `.effective_port`
    of a single address). Several addresses (a name that resolves to IPv4 and IPv6) are all served."""
    if connection_limit < 1 or idle_timeout < 1 or threads < 1:
        raise ValueError("the connection limit, the idle timeout and the threads must be at least 1")
    _raise_open_files_limit(connection_limit + _SPARE_DESCRIPTORS)
    settings: dict[str, Any] = {
        "host": host,
        "port": port,
        "threads": threads,
        "connection_limit": connection_limit + 2,  # the map also holds the listening socket and the trigger
        "channel_timeout": idle_timeout,
        "cleanup_interval": max(1, min(30, idle_timeout // 2)),
        "asyncore_use_poll": True,
        "ident": ident,
        "backlog": max(1024, connection_limit),
    }
    if max_body_bytes is not None:
        settings["max_request_body_size"] = max_body_bytes
    adj = Adjustments(**settings)
    socket_map: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [_Server(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo) for sockinfo in adj.listen]
    if len(servers) == 1:
        return servers[0]
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[0].log_info)
