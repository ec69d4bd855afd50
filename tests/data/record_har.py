"""Record tests/data/session.har: a client session against the seeded mock, through the validating proxy.

Run from the repository root: `.venv/bin/python tests/data/record_har.py`. The recorded file is
a fixture of the validation tests (they derive hand-broken variants from it).
"""

from __future__ import annotations

import base64
from pathlib import Path

import requests

from xsolla_contract.mocks import MockConfig, create_app, mint_token
from xsolla_contract.toolkit.proxy import ValidatingProxy
from xsolla_contract.toolkit.spec import Spec
from xsolla_contract.toolkit.testing import MockServer
from xsolla_contract.toolkit.validation import Validator

OUT = Path(__file__).with_name("session.har")


def main() -> None:
    spec = Spec.from_path()
    with MockServer(create_app(spec, config=MockConfig(seed=1))) as mock:
        proxy = ValidatingProxy(Validator(spec), mock.url + "/api", har_path=str(OUT))
        with MockServer(proxy) as front:
            api = f"{front.url}/api/v2/project/44056"
            admin = {"Authorization": "Basic " + base64.b64encode(b"44056:key").decode()}
            user = {
                "Authorization": "Bearer "
                + mint_token("har-player", project=44056, now=1_800_000_000, ttl=10 * 365 * 24 * 3600)
            }
            s = requests.Session()
            s.post(
                f"{api}/admin/items/virtual_items",
                headers=admin,
                timeout=10,
                json={
                    "sku": "har_sword",
                    "name": {"en": "HAR sword"},
                    "groups": ["weapons"],
                    "prices": [{"amount": 3.5, "currency": "USD", "is_default": True}],
                },
            )
            s.get(f"{api}/admin/items/virtual_items/sku/har_sword", headers=admin, timeout=10)
            s.get(f"{api}/items/virtual_items", params={"limit": 5, "locale": "de"}, headers=user, timeout=10)
            s.get(f"{api}/items/virtual_items/sku/har_sword", headers=user, timeout=10)
            s.get(f"{api}/items/virtual_items/sku/no_such_item", headers=user, timeout=10)
            s.get(f"{api}/items/groups", timeout=10)
            s.put(f"{api}/cart/fill", headers=user, timeout=10, json={"items": [{"sku": "har_sword", "quantity": 2}]})
            s.post(f"{api}/promocode/redeem", headers=user, timeout=10, json={"coupon_code": "SPRING10"})
            order = s.post(f"{api}/payment/cart", headers=user, timeout=10, json={"sandbox": True}).json()
            s.get(f"{api}/order/{order['order_id']}", headers=user, timeout=10)
            s.post(f"{api}/coupon/redeem", headers=user, timeout=10, json={"coupon_code": "WELCOME2026"})
            s.get(f"{front.url}/api/v3/project/44056/admin/coupon/welcome", headers=admin, timeout=10)
            report = s.get(f"{front.url}/__proxy__/report", timeout=10).json()
            assert report["violations"] == 0, report
        proxy.flush()
    print(f"wrote {OUT} ({report['exchanges']} exchanges)")


if __name__ == "__main__":
    main()
