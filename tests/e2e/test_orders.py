"""Orders (transaction service) through the gateway: REST and gRPC."""

import importlib
import threading
import unittest
import urllib.parse
import uuid

import grpc

import stack
from stack import rest

DEADLINE = 10  # seconds, on every gRPC call

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


def product(sku, amount=1990, currency="CHF"):
    return {"sku": sku, "name": "Product " + sku, "categoryPath": ["Music", "Jazz"],
            "price": {"amountMinor": str(amount), "currencyCode": currency}, "active": True}


def add_product(key, sku):
    r = rest("POST", "/v1/products", key, product(sku))
    if r.status != 200:
        raise AssertionError("create product failed: %r" % r)


def order(customer, lines, currency="chf", total=None, channel="SALES_CHANNEL_WEB"):
    """lines: (sku, quantity, unit price, discount) tuples."""
    body = {"customerId": customer, "currencyCode": currency, "channel": channel,
            "storeId": "zurich-1",
            "lines": [{"sku": s, "quantity": str(n), "unitPriceMinor": str(p),
                       "discountMinor": str(d)} for (s, n, p, d) in lines]}
    if total is not None:
        body["totalMinor"] = str(total)
    return body


class OrdersRest(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.sku_a = stack.unique("OA")
        cls.sku_b = stack.unique("OB")
        add_product(cls.key, cls.sku_a)
        add_product(cls.key, cls.sku_b)

    def create(self, body, rid=None, key=None):
        r = rest("POST", "/v1/orders?requestId=" + q(rid or stack.unique("rid")), key or self.key,
                 body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def transition(self, order_id, to, rid=None, key=None):
        return rest("POST", "/v1/orders/%s:transition" % order_id, key or self.key,
                    {"toStatus": to, "requestId": rid or stack.unique("rid")})

    def standard(self, customer=None):
        # 2 x 1990 + 1 x 500 - 100 = 4380
        return order(customer or stack.new_customer(self.key),
                     [(self.sku_a, 2, 1990, 0), (self.sku_b, 1, 500, 100)])

    def list_ids(self, query, key=None, page_size=2, max_pages=20):
        ids = []
        token = ""
        for _ in range(max_pages):
            path = "/v1/orders?pageSize=%d&%s" % (page_size, query)
            if token:
                path += "&pageToken=" + q(token)
            r = rest("GET", path, key or self.key)
            self.assertEqual(r.status, 200, (path, r))
            page = r.json().get("orders", [])
            self.assertLessEqual(len(page), page_size)
            ids += [o["id"] for o in page]
            token = r.json().get("nextPageToken", "")
            if not token:
                return ids
        self.fail("paging did not end within %d pages" % max_pages)

    # ------------------------------------------------------------ create / get

    def test_create_computes_totals_and_get_returns_it(self):
        customer = stack.new_customer(self.key)
        o = self.create(self.standard(customer))
        self.assertTrue(o["id"])
        self.assertEqual(o["customerId"], customer)
        self.assertEqual(o["currencyCode"], "CHF")
        self.assertEqual(o["status"], "ORDER_STATUS_PLACED")
        self.assertEqual(int(o["totalMinor"]), 4380)
        self.assertEqual([int(l["lineTotalMinor"]) for l in o["lines"]], [3980, 400])
        self.assertEqual([l["sku"] for l in o["lines"]], [self.sku_a, self.sku_b])
        self.assertEqual(o["channel"], "SALES_CHANNEL_WEB")
        self.assertTrue(o["etag"] and o["createTime"] and o["updateTime"] and o["placedTime"])
        r = rest("GET", "/v1/orders/" + o["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), o)

    def test_retry_with_the_same_request_id_is_byte_identical(self):
        customer = stack.new_customer(self.key)
        rid = stack.unique("rid")
        body = self.standard(customer)
        first = rest("POST", "/v1/orders?requestId=" + rid, self.key, body)
        self.assertEqual(first.status, 200, first)
        again = rest("POST", "/v1/orders?requestId=" + rid, self.key, body)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, first.body)
        self.assertEqual(self.list_ids("customerId=" + customer), [first.json()["id"]])

    def test_same_request_id_with_another_body_is_422(self):
        customer = stack.new_customer(self.key)
        rid = stack.unique("rid")
        first = self.create(self.standard(customer), rid=rid)
        other = order(customer, [(self.sku_a, 7, 1990, 0)])
        r = rest("POST", "/v1/orders?requestId=" + rid, self.key, other)
        self.assertError(r, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        self.assertEqual(self.list_ids("customerId=" + customer), [first["id"]])

    def test_missing_request_id_is_400_on_request_id(self):
        customer = stack.new_customer(self.key)
        r = rest("POST", "/v1/orders", self.key, self.standard(customer))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_field(), "request_id", r)
        self.assertEqual(self.list_ids("customerId=" + customer), [])
        o = self.create(self.standard(customer))
        r = rest("POST", "/v1/orders/%s:transition" % o["id"], self.key,
                 {"toStatus": "ORDER_STATUS_PAID"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_field(), "request_id", r)

    # ------------------------------------------------------------- transitions

    def test_transition_path_placed_paid_fulfilled_completed(self):
        o = self.create(self.standard())
        etags = [o["etag"]]
        for to in ("ORDER_STATUS_PAID", "ORDER_STATUS_FULFILLED", "ORDER_STATUS_COMPLETED"):
            r = self.transition(o["id"], to)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["status"], to)
            self.assertNotIn(r.json()["etag"], etags)
            etags.append(r.json()["etag"])
            g = rest("GET", "/v1/orders/" + o["id"], self.key)
            self.assertEqual(g.json()["status"], to)
            self.assertEqual(int(g.json()["totalMinor"]), 4380)
        self.assertEqual(etags, ["1", "2", "3", "4"])

    def test_cancel_from_placed_and_from_paid(self):
        a = self.create(self.standard())
        r = self.transition(a["id"], "ORDER_STATUS_CANCELLED")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "ORDER_STATUS_CANCELLED")
        b = self.create(self.standard())
        self.assertEqual(self.transition(b["id"], "ORDER_STATUS_PAID").status, 200)
        r = self.transition(b["id"], "ORDER_STATUS_CANCELLED")
        self.assertEqual(r.status, 200, r)
        r = self.transition(b["id"], "ORDER_STATUS_PAID")
        self.assertError(r, 400, "INVALID_ORDER_TRANSITION")

    def test_invalid_transition_is_400_naming_the_status_and_replays(self):
        o = self.create(self.standard())
        rid = stack.unique("rid")
        first = self.transition(o["id"], "ORDER_STATUS_COMPLETED", rid=rid)
        self.assertError(first, 400, "INVALID_ORDER_TRANSITION")
        self.assertEqual(first.json()["error"]["status"], "FAILED_PRECONDITION", first)
        self.assertIn("placed", first.json()["error"]["message"], first)
        again = self.transition(o["id"], "ORDER_STATUS_COMPLETED", rid=rid)
        self.assertEqual(again.status, 400, again)
        self.assertEqual(again.body, first.body)
        # Even once completing would be allowed, the request_id answers its first refusal.
        self.assertEqual(self.transition(o["id"], "ORDER_STATUS_PAID").status, 200)
        self.assertEqual(self.transition(o["id"], "ORDER_STATUS_FULFILLED").status, 200)
        later = self.transition(o["id"], "ORDER_STATUS_COMPLETED", rid=rid)
        self.assertEqual(later.status, 400, later)
        self.assertEqual(later.body, first.body)
        g = rest("GET", "/v1/orders/" + o["id"], self.key)
        self.assertEqual(g.json()["status"], "ORDER_STATUS_FULFILLED")

    def test_replayed_transition_answers_the_first_result(self):
        o = self.create(self.standard())
        rid = stack.unique("rid")
        paid = self.transition(o["id"], "ORDER_STATUS_PAID", rid=rid)
        self.assertEqual(paid.status, 200, paid)
        self.assertEqual(self.transition(o["id"], "ORDER_STATUS_FULFILLED").status, 200)
        again = self.transition(o["id"], "ORDER_STATUS_PAID", rid=rid)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, paid.body)

    # -------------------------------------------------------------- refusals

    def test_unknown_sku_is_400_unknown_sku(self):
        customer = stack.new_customer(self.key)
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("rid"), self.key,
                 order(customer, [(self.sku_a, 1, 1, 0), (stack.unique("NOPE"), 1, 1, 0)]))
        self.assertError(r, 400, "UNKNOWN_SKU", "lines[1].sku")
        self.assertEqual(self.list_ids("customerId=" + customer), [])

    def test_unknown_sku_refusal_replays_identically(self):
        customer = stack.new_customer(self.key)
        rid = stack.unique("rid")
        later = stack.unique("LATER")
        body = order(customer, [(later, 1, 1, 0)])
        first = rest("POST", "/v1/orders?requestId=" + rid, self.key, body)
        self.assertError(first, 400, "UNKNOWN_SKU", "lines[0].sku")
        add_product(self.key, later)
        again = rest("POST", "/v1/orders?requestId=" + rid, self.key, body)
        self.assertEqual(again.status, 400, again)
        self.assertEqual(again.body, first.body)
        self.assertEqual(self.list_ids("customerId=" + customer), [])

    def test_invalid_orders_are_400_on_the_field(self):
        c = str(uuid.uuid4())
        cases = [
            (order(c, [(self.sku_a, -1, 100, 0)]), "lines[0].quantity"),
            (order(c, [(self.sku_a, 0, 100, 0)]), "lines[0].quantity"),
            (order(c, [(self.sku_a, 1, 100, 0)], currency="XYZ"), "currency_code"),
            (order(c, [(self.sku_a, 1, 100, 0), (self.sku_b, 2, 50, 0)], total=199),
             "total_minor"),
            (order(c, [(self.sku_a, 1, 100, 101)]), "lines[0].discount_minor"),
            (order(c, []), "lines"),
            (order("not-a-uuid", [(self.sku_a, 1, 100, 0)]), "customer_id"),
        ]
        for body, field in cases:
            with self.subTest(field=field, body=body):
                r = rest("POST", "/v1/orders?requestId=" + stack.unique("rid"), self.key, body)
                self.assertError(r, 400, "INVALID_FIELD", field)
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("rid"), self.key,
                 order(c, [(self.sku_a, 1, 100, 0), (self.sku_b, 2, 50, 0)], total=199))
        self.assertIn("200", r.json()["error"]["message"], r)
        self.assertEqual(self.list_ids("customerId=" + c), [])

    def test_get_missing_is_404(self):
        r = rest("GET", "/v1/orders/" + str(uuid.uuid4()), self.key)
        self.assertError(r, 404, "ORDER_NOT_FOUND")

    # ---------------------------------------------------- customer checks

    def test_unknown_customer_is_400_customer_not_found(self):
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("rid"), self.key,
                 self.standard(str(uuid.uuid4())))
        self.assertError(r, 400, "CUSTOMER_NOT_FOUND", "customer_id")
        # Not stored with the key: once the customer exists... a new id is needed;
        # the refusal wrote nothing.
        self.assertEqual(self.list_ids("customerId=" + str(uuid.uuid4())), [])

    def test_another_tenants_customer_is_400_customer_not_found(self):
        _, other_key = stack.create_tenant()
        theirs = stack.new_customer(other_key)
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("rid"), self.key,
                 self.standard(theirs))
        self.assertError(r, 400, "CUSTOMER_NOT_FOUND", "customer_id")

    def test_merged_customer_is_booked_to_the_survivor(self):
        survivor = stack.new_customer(self.key)
        source = stack.new_customer(self.key)
        m = rest("POST", "/v1/customers/%s:merge" % survivor, self.key,
                 {"sourceCustomerId": source, "requestId": stack.unique("m")})
        self.assertEqual(m.status, 200, m)
        o = self.create(self.standard(source))
        self.assertEqual(o["customerId"], survivor)

    # -------------------------------------------------------------- listing

    def test_list_newest_first_with_filters(self):
        customer = stack.new_customer(self.key)
        ids = []
        for i in range(3):
            body = self.standard(customer)
            body["placedTime"] = "2024-01-0%dT10:00:00Z" % (i + 1)
            ids.append(self.create(body)["id"])
        self.assertEqual(self.transition(ids[1], "ORDER_STATUS_PAID").status, 200)
        self.assertEqual(self.list_ids("customerId=" + customer, page_size=1), ids[::-1])
        self.assertEqual(self.list_ids("customerId=%s&status=ORDER_STATUS_PAID" % customer),
                         [ids[1]])
        self.assertEqual(self.list_ids("customerId=%s&status=ORDER_STATUS_PLACED" % customer),
                         [ids[2], ids[0]])

    # ---------------------------------------------------------------- roles

    def test_read_only_key_cannot_create_or_transition(self):
        _, ro = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        customer = stack.new_customer(self.key)
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("rid"), ro, self.standard(customer))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.list_ids("customerId=" + customer), [])
        o = self.create(self.standard(customer))
        r = self.transition(o["id"], "ORDER_STATUS_PAID", key=ro)
        self.assertEqual(r.status, 403, r)
        g = rest("GET", "/v1/orders/" + o["id"], ro)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["status"], "ORDER_STATUS_PLACED")


