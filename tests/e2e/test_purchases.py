"""Order events reach customer-store: purchase aggregates in the 360 view and
purchase entries in the timeline, within a second of the order write."""

import time
import unittest
import urllib.parse

import stack
from stack import rest

VISIBLE_WITHIN_S = 1.0


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


class Purchases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.sku = stack.unique("PS")
        r = rest("POST", "/v1/products", cls.key,
                 {"sku": cls.sku, "name": "Record", "categoryPath": ["Music", "Jazz"],
                  "price": {"amountMinor": "1500", "currencyCode": "CHF"}, "active": True})
        assert r.status == 200, r

    def new_customer(self):
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "Buyer", "emails": [stack.unique("buyer") + "@example.com"]})
        self.assertEqual(r.status, 200, r)
        return r.json()["id"]

    def place(self, customer, quantity, currency="CHF", key=None):
        r = rest("POST", "/v1/orders?requestId=" + q(stack.unique("po")), key or self.key,
                 {"customerId": customer, "currencyCode": currency,
                  "lines": [{"sku": self.sku, "quantity": str(quantity),
                             "unitPriceMinor": "1500"}]})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def view(self, customer, key=None):
        r = rest("GET", "/v1/customers/%s/view" % customer, key or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_for(self, customer, predicate, key=None):
        deadline = time.monotonic() + VISIBLE_WITHIN_S
        while True:
            v = self.view(customer, key)
            if predicate(v):
                return v
            if time.monotonic() > deadline:
                self.fail("not visible within %.1f s: %r" % (VISIBLE_WITHIN_S, v.get("purchases")))
            time.sleep(0.02)

    def test_aggregates_appear_within_a_second(self):
        customer = self.new_customer()
        self.assertNotIn("purchases", self.view(customer))
        self.place(customer, 2)
        self.place(customer, 1)
        v = self.wait_for(customer, lambda v: v.get("purchases", [{}])[0].get("orderCount") == "2")
        p = v["purchases"][0]
        self.assertEqual(p["currencyCode"], "CHF")
        self.assertEqual(p["totalSpendMinor"], "4500")
        self.assertEqual(p["averageOrderMinor"], "2250")
        self.assertEqual(p["purchaseDays"], "1")
        self.assertIn("firstPurchaseTime", p)
        kinds = [i["kind"] for i in v.get("recentInteractions", [])]
        self.assertEqual(kinds.count("INTERACTION_KIND_PURCHASE"), 2)
        sections = {s["name"]: s for s in v["sections"]}
        self.assertEqual(sections["purchases"]["owner"], "transaction")

    def test_cancelled_orders_leave_the_totals(self):
        customer = self.new_customer()
        o = self.place(customer, 3)
        self.wait_for(customer, lambda v: v.get("purchases", [{}])[0].get("orderCount") == "1")
        r = rest("POST", "/v1/orders/%s:transition" % o["id"], self.key,
                 {"toStatus": "ORDER_STATUS_CANCELLED", "requestId": stack.unique("c")})
        self.assertEqual(r.status, 200, r)
        v = self.wait_for(customer,
                          lambda v: v.get("purchases", [{}])[0].get("cancelledOrders") == "1")
        p = v["purchases"][0]
        self.assertNotIn("orderCount", p)  # 0: omitted in JSON
        self.assertNotIn("totalSpendMinor", p)
        self.assertNotIn("firstPurchaseTime", p)
        # The timeline keeps the purchase entry: it happened.
        kinds = [i["kind"] for i in v.get("recentInteractions", [])]
        self.assertEqual(kinds.count("INTERACTION_KIND_PURCHASE"), 1)

    def test_currencies_are_kept_apart(self):
        customer = self.new_customer()
        self.place(customer, 1, "CHF")
        self.place(customer, 2, "EUR")
        v = self.wait_for(customer, lambda v: len(v.get("purchases", [])) == 2)
        by = {p["currencyCode"]: p for p in v["purchases"]}
        self.assertEqual(by["CHF"]["totalSpendMinor"], "1500")
        self.assertEqual(by["EUR"]["totalSpendMinor"], "3000")

    def test_other_tenants_never_see_the_purchases(self):
        customer = self.new_customer()
        self.place(customer, 1)
        self.wait_for(customer, lambda v: "purchases" in v)
        _, other_key = stack.create_tenant()
        r = rest("GET", "/v1/customers/%s/view" % customer, other_key)
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main()
