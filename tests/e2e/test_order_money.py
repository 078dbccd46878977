"""Payments, returns, refunds, order settings and customer resolution of
orders (transaction service) through the gateway: REST and gRPC."""

import importlib
import time
import unittest
import urllib.parse
import uuid

import grpc

import stack
from stack import rest

DEADLINE = 10          # seconds, on every gRPC call
VISIBLE_WITHIN_S = 5.0  # order events reaching customer-store's 360 view

txn = txn_grpc = None
channel = None


def setUpModule():
    global txn, txn_grpc, channel
    stack.start()
    txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
    txn_grpc = importlib.import_module("crm.transaction.v1.transaction_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


def rid():
    return stack.unique("rid")


def add_product(key, sku):
    r = rest("POST", "/v1/products", key,
             {"sku": sku, "name": "Product " + sku, "categoryPath": ["Music", "Jazz"],
              "price": {"amountMinor": "1000", "currencyCode": "CHF"}, "active": True})
    if r.status != 200:
        raise AssertionError("create product failed: %r" % r)


def new_customer(key, email=None):
    r = rest("POST", "/v1/customers", key,
             {"givenName": "Buyer", "emails": [email or stack.unique("buyer") + "@example.com"]})
    if r.status != 200:
        raise AssertionError("create customer failed: %r" % r)
    return r.json()["id"]


class MoneyApi(stack.E2ETestCase):
    """REST helpers shared by the test classes (each class has its own tenant)."""

    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.sku_a = stack.unique("MA")
        cls.sku_b = stack.unique("MB")
        add_product(cls.key, cls.sku_a)
        add_product(cls.key, cls.sku_b)

    def order_body(self, customer=None, ref=None):
        # 3 x 1000 - 1 = 2999 (not divisible by 3) + 2 x 250 = 500: 3499.
        body = {"currencyCode": "CHF", "channel": "SALES_CHANNEL_WEB",
                "lines": [{"sku": self.sku_a, "quantity": "3", "unitPriceMinor": "1000",
                           "discountMinor": "1"},
                          {"sku": self.sku_b, "quantity": "2", "unitPriceMinor": "250"}]}
        if ref is not None:
            body["customerRef"] = ref
        else:
            body["customerId"] = customer or stack.new_customer(self.key)
        return body

    def create_order(self, customer=None, key=None):
        r = rest("POST", "/v1/orders?requestId=" + q(rid()), key or self.key,
                 self.order_body(customer))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["totalMinor"], "3499")
        return r.json()

    def get_order(self, oid, key=None):
        r = rest("GET", "/v1/orders/" + oid, key or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def transition(self, oid, to, key=None):
        r = rest("POST", "/v1/orders/%s:transition" % oid, key or self.key,
                 {"toStatus": to, "requestId": rid()})
        self.assertEqual(r.status, 200, r)
        return r.json()

    def fulfilled_order(self, customer=None):
        o = self.create_order(customer)
        self.transition(o["id"], "ORDER_STATUS_PAID")
        return self.transition(o["id"], "ORDER_STATUS_FULFILLED")

    def pay(self, oid, amount, status="PAYMENT_STATUS_CAPTURED", method="PAYMENT_METHOD_CARD",
            request_id=None, key=None):
        return rest("POST", "/v1/orders/%s/payments?requestId=%s" % (oid, q(request_id or rid())),
                    key or self.key,
                    {"amountMinor": str(amount), "method": method, "status": status,
                     "providerRef": "psp-" + str(amount)})

    def set_payment(self, oid, pid, status, request_id=None, key=None):
        return rest("POST", "/v1/orders/%s/payments/%s:setStatus" % (oid, pid), key or self.key,
                    {"status": status, "requestId": request_id or rid()})

    def ret(self, oid, lines, request_id=None, key=None):
        return rest("POST", "/v1/orders/%s/returns?requestId=%s" % (oid, q(request_id or rid())),
                    key or self.key,
                    {"lines": [{"lineNo": n, "quantity": str(k)} for (n, k) in lines],
                     "reason": "did not fit"})

    def refund(self, oid, amount, status="REFUND_STATUS_SUCCEEDED", return_id=None,
               request_id=None, key=None):
        body = {"amountMinor": str(amount), "status": status, "reason": "sorry"}
        if return_id:
            body["returnId"] = return_id
        return rest("POST", "/v1/orders/%s/refunds?requestId=%s" % (oid, q(request_id or rid())),
                    key or self.key, body)

    def set_refund(self, oid, fid, status, request_id=None, key=None):
        return rest("POST", "/v1/orders/%s/refunds/%s:setStatus" % (oid, fid), key or self.key,
                    {"status": status, "requestId": request_id or rid()})

    def ok(self, r):
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assertError(self, r, status, reason, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.reason(), reason, r)
        if field is not None:
            self.assertEqual(r.error_field(), field, r)


class MoneyRest(MoneyApi):

    def test_lifecycle_payment_paid_fulfilled_return_refund(self):
        o = self.create_order()
        oid = o["id"]
        for f in ("paidMinor", "returnedMinor", "refundedMinor"):
            self.assertNotIn(f, o)  # 0: omitted
        self.assertEqual(o["netMinor"], "3499")

        auth = self.ok(self.pay(oid, 3499, "PAYMENT_STATUS_AUTHORIZED"))
        self.assertEqual(auth["orderId"], oid)
        self.assertEqual(auth["amountMinor"], "3499")
        self.assertEqual(auth["method"], "PAYMENT_METHOD_CARD")
        self.assertEqual(auth["status"], "PAYMENT_STATUS_AUTHORIZED")
        self.assertEqual(auth["providerRef"], "psp-3499")
        self.assertEqual(auth["etag"], "1")
        self.assertTrue(auth["id"] and auth["createTime"] and auth["updateTime"])
        self.assertEqual(self.get_order(oid)["status"], "ORDER_STATUS_PLACED")

        r = self.set_payment(oid, auth["id"], "PAYMENT_STATUS_CAPTURED")
        cap = self.ok(r)
        self.assertEqual(cap["status"], "PAYMENT_STATUS_CAPTURED")
        self.assertEqual(cap["etag"], "2")
        self.assertEqual(r.header("etag"), '"2"')
        g = self.get_order(oid)
        self.assertEqual(g["status"], "ORDER_STATUS_PAID")
        self.assertEqual(g["paidMinor"], "3499")
        self.assertEqual(g["netMinor"], "3499")

        self.transition(oid, "ORDER_STATUS_FULFILLED")
        r1 = self.ok(self.ret(oid, [(0, 1)]))
        self.assertEqual(r1["orderId"], oid)
        self.assertEqual(r1["amountMinor"], "999")
        self.assertEqual(r1["reason"], "did not fit")
        self.assertEqual(len(r1["lines"]), 1)
        line = r1["lines"][0]
        self.assertEqual(line.get("lineNo", 0), 0)
        self.assertEqual(line["quantity"], "1")
        self.assertEqual(line["sku"], self.sku_a)
        self.assertEqual(line["amountMinor"], "999")
        self.assertTrue(r1["id"] and r1["createTime"])
        g = self.get_order(oid)
        self.assertEqual(g["status"], "ORDER_STATUS_PARTIALLY_RETURNED")
        self.assertEqual(g["returnedMinor"], "999")
        self.assertEqual(g["netMinor"], "2500")
        self.assertEqual(g["lines"][0]["returnedQuantity"], "1")
        self.assertNotIn("returnedQuantity", g["lines"][1])

        f1 = self.ok(self.refund(oid, 999, return_id=r1["id"]))
        self.assertEqual(f1["returnId"], r1["id"])
        self.assertEqual(f1["status"], "REFUND_STATUS_SUCCEEDED")
        self.assertEqual(f1["amountMinor"], "999")
        self.assertEqual(f1["reason"], "sorry")
        self.assertEqual(f1["etag"], "1")
        g = self.get_order(oid)
        self.assertEqual(g["refundedMinor"], "999")
        self.assertEqual(g["netMinor"], "2500")  # the return took the value off already

        adj = self.ok(self.refund(oid, 500, status="REFUND_STATUS_PENDING"))
        self.assertNotIn("returnId", adj)
        self.assertEqual(self.get_order(oid)["refundedMinor"], "999")
        done = self.ok(self.set_refund(oid, adj["id"], "REFUND_STATUS_SUCCEEDED"))
        self.assertEqual(done["status"], "REFUND_STATUS_SUCCEEDED")
        self.assertEqual(done["etag"], "2")
        g = self.get_order(oid)
        self.assertEqual(g["refundedMinor"], "1499")
        self.assertEqual(g["netMinor"], "2000")  # a refund without return is an adjustment

        # The rest comes back: returned; net never below 0.
        r2 = self.ok(self.ret(oid, [(1, 2), (0, 2)]))
        self.assertEqual(r2["amountMinor"], "2500")
        self.assertEqual([l["amountMinor"] for l in r2["lines"]], ["500", "2000"])
        g = self.get_order(oid)
        self.assertEqual(g["status"], "ORDER_STATUS_RETURNED")
        self.assertEqual(g["returnedMinor"], "3499")
        self.assertNotIn("netMinor", g)  # 0
        self.assertEqual([l["returnedQuantity"] for l in g["lines"]], ["3", "2"])

        pays = self.ok(rest("GET", "/v1/orders/%s/payments" % oid, self.key))["payments"]
        self.assertEqual([p["id"] for p in pays], [auth["id"]])
        self.assertEqual(pays[0], cap)
        rets = self.ok(rest("GET", "/v1/orders/%s/returns" % oid, self.key))["returns"]
        self.assertEqual([x["id"] for x in rets], [r1["id"], r2["id"]])
        self.assertEqual(rets[0], r1)
        self.assertEqual([l.get("lineNo", 0) for l in rets[1]["lines"]], [0, 1])
        refs = self.ok(rest("GET", "/v1/orders/%s/refunds" % oid, self.key))["refunds"]
        self.assertEqual([x["id"] for x in refs], [f1["id"], adj["id"]])
        self.assertEqual(refs[1], done)

    def test_lists_of_an_order_without_records_are_empty(self):
        o = self.create_order()
        for what in ("payments", "returns", "refunds"):
            r = rest("GET", "/v1/orders/%s/%s" % (o["id"], what), self.key)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json().get(what, []), [])

    def test_money_refusals_are_400_failed_precondition_with_reasons(self):
        o = self.create_order()
        oid = o["id"]
        r = self.ret(oid, [(0, 1)])
        self.assertError(r, 400, "RETURN_NOT_ALLOWED")
        self.assertEqual(r.json()["error"]["status"], "FAILED_PRECONDITION", r)
        self.assertIn("placed", r.json()["error"]["message"])
        self.assertError(self.refund(oid, 1), 400, "REFUND_EXCEEDS_PAYMENTS")
        self.ok(self.pay(oid, 3000))
        r = self.pay(oid, 500)
        self.assertError(r, 400, "OVERPAYMENT")
        self.assertEqual(r.json()["error"]["status"], "FAILED_PRECONDITION", r)
        self.assertEqual(self.get_order(oid)["paidMinor"], "3000")
        pays = self.ok(rest("GET", "/v1/orders/%s/payments" % oid, self.key))["payments"]
        self.assertEqual(len(pays), 1)
        r = self.set_payment(oid, pays[0]["id"], "PAYMENT_STATUS_VOIDED")
        self.assertError(r, 400, "INVALID_PAYMENT_TRANSITION")
        self.assertIn("captured", r.json()["error"]["message"])
        self.assertError(self.refund(oid, 3001), 400, "REFUND_EXCEEDS_PAYMENTS")

        f = self.fulfilled_order()
        self.ok(self.pay(f["id"], 3499))
        ret = self.ok(self.ret(f["id"], [(1, 1)]))  # 250
        self.assertError(self.refund(f["id"], 251, return_id=ret["id"]), 400,
                         "REFUND_EXCEEDS_RETURN")
        r = self.ret(f["id"], [(1, 2)])
        self.assertError(r, 400, "INVALID_FIELD", "lines[0].quantity")
        self.assertIn("1..1", r.json()["error"]["message"])
        pending = self.ok(self.refund(f["id"], 100, status="REFUND_STATUS_PENDING"))
        self.ok(self.set_refund(f["id"], pending["id"], "REFUND_STATUS_FAILED"))
        r = self.set_refund(f["id"], pending["id"], "REFUND_STATUS_SUCCEEDED")
        self.assertError(r, 400, "INVALID_REFUND_TRANSITION")
        self.assertIn("failed", r.json()["error"]["message"])
        cancelled = self.create_order()
        self.transition(cancelled["id"], "ORDER_STATUS_CANCELLED")
        self.assertError(self.pay(cancelled["id"], 1), 400, "PAYMENT_NOT_ALLOWED")

    def test_bad_input_is_400_naming_the_field(self):
        o = self.fulfilled_order()
        oid = o["id"]
        cases = [
            (self.pay(oid, 0), "amount_minor"),
            (self.pay(oid, 1, method="PAYMENT_METHOD_UNSPECIFIED"), "method"),
            (self.pay(oid, 1, status="PAYMENT_STATUS_VOIDED"), "status"),
            (rest("POST", "/v1/orders/%s/payments" % oid, self.key,
                  {"amountMinor": "1", "method": "PAYMENT_METHOD_CASH",
                   "status": "PAYMENT_STATUS_CAPTURED"}), "request_id"),
            (self.pay("not-a-uuid", 1), "order_id"),
            (self.set_payment(oid, "not-a-uuid", "PAYMENT_STATUS_CAPTURED"), "payment_id"),
            (self.set_payment(oid, str(uuid.uuid4()), "PAYMENT_STATUS_UNSPECIFIED"), "status"),
            (self.ret(oid, []), "lines"),
            (self.ret(oid, [(0, 0)]), "lines[0].quantity"),
            (self.ret(oid, [(0, 1), (5, 1)]), "lines[1].line_no"),
            (self.ret(oid, [(1, 1), (1, 1)]), "lines[1].line_no"),
            (rest("POST", "/v1/orders/%s/returns" % oid, self.key,
                  {"lines": [{"lineNo": 0, "quantity": "1"}]}), "request_id"),
            (self.refund(oid, 0), "amount_minor"),
            (self.refund(oid, 1, status="REFUND_STATUS_FAILED"), "status"),
            (self.refund(oid, 1, return_id="nope"), "return_id"),
            (self.set_refund(oid, "nope", "REFUND_STATUS_SUCCEEDED"), "refund_id"),
            (rest("POST", "/v1/orders/%s/refunds/%s:setStatus" % (oid, uuid.uuid4()), self.key,
                  {"status": "REFUND_STATUS_SUCCEEDED"}), "request_id"),
        ]
        for r, field in cases:
            with self.subTest(field=field):
                self.assertError(r, 400, "INVALID_FIELD", field)
        g = self.get_order(oid)
        self.assertNotIn("paidMinor", g)
        self.assertNotIn("returnedMinor", g)
        self.assertEqual(g["status"], "ORDER_STATUS_FULFILLED")
        # An enum name that does not exist is refused by the gateway's JSON parsing.
        r = rest("POST", "/v1/orders/%s/payments?requestId=%s" % (oid, rid()), self.key,
                 {"amountMinor": "1", "method": "PAYMENT_METHOD_BITCOIN",
                  "status": "PAYMENT_STATUS_CAPTURED"})
        self.assertEqual(r.status, 400, r)
        # Records of nobody: 404 with their reason.
        self.assertError(self.set_payment(oid, str(uuid.uuid4()), "PAYMENT_STATUS_CAPTURED"),
                         404, "PAYMENT_NOT_FOUND")
        self.assertError(self.set_refund(oid, str(uuid.uuid4()), "REFUND_STATUS_SUCCEEDED"),
                         404, "REFUND_NOT_FOUND")
        self.ok(self.pay(oid, 100))
        self.assertError(self.refund(oid, 1, return_id=str(uuid.uuid4())), 404,
                         "RETURN_NOT_FOUND", "return_id")
        missing = str(uuid.uuid4())
        for r in (self.pay(missing, 1), rest("GET", "/v1/orders/%s/payments" % missing, self.key),
                  self.ret(missing, [(0, 1)]), rest("GET", "/v1/orders/%s/returns" % missing,
                                                    self.key),
                  self.refund(missing, 1), rest("GET", "/v1/orders/%s/refunds" % missing,
                                                self.key)):
            self.assertError(r, 404, "ORDER_NOT_FOUND")

    def test_idempotent_replays_and_key_reuse(self):
        o = self.create_order()
        oid = o["id"]
        key = rid()
        first = self.pay(oid, 1000, request_id=key)
        self.assertEqual(first.status, 200, first)
        again = self.pay(oid, 1000, request_id=key)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, first.body)
        self.assertEqual(self.get_order(oid)["paidMinor"], "1000")
        r = self.pay(oid, 1001, request_id=key)
        self.assertError(r, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        # The same key on another method is refused as well.
        r = self.refund(oid, 1, request_id=key)
        self.assertError(r, 400, "INVALID_FIELD", "request_id")

        # A replayed capture answers the first answer after the order moved on.
        auth = self.ok(self.pay(oid, 2499, "PAYMENT_STATUS_AUTHORIZED"))
        cap_key = rid()
        cap = self.set_payment(oid, auth["id"], "PAYMENT_STATUS_CAPTURED", request_id=cap_key)
        self.assertEqual(cap.status, 200, cap)
        self.assertEqual(self.get_order(oid)["status"], "ORDER_STATUS_PAID")  # covered
        self.transition(oid, "ORDER_STATUS_FULFILLED")
        cap_again = self.set_payment(oid, auth["id"], "PAYMENT_STATUS_CAPTURED",
                                     request_id=cap_key)
        self.assertEqual(cap_again.status, 200, cap_again)
        self.assertEqual(cap_again.body, cap.body)
        self.assertError(self.set_payment(oid, auth["id"], "PAYMENT_STATUS_VOIDED",
                                          request_id=cap_key), 422, "IDEMPOTENCY_KEY_REUSED")

        ret_key = rid()
        r1 = self.ret(oid, [(0, 1)], request_id=ret_key)
        self.assertEqual(r1.status, 200, r1)
        self.ok(self.ret(oid, [(0, 1)]))
        r1_again = self.ret(oid, [(0, 1)], request_id=ret_key)
        self.assertEqual(r1_again.body, r1.body)
        self.assertError(self.ret(oid, [(1, 1)], request_id=ret_key), 422,
                         "IDEMPOTENCY_KEY_REUSED", "request_id")
        self.assertEqual(self.get_order(oid)["lines"][0]["returnedQuantity"], "2")

        ref_key = rid()
        f = self.refund(oid, 100, status="REFUND_STATUS_PENDING", request_id=ref_key)
        self.assertEqual(f.status, 200, f)
        self.ok(self.set_refund(oid, f.json()["id"], "REFUND_STATUS_SUCCEEDED"))
        f_again = self.refund(oid, 100, status="REFUND_STATUS_PENDING", request_id=ref_key)
        self.assertEqual(f_again.body, f.body)  # still the pending refund first answered
        self.assertError(self.refund(oid, 101, status="REFUND_STATUS_PENDING",
                                     request_id=ref_key), 422, "IDEMPOTENCY_KEY_REUSED")
        refs = self.ok(rest("GET", "/v1/orders/%s/refunds" % oid, self.key))["refunds"]
        self.assertEqual(len(refs), 1)
        self.assertEqual(self.get_order(oid)["refundedMinor"], "100")

        # A refusal replays as the same refusal.
        over_key = rid()
        over = self.pay(oid, 1, request_id=over_key)
        self.assertError(over, 400, "OVERPAYMENT")
        self.assertEqual(self.pay(oid, 1, request_id=over_key).body, over.body)

    def test_roles(self):
        _, ro = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        _, sales = stack.create_key(self.key, ["ROLE_SALES"])
        o = self.create_order()
        oid = o["id"]
        self.assertEqual(self.pay(oid, 1, key=ro).status, 403)
        self.assertEqual(self.refund(oid, 1, key=ro).status, 403)
        self.assertEqual(self.ret(oid, [(0, 1)], key=ro).status, 403)
        for what in ("payments", "returns", "refunds"):
            r = rest("GET", "/v1/orders/%s/%s" % (oid, what), ro)
            self.assertEqual(r.status, 200, r)
        p = self.ok(self.pay(oid, 1, "PAYMENT_STATUS_AUTHORIZED", key=sales))
        self.assertEqual(self.set_payment(oid, p["id"], "PAYMENT_STATUS_CAPTURED", key=ro).status,
                         403)
        self.ok(self.set_payment(oid, p["id"], "PAYMENT_STATUS_CAPTURED", key=sales))
        r = rest("GET", "/v1/orderSettings", ro)
        self.assertEqual(r.status, 200, r)
        for k in (ro, sales):
            r = rest("PATCH", "/v1/orderSettings", k, {"createUnknownCustomers": True})
            self.assertEqual(r.status, 403, r)
        r = rest("GET", "/v1/orderSettings", self.key)
        self.assertNotIn("createUnknownCustomers", r.json())


class MoneyTenantIsolation(MoneyApi):

    def test_another_tenant_gets_404_on_every_route(self):
        o = self.fulfilled_order()
        oid = o["id"]
        pay = self.ok(self.pay(oid, 3000))
        auth = self.ok(self.pay(oid, 499, "PAYMENT_STATUS_AUTHORIZED"))
        ret = self.ok(self.ret(oid, [(0, 1)]))
        ref = self.ok(self.refund(oid, 100, status="REFUND_STATUS_PENDING", return_id=ret["id"]))
        before = self.get_order(oid)
        _, b_key = stack.create_tenant()
        calls = {
            "POST payments": self.pay(oid, 1, key=b_key),
            "POST payments:setStatus": self.set_payment(oid, auth["id"],
                                                        "PAYMENT_STATUS_CAPTURED", key=b_key),
            "GET payments": rest("GET", "/v1/orders/%s/payments" % oid, b_key),
            "POST returns": self.ret(oid, [(0, 1)], key=b_key),
            "GET returns": rest("GET", "/v1/orders/%s/returns" % oid, b_key),
            "POST refunds": self.refund(oid, 1, return_id=ret["id"], key=b_key),
            "POST refunds:setStatus": self.set_refund(oid, ref["id"], "REFUND_STATUS_SUCCEEDED",
                                                      key=b_key),
            "GET refunds": rest("GET", "/v1/orders/%s/refunds" % oid, b_key),
        }
        for name, r in calls.items():
            with self.subTest(route=name):
                self.assertError(r, 404, "ORDER_NOT_FOUND")
        self.assertEqual(self.get_order(oid), before)
        pays = self.ok(rest("GET", "/v1/orders/%s/payments" % oid, self.key))["payments"]
        self.assertEqual([p["id"] for p in pays], [pay["id"], auth["id"]])
        self.assertEqual(pays[1]["status"], "PAYMENT_STATUS_AUTHORIZED")
        refs = self.ok(rest("GET", "/v1/orders/%s/refunds" % oid, self.key))["refunds"]
        self.assertEqual(refs, [ref])

    def test_order_settings_are_per_tenant(self):
        _, a_key = stack.create_tenant()
        _, b_key = stack.create_tenant()
        r = rest("PATCH", "/v1/orderSettings", a_key, {"createUnknownCustomers": True})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["createUnknownCustomers"])
        b = rest("GET", "/v1/orderSettings", b_key)
        self.assertEqual(b.status, 200, b)
        self.assertNotIn("createUnknownCustomers", b.json())
        self.assertEqual(b.json()["etag"], "0")
        # B's stale etag is about B's settings (version 0), not A's.
        r = rest("PATCH", "/v1/orderSettings", b_key, {"createUnknownCustomers": True},
                 headers={"If-Match": '"1"'})
        self.assertError(r, 412, "ETAG_MISMATCH")