class OrdersTenantIsolation(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.a_key = stack.create_tenant()
        cls.b, cls.b_key = stack.create_tenant()
        cls.sku = stack.unique("ISO")
        add_product(cls.a_key, cls.sku)

    def list_ids(self, key):
        r = rest("GET", "/v1/orders?pageSize=500", key)
        self.assertEqual(r.status, 200, r)
        return [o["id"] for o in r.json().get("orders", [])]

    def test_b_cannot_see_or_move_a_order(self):
        rid = stack.unique("rid")
        r = rest("POST", "/v1/orders?requestId=" + rid, self.a_key,
                 order(stack.new_customer(self.a_key), [(self.sku, 1, 100, 0)]))
        self.assertEqual(r.status, 200, r)
        oid = r.json()["id"]
        a_before = self.list_ids(self.a_key)
        self.assertIn(oid, a_before)
        r = rest("GET", "/v1/orders/" + oid, self.b_key)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "ORDER_NOT_FOUND")
        r = rest("POST", "/v1/orders/%s:transition" % oid, self.b_key,
                 {"toStatus": "ORDER_STATUS_CANCELLED", "requestId": stack.unique("rid")})
        self.assertEqual(r.status, 404, r)
        self.assertNotIn(oid, self.list_ids(self.b_key))
        # B's catalog lacks A's sku; B's use of the same requestId is its own.
        r = rest("POST", "/v1/orders?requestId=" + rid, self.b_key,
                 order(stack.new_customer(self.b_key), [(self.sku, 1, 100, 0)]))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.reason(), "UNKNOWN_SKU")
        self.assertEqual(self.list_ids(self.a_key), a_before)
        g = rest("GET", "/v1/orders/" + oid, self.a_key)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["status"], "ORDER_STATUS_PLACED")
        self.assertEqual(g.json()["etag"], "1")


