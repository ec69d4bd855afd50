"""A game client that survives a busy, failing, slow or unreachable store.

The rules it follows are the usual ones for an HTTP API:

- 429 and 502/503/504 mean the request was not processed: wait and try again, with a
  delay that doubles each time (or the server's `Retry-After`), a few times at most.
- A dropped connection or a timeout on a read (GET) is retried too: reading twice changes nothing.
- A dropped connection or a timeout on a write (redeeming a coupon) is not: the store may
  have processed it before the connection went, and a second redemption is a different
  request. The client reports that the outcome is unknown, and the game asks the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

RETRY_STATUSES = (429, 502, 503, 504)


class OutcomeUnknown(Exception):
    """A write whose answer was lost: it may or may not have been processed."""


@dataclass
class RetryingClient:
    base_url: str  # e.g. https://store.xsolla.com/api or the mock's URL
    project_id: int
    token: str  # the player's JWT
    attempts: int = 4
    backoff: float = 0.05  # seconds before the first retry; doubled for each next one
    timeout: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def _call(self, method: str, path: str, *, repeatable: bool, **kwargs: Any) -> Any:
        url = f"{self.base_url}/v2/project/{self.project_id}{path}"
        headers = {"Authorization": f"Bearer {self.token}"}
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            delay = self.backoff * 2 ** (attempt - 1)
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not repeatable:
                    raise OutcomeUnknown(f"{method} {path}: {exc}") from exc
                if last:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    response.raise_for_status()
                    return response.json() if response.content else None
                delay = float(response.headers.get("Retry-After") or delay)
            self.sleep(delay)
        raise AssertionError("unreachable")

    def catalog(self) -> list[dict[str, Any]]:
        """Every virtual item on sale, following the pages."""
        items, offset = [], 0
        while True:
            page = self._call("GET", "/items/virtual_items", repeatable=True, params={"limit": 50, "offset": offset})
            items += page["items"]
            if not page.get("has_more"):
                return items
            offset += len(page["items"])

    def redeem_coupon(self, code: str) -> list[str]:
        """Redeem a coupon; answers the SKUs received (OutcomeUnknown when the answer was lost)."""
        answer = self._call("POST", "/coupon/redeem", repeatable=False, json={"coupon_code": code})
        return [item["sku"] for item in answer["items"]]
