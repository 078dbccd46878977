"""ERP integration (ErpIntegrationService) through the gateway's gRPC port:
bidirectional IngestOrders, server-streaming ExportOrders, roles, tenants."""

import importlib
import unittest
import uuid

import grpc

import stack
from stack import rest

DEADLINE = 30  # seconds, on every gRPC call

erp = erp_grpc = txn = None
channel = None


def setUpModule():
    global erp, erp_grpc, txn, channel
    stack.start()
    txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
    erp = importlib.import_module("crm.transaction.v1.erp_pb2")
    erp_grpc = importlib.import_module("crm.transaction.v1.erp_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def add_product(key, sku):
    r = rest("POST", "/v1/products", key,
             {"sku": sku, "name": "Product " + sku, "categoryPath": ["Music", "Jazz"],
              "price": {"amountMinor": "1990", "currencyCode": "CHF"}, "active": True})
    if r.status != 200:
        raise AssertionError("create product failed: %r" % r)


class Erp(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.admin = stack.create_tenant()
        _, cls.key = stack.create_key(cls.admin, ["ROLE_INTEGRATION"])
        cls.sku_a = stack.unique("EA")
        cls.sku_b = stack.unique("EB")
        add_product(cls.admin, cls.sku_a)
        add_product(cls.admin, cls.sku_b)
        cls.customer = stack.new_customer(cls.admin)
        cls.stub = erp_grpc.ErpIntegrationServiceStub(channel)

    def order(self, external_id, customer=None, sku=None, quantity=2, total=0):
        o = txn.Order(external_id=external_id, customer_id=customer or self.customer,
                      currency_code="chf", channel=txn.SALES_CHANNEL_ERP, store_id="erp",
                      total_minor=total)
        o.lines.add(sku=sku or self.sku_a, quantity=quantity, unit_price_minor=1990)
        o.lines.add(sku=self.sku_b, quantity=1, unit_price_minor=500, discount_minor=100)
        return o

    def ingest(self, batches, key=None):
        """Sends the batches on one stream; returns the responses."""
        reqs = [erp.IngestOrdersRequest(batch_id=b, orders=orders) for (b, orders) in batches]
        return list(self.stub.IngestOrders(iter(reqs), metadata=stack.auth(key or self.key),
                                           timeout=DEADLINE))

    def export(self, cursor="", page_size=0, key=None):
        """(orders, last cursor, messages) of one ExportOrders stream."""
        msgs = list(self.stub.ExportOrders(
            erp.ExportOrdersRequest(cursor=cursor, page_size=page_size),
            metadata=stack.auth(key or self.key), timeout=DEADLINE))
        orders = [o for m in msgs for o in m.orders]
        return orders, (msgs[-1].cursor if msgs else cursor), msgs

    def export_until(self, cursor, want, page_size=0, key=None, tries=50):
        """Exports from cursor until `want` orders came (the export lags behind
        transactions still in flight anywhere in the database)."""
        got = []
        for _ in range(tries):
            orders, cursor, msgs = self.export(cursor, page_size, key)
            got += orders
            self.assertTrue(msgs[-1].caught_up)
            if len(got) >= want:
                break
            import time
            time.sleep(0.1)
        return got, cursor

    def test_ingest_two_batches_resend_one_and_export_since_cursor(self):
        tag = stack.unique("E")
        first = [self.order("%s-%d" % (tag, i)) for i in range(3)]
        second = [self.order("%s-%d" % (tag, i)) for i in range(3, 5)]
        _, start_cursor, _ = self.export()  # where this tenant's export stands
        resp = self.ingest([("b1", first), ("b2", second)])
        self.assertEqual(len(resp), 2)
        self.assertEqual([r.batch_id for r in resp], ["b1", "b2"])
        self.assertEqual((resp[0].created, resp[1].created), (3, 2))
        created = {r.external_id: r.order_id for b in resp for r in b.results}
        for b in resp:
            for i, r in enumerate(b.results):
                self.assertEqual(r.index, i)
                self.assertEqual(r.outcome, erp.IngestOrderResult.OUTCOME_CREATED)
                self.assertTrue(r.order_id)

        # The same first batch again: nothing new, the same ids.
        again = self.ingest([("b1", first)])
        self.assertEqual(again[0].created, 0)
        self.assertEqual(again[0].already_existing, 3)
        for r in again[0].results:
            self.assertEqual(r.outcome, erp.IngestOrderResult.OUTCOME_ALREADY_EXISTS)
            self.assertEqual(r.order_id, created[r.external_id])

        # The orders are ordinary orders.
        o = rest("GET", "/v1/orders/" + created[tag + "-0"], self.admin)
        self.assertEqual(o.status, 200, o)
        self.assertEqual(int(o.json()["totalMinor"]), 2 * 1990 + 400)
        self.assertEqual(o.json()["status"], "ORDER_STATUS_PLACED")

        # Export since the cursor taken before: exactly these five, once.
        orders, cursor = self.export_until(start_cursor, 5, page_size=2)
        mine = [x for x in orders if x.external_id.startswith(tag)]
        self.assertEqual(sorted(x.external_id for x in mine), sorted(created))
        self.assertEqual(len(mine), len(set(x.id for x in mine)))
        for x in mine:
            self.assertEqual(x.id, created[x.external_id])
            self.assertEqual(len(x.lines), 2)
            self.assertEqual(x.total_minor, 2 * 1990 + 400)
        # Pages of 2: every message but the last is full and not caught up.
        _, _, msgs = self.export(start_cursor, page_size=2)
        for m in msgs[:-1]:
            self.assertEqual(len(m.orders), 2)
            self.assertFalse(m.caught_up)
        self.assertTrue(msgs[-1].caught_up)
        # Resuming from the last cursor: nothing new.
        rest_orders, _, msgs = self.export(cursor)
        self.assertEqual(rest_orders, [])
        self.assertEqual(len(msgs), 1)
        # A change moves an order after the cursor.
        r = rest("POST", "/v1/orders/%s:transition" % created[tag + "-1"], self.admin,
                 {"toStatus": "ORDER_STATUS_PAID", "requestId": stack.unique("rid")})
        self.assertEqual(r.status, 200, r)
        changed, _ = self.export_until(cursor, 1)
        self.assertEqual([x.external_id for x in changed], [tag + "-1"])
        self.assertEqual(changed[0].status, txn.ORDER_STATUS_PAID)

    def test_invalid_rows_are_reported_and_not_written(self):
        tag = stack.unique("R")
        good = self.order(tag + "-ok")
        no_external = self.order("")
        unknown_sku = self.order(tag + "-sku", sku="NO-SUCH-SKU")
        bad_total = self.order(tag + "-total", total=1)
        bad_customer = self.order(tag + "-cust", customer="not-a-uuid")
        resp = self.ingest([("mixed", [good, no_external, unknown_sku, bad_total,
                                       bad_customer])])[0]
        self.assertEqual((resp.created, resp.rejected), (1, 4))
        res = list(resp.results)
        self.assertEqual(res[0].outcome, erp.IngestOrderResult.OUTCOME_CREATED)
        expect = [(1, "external_id", "INVALID_FIELD"), (2, "lines[0].sku", "UNKNOWN_SKU"),
                  (3, "total_minor", "INVALID_FIELD"), (4, "customer_id", "INVALID_FIELD")]
        for i, field, reason in expect:
            self.assertEqual(res[i].outcome, erp.IngestOrderResult.OUTCOME_REJECTED, res[i])
            self.assertEqual(res[i].field, field, res[i])
            self.assertEqual(res[i].reason, reason, res[i])
            self.assertTrue(res[i].message)
            self.assertFalse(res[i].order_id)
        # The rejected ones are not there: sending them fixed creates them.
        fixed = self.ingest([("fixed", [self.order(tag + "-sku"), self.order(tag + "-total")])])
        self.assertEqual(fixed[0].created, 2)

    def test_customers_by_the_erps_own_numbers_twice_creates_nothing_new(self):
        _, admin = stack.create_tenant()
        _, key = stack.create_key(admin, ["ROLE_INTEGRATION"])
        add_product(admin, self.sku_a)
        add_product(admin, self.sku_b)
        tag = stack.unique("N")
        known = stack.new_customer(admin, externalIds=[{"source": "erp", "value": tag + "-K"}])

        def with_ref(external_id, number, given=""):
            o = self.order(external_id)
            o.ClearField("customer_id")
            o.customer_ref.external_id_source = "erp"
            o.customer_ref.external_id = number
            o.customer_ref.given_name = given
            return o

        batch = [with_ref(tag + "-1", tag + "-K"), with_ref(tag + "-2", tag + "-NEW", "Nia"),
                 with_ref(tag + "-3", tag + "-NEW")]
        # The tenant does not create unknown customers (the default).
        refused = self.ingest([("b", batch)], key=key)[0]
        self.assertEqual((refused.created, refused.rejected), (1, 2))
        self.assertEqual(refused.results[1].reason, "CUSTOMER_NOT_RESOLVED")
        self.assertEqual(refused.results[1].field, "customer_ref")
        r = rest("GET", "/v1/orders/" + refused.results[0].order_id, admin)
        self.assertEqual(r.json()["customerId"], known)
        before = stack.count_customers(admin)

        s = rest("PATCH", "/v1/orderSettings", admin, {"createUnknownCustomers": True})
        self.assertEqual(s.status, 200, s)
        first = self.ingest([("b", batch)], key=key)[0]
        self.assertEqual((first.created, first.already_existing, first.rejected), (2, 1, 0))
        self.assertEqual(stack.count_customers(admin), before + 1)  # one for both orders
        o2 = rest("GET", "/v1/orders/" + first.results[1].order_id, admin).json()
        o3 = rest("GET", "/v1/orders/" + first.results[2].order_id, admin).json()
        self.assertEqual(o2["customerId"], o3["customerId"])
        c = rest("GET", "/v1/customers/" + o2["customerId"], admin).json()
        self.assertEqual(c["givenName"], "Nia")
        self.assertEqual(c["externalIds"], [{"source": "erp", "value": tag + "-NEW"}])

        # The whole history again, plus one more order of the new customer.
        again = self.ingest([("b", batch + [with_ref(tag + "-4", tag + "-NEW")])], key=key)[0]
        self.assertEqual((again.created, again.already_existing), (1, 3))
        self.assertEqual(stack.count_customers(admin), before + 1)
        o4 = rest("GET", "/v1/orders/" + again.results[3].order_id, admin).json()
        self.assertEqual(o4["customerId"], o2["customerId"])

    def test_batch_too_large_ends_the_stream_after_earlier_batches(self):
        tag = stack.unique("L")
        big = [self.order("%s-%d" % (tag, i)) for i in range(1001)]
        reqs = iter([erp.IngestOrdersRequest(batch_id="small", orders=[self.order(tag + "-s")]),
                     erp.IngestOrdersRequest(batch_id="big", orders=big)])
        call = self.stub.IngestOrders(reqs, metadata=stack.auth(self.key), timeout=DEADLINE)
        first = next(call)
        self.assertEqual(first.created, 1)
        with self.assertRaises(grpc.RpcError) as cm:
            next(call)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("1000", cm.exception.details())
        self.assertEqual(stack.reason_of(cm.exception), "INVALID_FIELD")
        # The earlier batch stays; nothing of the big one was written.
        again = self.ingest([("check", [self.order(tag + "-s"), self.order(tag + "-0")])])[0]
        self.assertEqual(again.already_existing, 1)
        self.assertEqual(again.created, 1)

    def test_roles_without_integration_are_denied(self):
        for role in ("ROLE_SALES", "ROLE_READ_ONLY", "ROLE_MARKETER"):
            _, key = stack.create_key(self.admin, [role])
            with self.assertRaises(grpc.RpcError) as cm:
                self.ingest([("b", [self.order(stack.unique("D"))])], key=key)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED, role)
            self.assertEqual(stack.reason_of(cm.exception), "PERMISSION_DENIED_FOR_ROLE")
            with self.assertRaises(grpc.RpcError) as cm:
                self.export(key=key)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED, role)
        # admin may.
        resp = self.ingest([("b", [self.order(stack.unique("A"))])], key=self.admin)
        self.assertEqual(resp[0].created, 1)
        # No key at all.
        with self.assertRaises(grpc.RpcError) as cm:
            list(self.stub.ExportOrders(erp.ExportOrdersRequest(), timeout=DEADLINE))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_tenants_are_isolated(self):
        other_tenant, other_admin = stack.create_tenant()
        _, other_key = stack.create_key(other_admin, ["ROLE_INTEGRATION"])
        add_product(other_admin, self.sku_a)
        add_product(other_admin, self.sku_b)
        ext = stack.unique("X")
        mine = self.ingest([("b", [self.order(ext)])])[0].results[0]
        # Our customer does not exist for them.
        refused = self.ingest([("b", [self.order(ext)])], key=other_key)[0].results[0]
        self.assertEqual(refused.outcome, erp.IngestOrderResult.OUTCOME_REJECTED)
        self.assertEqual((refused.field, refused.reason), ("customer_id", "CUSTOMER_NOT_FOUND"))
        theirs = self.ingest([("b", [self.order(ext, customer=stack.new_customer(other_admin))])],
                             key=other_key)[0].results[0]
        # The same external id in another tenant is another order.
        self.assertEqual(theirs.outcome, erp.IngestOrderResult.OUTCOME_CREATED)
        self.assertNotEqual(theirs.order_id, mine.order_id)
        # Their export has their order only, never ours.
        orders, cursor = self.export_until("", 1, key=other_key)
        self.assertEqual([o.id for o in orders], [theirs.order_id])
        # Our cursor is no good for them.
        _, my_cursor, _ = self.export()
        with self.assertRaises(grpc.RpcError) as cm:
            self.export(my_cursor, key=other_key)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(stack.reason_of(cm.exception), "INVALID_PAGE_TOKEN")
        # A tampered cursor neither.
        with self.assertRaises(grpc.RpcError) as cm:
            self.export("x" + my_cursor)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_streaming_methods_have_no_rest_route(self):
        doc = rest("GET", "/openapi.json").json()
        self.assertNotIn("IngestOrders", str(doc))
        self.assertNotIn("ExportOrders", str(doc))


if __name__ == "__main__":
    unittest.main()