class OrdersGrpc(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.stub = txn_grpc.TransactionServiceStub(channel)
        _, cls.key = stack.create_tenant()
        cls.md = stack.auth(cls.key)
        cls.sku = stack.unique("GO")
        add_product(cls.key, cls.sku)

    def call(self, method, request, md=None):
        return getattr(self.stub, method)(request, metadata=md or self.md, timeout=DEADLINE)

    def new(self, customer, quantity=2):
        return txn.Order(customer_id=customer, currency_code="eur",
                         channel=txn.SALES_CHANNEL_APP,
                         lines=[txn.OrderLine(sku=self.sku, quantity=quantity,
                                              unit_price_minor=250, discount_minor=50)])

    def test_create_get_transition(self):
        customer = stack.new_customer(self.key)
        created = self.call("CreateOrder", txn.CreateOrderRequest(
            order=self.new(customer), request_id=stack.unique("rid")))
        self.assertTrue(created.id)
        self.assertEqual(created.currency_code, "EUR")
        self.assertEqual(created.status, txn.ORDER_STATUS_PLACED)
        self.assertEqual(created.total_minor, 450)
        self.assertEqual(created.lines[0].line_total_minor, 450)
        got = self.call("GetOrder", txn.GetOrderRequest(order_id=created.id))
        self.assertEqual(got, created)
        paid = self.call("TransitionOrder", txn.TransitionOrderRequest(
            order_id=created.id, to_status=txn.ORDER_STATUS_PAID, request_id=stack.unique("rid")))
        self.assertEqual(paid.status, txn.ORDER_STATUS_PAID)
        self.assertNotEqual(paid.etag, created.etag)
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("TransitionOrder", txn.TransitionOrderRequest(
                order_id=created.id, to_status=txn.ORDER_STATUS_COMPLETED,
                request_id=stack.unique("rid")))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(stack.reason_of(cm.exception), "INVALID_ORDER_TRANSITION")
        self.assertIn("paid", cm.exception.details())
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("CreateOrder", txn.CreateOrderRequest(order=self.new(customer)))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("GetOrder", txn.GetOrderRequest(order_id=str(uuid.uuid4())))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(stack.reason_of(cm.exception), "ORDER_NOT_FOUND")

    def test_concurrent_duplicate_creates_make_one_order(self):
        customer = stack.new_customer(self.key)
        rid = stack.unique("rid")
        request = txn.CreateOrderRequest(order=self.new(customer), request_id=rid)
        results = [None] * 5
        start = threading.Barrier(5, timeout=DEADLINE)

        def worker(i):
            try:
                start.wait()
                results[i] = self.call("CreateOrder", request)
            except Exception as e:  # recorded and asserted below
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=3 * DEADLINE)
        for i, r in enumerate(results):
            self.assertIsInstance(r, txn.Order, "call %d: %r" % (i, r))
        self.assertEqual(len({r.id for r in results}), 1, results)
        for r in results[1:]:
            self.assertEqual(r, results[0])
        listed = self.call("ListOrders", txn.ListOrdersRequest(customer_id=customer,
                                                               page_size=10))
        self.assertEqual([o.id for o in listed.orders], [results[0].id])


if __name__ == "__main__":
    unittest.main()
