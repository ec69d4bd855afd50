"""A tiny game-store client: the kind of code a studio tests against the mock.

It talks to the Catalog API as a signed-in player would: list the catalog, fill
the cart, check out, and follow the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class StoreClient:
    base_url: str  # e.g. https://store.xsolla.com/api or the mock's URL
    project_id: int
    token: str  # the player's JWT
    timeout: float = 10.0

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/v2/project/{self.project_id}{path}"
        response = requests.request(
            method, url, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def catalog(self, locale: str = "en") -> list[dict[str, Any]]:
        """Every virtual item on sale, following the pages."""
        items, offset = [], 0
        while True:
            page = self._call("GET", "/items/virtual_items", params={"limit": 50, "offset": offset, "locale": locale})
            items += page["items"]
            if not page.get("has_more"):
                return items
            offset += len(page["items"])

    def buy(self, skus: dict[str, int]) -> dict[str, Any]:
        """Put the SKUs in the cart and create the order; answers {order_id, token}."""
        self._call("PUT", "/cart/fill", json={"items": [{"sku": s, "quantity": q} for s, q in skus.items()]})
        return self._call("POST", "/payment/cart", json={"sandbox": True})

    def order_status(self, order_id: int) -> str:
        return self._call("GET", f"/order/{order_id}")["status"]

    def redeem_coupon(self, code: str) -> list[str]:
        """Redeem a coupon; answers the SKUs received."""
        return [item["sku"] for item in self._call("POST", "/coupon/redeem", json={"coupon_code": code})["items"]]