class OrderSettingsAndCustomerResolution(MoneyApi):

    def email(self):
        return stack.unique("ref") + "@example.com"

    def order_for(self, ref, request_id=None, key=None):
        return rest("POST", "/v1/orders?requestId=" + q(request_id or rid()), key or self.key,
                    self.order_body(ref=ref))

    def test_settings_defaults_update_and_etag(self):
        _, key = stack.create_tenant()
        r = rest("GET", "/v1/orderSettings", key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"etag": "0"})
        r = rest("PATCH", "/v1/orderSettings", key, {"createUnknownCustomers": True},
                 headers={"If-Match": '"0"'})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["createUnknownCustomers"])
        self.assertEqual(r.json()["etag"], "1")
        self.assertEqual(r.header("etag"), '"1"')
        self.assertIn("updateTime", r.json())
        g = rest("GET", "/v1/orderSettings", key)
        self.assertEqual(g.json(), r.json())
        stale = rest("PATCH", "/v1/orderSettings", key, {"createUnknownCustomers": False},
                     headers={"If-Match": '"0"'})
        self.assertError(stale, 412, "ETAG_MISMATCH")
        self.assertTrue(rest("GET", "/v1/orderSettings", key).json()["createUnknownCustomers"])
        r = rest("PATCH", "/v1/orderSettings", key, {"createUnknownCustomers": False})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "2")
        self.assertNotIn("createUnknownCustomers", r.json())

    def test_unknown_customer_is_404_until_the_settings_allow_creating_it(self):
        _, key = stack.create_tenant()
        add_product(key, self.sku_a)
        add_product(key, self.sku_b)
        email = self.email()
        ref = {"email": email, "givenName": "Ann", "familyName": "Ref"}
        r = self.order_for(ref, key=key)
        self.assertError(r, 404, "CUSTOMER_NOT_RESOLVED")
        self.assertEqual(stack.count_customers(key), 0)

        # An existing customer resolves whatever the settings say.
        known_email = self.email()
        known = new_customer(key, known_email)
        r = self.order_for({"email": known_email}, key=key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["customerId"], known)
        self.assertNotIn("customerRef", r.json())  # input only

        s = rest("PATCH", "/v1/orderSettings", key, {"createUnknownCustomers": True})
        self.assertEqual(s.status, 200, s)
        request_id = rid()
        first = self.order_for(ref, request_id=request_id, key=key)
        self.assertEqual(first.status, 200, first)
        created = first.json()["customerId"]
        self.assertNotEqual(created, known)
        c = rest("GET", "/v1/customers/" + created, key)
        self.assertEqual(c.status, 200, c)
        self.assertEqual(c.json()["emails"], [email])
        self.assertEqual(c.json()["givenName"], "Ann")
        self.assertEqual(c.json()["familyName"], "Ref")
        self.assertEqual(stack.count_customers(key), 2)

        # A retry: the same order, no second customer.
        again = self.order_for(ref, request_id=request_id, key=key)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, first.body)
        self.assertEqual(stack.count_customers(key), 2)
        # Another order with the same email: the same customer.
        second = self.order_for({"email": email}, key=key)
        self.assertEqual(second.status, 200, second)
        self.assertEqual(second.json()["customerId"], created)
        self.assertNotEqual(second.json()["id"], first.json()["id"])
        self.assertEqual(stack.count_customers(key), 2)
        listed = rest("GET", "/v1/orders?customerId=" + created, key)
        self.assertEqual(len(listed.json()["orders"]), 2, listed)

        # Invalid orders create no customer, whatever their reference.
        bad = self.order_body(ref={"email": self.email()})
        bad["lines"][0]["quantity"] = "0"
        r = rest("POST", "/v1/orders?requestId=" + rid(), key, bad)
        self.assertError(r, 400, "INVALID_FIELD", "lines[0].quantity")
        self.assertEqual(stack.count_customers(key), 2)
        both = self.order_body(ref={"email": email})
        both["customerId"] = created
        r = rest("POST", "/v1/orders?requestId=" + rid(), key, both)
        self.assertError(r, 400, "INVALID_FIELD", "customer_ref")
        r = self.order_for({"givenName": "Nobody"}, key=key)
        self.assertError(r, 400, "INVALID_FIELD", "customer_ref")
        self.assertEqual(stack.count_customers(key), 2)

    def test_external_id_and_phone_references(self):
        _, key = stack.create_tenant()
        add_product(key, self.sku_a)
        add_product(key, self.sku_b)
        self.assertEqual(rest("PATCH", "/v1/orderSettings", key,
                              {"createUnknownCustomers": True}).status, 200)
        ext = stack.unique("C")
        r = self.order_for({"externalIdSource": "erp", "externalId": ext,
                            "phone": "+41 44 668 18 00"}, key=key)
        self.assertEqual(r.status, 200, r)
        cid = r.json()["customerId"]
        by_ext = self.order_for({"externalIdSource": "erp", "externalId": ext}, key=key)
        self.assertEqual(by_ext.status, 200, by_ext)
        self.assertEqual(by_ext.json()["customerId"], cid)
        by_phone = self.order_for({"phone": "+41446681800"}, key=key)
        self.assertEqual(by_phone.status, 200, by_phone)
        self.assertEqual(by_phone.json()["customerId"], cid)
        self.assertEqual(stack.count_customers(key), 1)
        r = self.order_for({"externalId": ext}, key=key)
        self.assertError(r, 400, "INVALID_FIELD", "customer_ref.external_id_source")

    # KNOWN BUG (services/transaction/app/orders.cc, Orders::Create): the
    # customer is created with the key "<request_id>/customer", 9 characters
    # longer than request_id; customer-store refuses keys over 128 characters,
    # so a valid request_id of 120..128 characters fails with
    # 400 "customer_ref: request_id is at most 128 characters". Remove the
    # decorator once the derived key is bounded (e.g. a digest of request_id).
    def test_longest_request_id_still_resolves_a_new_customer(self):
        # request_id may be 128 characters; the customer is created with a key
        # derived from it, which must stay within customer-store's limit too.
        _, key = stack.create_tenant()
        add_product(key, self.sku_a)
        add_product(key, self.sku_b)
        self.assertEqual(rest("PATCH", "/v1/orderSettings", key,
                              {"createUnknownCustomers": True}).status, 200)
        long_id = ("L" * 128)
        r = self.order_for({"email": self.email()}, request_id=long_id, key=key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(stack.count_customers(key), 1)


class PurchaseViewReflectsReturns(MoneyApi):

    def view(self, customer):
        r = rest("GET", "/v1/customers/%s/view" % customer, self.key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_for(self, customer, predicate):
        deadline = time.monotonic() + VISIBLE_WITHIN_S
        while True:
            v = self.view(customer)
            p = v.get("purchases", [])
            if p and predicate(p[0]):
                return p[0]
            if time.monotonic() > deadline:
                self.fail("not visible within %.1f s: %r" % (VISIBLE_WITHIN_S, p))
            time.sleep(0.05)

    def test_view_shows_net_gross_and_returned_values(self):
        customer = new_customer(self.key)
        o = self.create_order(customer)
        oid = o["id"]
        p = self.wait_for(customer, lambda p: p.get("orderCount") == "1")
        self.assertEqual(p["totalSpendMinor"], "3499")
        self.ok(self.pay(oid, 3499))
        self.transition(oid, "ORDER_STATUS_FULFILLED")
        ret = self.ok(self.ret(oid, [(0, 1)]))  # 999
        p = self.wait_for(customer, lambda p: p.get("returnedMinor") == "999")
        self.assertEqual(p["orderCount"], "1")
        self.assertEqual(p["totalSpendMinor"], "2500")  # net
        self.assertEqual(p["grossSpendMinor"], "3499")
        self.assertEqual(p["returnedOrders"], "1")
        self.assertEqual(p["averageOrderMinor"], "2500")
        # Refunding the return changes nothing more; an adjustment lowers the net.
        self.ok(self.refund(oid, 999, return_id=ret["id"]))
        self.ok(self.refund(oid, 500))
        p = self.wait_for(customer, lambda p: p.get("totalSpendMinor") == "2000")
        self.assertEqual(p["grossSpendMinor"], "3499")
        self.assertEqual(p["returnedMinor"], "999")
        # Everything back: still an order, but no spend.
        self.ok(self.ret(oid, [(0, 2), (1, 2)]))
        p = self.wait_for(customer, lambda p: p.get("returnedMinor") == "3499")
        self.assertEqual(p["orderCount"], "1")
        self.assertNotIn("totalSpendMinor", p)
        self.assertEqual(p["returnedOrders"], "1")
        self.assertEqual(p["grossSpendMinor"], "3499")


class MoneyGrpc(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.stub = txn_grpc.TransactionServiceStub(channel)
        _, cls.key = stack.create_tenant()
        cls.md = stack.auth(cls.key)
        cls.sku = stack.unique("GM")
        add_product(cls.key, cls.sku)

    def call(self, method, request, md=None):
        return getattr(self.stub, method)(request, metadata=md or self.md, timeout=DEADLINE)

    def refused(self, code, reason, method, request, md=None):
        with self.assertRaises(grpc.RpcError) as cm:
            self.call(method, request, md)
        self.assertEqual(cm.exception.code(), code, cm.exception.details())
        self.assertEqual(stack.reason_of(cm.exception), reason, cm.exception.details())
        return cm.exception

    def new_order(self):
        return self.call("CreateOrder", txn.CreateOrderRequest(
            order=txn.Order(customer_id=stack.new_customer(self.key), currency_code="EUR",
                            lines=[txn.OrderLine(sku=self.sku, quantity=3,
                                                 unit_price_minor=1000, discount_minor=1)]),
            request_id=rid()))

    def test_payment_return_refund_over_grpc(self):
        o = self.new_order()
        self.assertEqual(o.total_minor, 2999)
        pay = self.call("RecordPayment", txn.RecordPaymentRequest(
            order_id=o.id, request_id=rid(),
            payment=txn.Payment(amount_minor=2999, method=txn.PAYMENT_METHOD_WALLET,
                                status=txn.PAYMENT_STATUS_CAPTURED)))
        self.assertEqual(pay.status, txn.PAYMENT_STATUS_CAPTURED)
        self.assertEqual(pay.order_id, o.id)
        got = self.call("GetOrder", txn.GetOrderRequest(order_id=o.id))
        self.assertEqual(got.status, txn.ORDER_STATUS_PAID)
        self.assertEqual(got.paid_minor, 2999)
        e = self.refused(grpc.StatusCode.FAILED_PRECONDITION, "RETURN_NOT_ALLOWED", "CreateReturn",
                         txn.CreateReturnRequest(order_id=o.id, request_id=rid(),
                                                 order_return=txn.Return(lines=[
                                                     txn.ReturnLine(line_no=0, quantity=1)])))
        self.assertIn("paid", e.details())
        self.call("TransitionOrder", txn.TransitionOrderRequest(
            order_id=o.id, to_status=txn.ORDER_STATUS_FULFILLED, request_id=rid()))
        ret = self.call("CreateReturn", txn.CreateReturnRequest(
            order_id=o.id, request_id=rid(),
            order_return=txn.Return(lines=[txn.ReturnLine(line_no=0, quantity=2)])))
        self.assertEqual(ret.amount_minor, 1999)  # floor(2999 * 2 / 3)
        self.assertEqual(ret.lines[0].sku, self.sku)
        ref = self.call("CreateRefund", txn.CreateRefundRequest(
            order_id=o.id, request_id=rid(),
            refund=txn.Refund(amount_minor=1999, status=txn.REFUND_STATUS_PENDING,
                              return_id=ret.id)))
        self.assertEqual(ref.status, txn.REFUND_STATUS_PENDING)
        done = self.call("UpdateRefundStatus", txn.UpdateRefundStatusRequest(
            order_id=o.id, refund_id=ref.id, status=txn.REFUND_STATUS_SUCCEEDED,
            request_id=rid()))
        self.assertEqual(done.status, txn.REFUND_STATUS_SUCCEEDED)
        got = self.call("GetOrder", txn.GetOrderRequest(order_id=o.id))
        self.assertEqual(got.status, txn.ORDER_STATUS_PARTIALLY_RETURNED)
        self.assertEqual((got.returned_minor, got.refunded_minor, got.net_minor), (1999, 1999, 1000))
        self.assertEqual(got.lines[0].returned_quantity, 2)
        self.assertEqual([p.id for p in self.call("ListPayments", txn.ListOrderRecordsRequest(
            order_id=o.id)).payments], [pay.id])
        self.assertEqual(list(self.call("ListReturns", txn.ListOrderRecordsRequest(
            order_id=o.id)).returns), [ret])
        self.assertEqual(list(self.call("ListRefunds", txn.ListOrderRecordsRequest(
            order_id=o.id)).refunds), [done])
        self.refused(grpc.StatusCode.FAILED_PRECONDITION, "REFUND_EXCEEDS_PAYMENTS", "CreateRefund",
                     txn.CreateRefundRequest(order_id=o.id, request_id=rid(),
                                             refund=txn.Refund(amount_minor=1001,
                                                               status=txn.REFUND_STATUS_SUCCEEDED)))

        # Another tenant: NOT_FOUND everywhere.
        _, other = stack.create_tenant()
        md = stack.auth(other)
        for method, req in (
                ("ListPayments", txn.ListOrderRecordsRequest(order_id=o.id)),
                ("ListReturns", txn.ListOrderRecordsRequest(order_id=o.id)),
                ("ListRefunds", txn.ListOrderRecordsRequest(order_id=o.id)),
                ("RecordPayment", txn.RecordPaymentRequest(
                    order_id=o.id, request_id=rid(),
                    payment=txn.Payment(amount_minor=1, method=txn.PAYMENT_METHOD_CASH,
                                        status=txn.PAYMENT_STATUS_AUTHORIZED))),
                ("UpdatePaymentStatus", txn.UpdatePaymentStatusRequest(
                    order_id=o.id, payment_id=pay.id, status=txn.PAYMENT_STATUS_VOIDED,
                    request_id=rid())),
                ("CreateReturn", txn.CreateReturnRequest(
                    order_id=o.id, request_id=rid(),
                    order_return=txn.Return(lines=[txn.ReturnLine(line_no=0, quantity=1)]))),
                ("CreateRefund", txn.CreateRefundRequest(
                    order_id=o.id, request_id=rid(),
                    refund=txn.Refund(amount_minor=1, status=txn.REFUND_STATUS_PENDING))),
                ("UpdateRefundStatus", txn.UpdateRefundStatusRequest(
                    order_id=o.id, refund_id=ref.id, status=txn.REFUND_STATUS_FAILED,
                    request_id=rid()))):
            with self.subTest(method=method):
                self.refused(grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND", method, req, md)

    def test_idempotency_and_settings_over_grpc(self):
        o = self.new_order()
        request = txn.RecordPaymentRequest(
            order_id=o.id, request_id=rid(),
            payment=txn.Payment(amount_minor=1000, method=txn.PAYMENT_METHOD_CARD,
                                status=txn.PAYMENT_STATUS_CAPTURED))
        first = self.call("RecordPayment", request)
        self.assertEqual(self.call("RecordPayment", request), first)
        request.payment.amount_minor = 1001
        self.refused(grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED", "RecordPayment",
                     request)
        self.assertEqual(self.call("GetOrder", txn.GetOrderRequest(order_id=o.id)).paid_minor,
                         1000)
        self.refused(grpc.StatusCode.FAILED_PRECONDITION, "OVERPAYMENT", "RecordPayment",
                     txn.RecordPaymentRequest(
                         order_id=o.id, request_id=rid(),
                         payment=txn.Payment(amount_minor=2000, method=txn.PAYMENT_METHOD_CARD,
                                             status=txn.PAYMENT_STATUS_CAPTURED)))

        s = self.call("GetOrderSettings", txn.GetOrderSettingsRequest())
        self.assertFalse(s.create_unknown_customers)
        self.assertEqual(s.etag, "0")
        u = self.call("UpdateOrderSettings", txn.UpdateOrderSettingsRequest(
            settings=txn.OrderSettings(create_unknown_customers=True), etag="0"))
        self.assertTrue(u.create_unknown_customers)
        self.assertEqual(u.etag, "1")
        self.refused(grpc.StatusCode.ABORTED, "ETAG_MISMATCH", "UpdateOrderSettings",
                     txn.UpdateOrderSettingsRequest(
                         settings=txn.OrderSettings(create_unknown_customers=False), etag="0"))
        email = stack.unique("g") + "@example.com"
        created = self.call("CreateOrder", txn.CreateOrderRequest(
            order=txn.Order(customer_ref=txn.CustomerRef(email=email), currency_code="EUR",
                            lines=[txn.OrderLine(sku=self.sku, quantity=1,
                                                 unit_price_minor=5)]),
            request_id=rid()))
        self.assertTrue(created.customer_id)
        self.assertFalse(created.HasField("customer_ref"))
        r = rest("GET", "/v1/customers/" + created.customer_id, self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["emails"], [email])


if __name__ == "__main__":
    unittest.main()
