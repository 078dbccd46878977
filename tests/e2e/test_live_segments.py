"""Live segments (engine 2) through the gateway: a segment is saved, orders
move customers in, time moves them out (with no event arriving), each change
is published once, and the segment's API refuses bad input clearly."""

import importlib
import time
import unittest
from urllib.parse import quote as q

import grpc
from google.protobuf import timestamp_pb2

import stack
from stack import rest, wait_for

DEADLINE = 10  # seconds, on every gRPC call

erp = erp_grpc = txn = seg = seg_grpc = None
channel = None


def setUpModule():
    global erp, erp_grpc, txn, seg, seg_grpc, channel
    stack.start()
    txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
    erp = importlib.import_module("crm.transaction.v1.erp_pb2")
    erp_grpc = importlib.import_module("crm.transaction.v1.erp_pb2_grpc")
    seg = importlib.import_module("crm.segmentation.v1.segmentation_pb2")
    seg_grpc = importlib.import_module("crm.segmentation.v1.segmentation_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def create_segment(key, segment_id, expression, name=None, request_id=None):
    return rest("POST", "/v1/segments?requestId=" + q(request_id or stack.unique("seg")), key,
                {"segmentId": segment_id, "displayName": name or segment_id,
                 "expression": expression})


def published(tenant, event_type, customer, segment_id):
    rows = stack.query_db(
        "SELECT count(*) FROM segmentation.outbox WHERE tenant_id = '%s' AND event_type = '%s' "
        "AND customer_id = '%s' AND payload->>'segment_id' = '%s'"
        % (tenant, event_type, customer, segment_id))
    return int(rows[0][0])


class LiveMembership(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        tenant, cls.key = stack.create_tenant()
        cls.tenant = tenant["id"]
        r = rest("POST", "/v1/products", cls.key,
                 {"sku": "TEA", "name": "Tea", "categoryPath": ["Food", "Tea"],
                  "price": {"amountMinor": "1200", "currencyCode": "CHF"}, "active": True})
        assert r.status == 200, r

    def order(self, customer, placed_epoch, cents=1200):
        placed = timestamp_pb2.Timestamp(seconds=int(placed_epoch))
        o = txn.Order(external_id=stack.unique("o"), currency_code="CHF", customer_id=customer,
                      channel=txn.SALES_CHANNEL_ERP, placed_time=placed)
        o.lines.add(sku="TEA", quantity=1, unit_price_minor=cents)
        stub = erp_grpc.ErpIntegrationServiceStub(channel)
        resps = list(stub.IngestOrders(iter([erp.IngestOrdersRequest(batch_id=stack.unique("b"),
                                                                     orders=[o])]),
                                       metadata=stack.auth(self.key), timeout=DEADLINE))
        self.assertEqual(sum(r.created for r in resps), 1, resps)

    def count(self, segment_id):
        r = rest("GET", "/v1/segments/" + segment_id, self.key)
        self.assertEqual(r.status, 200, r)
        return int(r.json().get("memberCount", "0"))

    def test_orders_move_customers_in_and_time_moves_them_out(self):
        self.ada = stack.new_customer(self.key, givenName="Ada")
        r = create_segment(self.key, "bought-last-hour", "purchased(1h) AND spent(1h) = 7.77",
                           "Bought for 7.77 in the last hour")
        self.assertEqual(r.status, 200, r)
        s = r.json()
        self.assertEqual((s["version"], s.get("memberCount", "0"), s["readsTime"]),
                         ("1", "0", True), s)
        # Ada's order was placed 59 min 48 s ago: she is in at once and out
        # 12 s later, with no further event.
        placed = int(time.time()) - 3600 + 12
        self.order(self.ada, placed, cents=777)
        wait_for("Ada to enter", lambda: self.count("bought-last-hour") == 1)
        self.assertGreater(placed + 3600, time.time(), "the test was too slow to see her in")
        r = rest("GET", "/v1/customers/%s/segments" % self.ada, self.key)
        self.assertEqual([x["segmentId"] for x in r.json().get("segments", [])],
                         ["bought-last-hour"], r)
        r = rest("GET", "/v1/segments/bought-last-hour/members", self.key)
        self.assertEqual([m["customerId"] for m in r.json()["members"]], [self.ada], r)
        wait_for("Ada to leave", lambda: self.count("bought-last-hour") == 0, timeout=40)
        self.assertGreaterEqual(time.time(), placed + 3600)
        self.assertEqual(published(self.tenant, "segment.entered", self.ada, "bought-last-hour"), 1)
        self.assertEqual(published(self.tenant, "segment.exited", self.ada, "bought-last-hour"), 1)
        r = rest("GET", "/v1/customers/%s/segments" % self.ada, self.key)
        self.assertEqual(r.json().get("segments", []), [], r)

    def test_profile_fields_and_attributes_follow_the_customer_record(self):
        ada = stack.new_customer(self.key, givenName="Ada",
                                 postalAddress={"locality": "Zürich", "countryCode": "CH"},
                                 lifecycleStage="LIFECYCLE_STAGE_CUSTOMER",
                                 attributes={"plan": {"stringValue": "gold"},
                                             "seats": {"intValue": "12"}})
        bob = stack.new_customer(self.key, givenName="Bob",
                                 postalAddress={"countryCode": "DE"},
                                 attributes={"plan": {"stringValue": "gold"}})
        r = create_segment(self.key, "swiss-gold",
                           'profile.country = "CH" AND profile.city = "Zürich" AND '
                           'attr.plan = "gold" AND attr.seats >= 10 AND '
                           'profile.lifecycle_stage = "customer"')
        self.assertEqual(r.status, 200, r)
        wait_for("Ada to be counted", lambda: self.count("swiss-gold") == 1)
        r = rest("GET", "/v1/segments/swiss-gold/members", self.key)
        self.assertEqual([m["customerId"] for m in r.json()["members"]], [ada], r)
        # Ada moves to Germany: she leaves; Bob moves to Zürich and buys
        # seats: he enters. Neither event is an order or a behaviour event.
        r = rest("PATCH", "/v1/customers/%s?updateMask=postalAddress" % ada, self.key,
                 {"postalAddress": {"locality": "Berlin", "countryCode": "DE"}})
        self.assertEqual(r.status, 200, r)
        r = rest("PATCH", "/v1/customers/%s?updateMask=postalAddress,attributes,lifecycleStage"
                 % bob, self.key,
                 {"postalAddress": {"locality": "Zürich", "countryCode": "CH"},
                  "lifecycleStage": "LIFECYCLE_STAGE_CUSTOMER",
                  "attributes": {"plan": {"stringValue": "gold"}, "seats": {"intValue": "40"}}})
        self.assertEqual(r.status, 200, r)
        wait_for("Bob in, Ada out", lambda: [m["customerId"] for m in rest(
            "GET", "/v1/segments/swiss-gold/members", self.key).json().get("members", [])]
            == [bob])
        self.assertEqual(published(self.tenant, "segment.exited", ada, "swiss-gold"), 1)
        self.assertEqual(published(self.tenant, "segment.entered", bob, "swiss-gold"), 1)
        # A comparison whose literal does not fit a declared type is refused;
        # one on an attribute is typed by its literal.
        r = rest("POST", "/v1/segments:preview", self.key,
                 {"expression": 'profile.country > 3'})
        self.assertEqual(r.status, 400, r)
        r = rest("POST", "/v1/segments:preview", self.key, {"expression": 'attr.seats >= 20'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("sampleCustomerIds"), [bob], r)
        r = rest("DELETE", "/v1/segments/swiss-gold?requestId=" + stack.unique("d"), self.key)
        self.assertEqual(r.status, 200, r)

    def test_order_conditions_read_lines_and_catalog_categories(self):
        cleo = stack.new_customer(self.key, givenName="Cleo")
        r = create_segment(self.key, "tea-drinkers",
                           'bought(category = "Food", 30d) AND bought(sku = "TEA", 30d) AND '
                           'NOT bought(category = "Food/Coffee", 30d)')
        self.assertEqual(r.status, 200, r)
        self.order(cleo, time.time() - 60)
        wait_for("Cleo to enter", lambda: cleo in [m["customerId"] for m in rest(
            "GET", "/v1/segments/tea-drinkers/members", self.key).json().get("members", [])])
        # The catalog moves TEA to Food/Coffee: a product event, no order.
        r = rest("PATCH", "/v1/products/TEA?updateMask=categoryPath", self.key,
                 {"categoryPath": ["Food", "Coffee"]})
        self.assertEqual(r.status, 200, r)
        wait_for("Cleo to leave", lambda: cleo not in [m["customerId"] for m in rest(
            "GET", "/v1/segments/tea-drinkers/members", self.key).json().get("members", [])])
        r = rest("PATCH", "/v1/products/TEA?updateMask=categoryPath", self.key,
                 {"categoryPath": ["Food", "Tea"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(published(self.tenant, "segment.exited", cleo, "tea-drinkers"), 1)
        # The class's other tests order tea too: the segment goes.
        r = rest("DELETE", "/v1/segments/tea-drinkers?requestId=" + stack.unique("d"), self.key)
        self.assertEqual(r.status, 200, r)

    def test_edit_versions_preview_export_and_delete(self):
        self.bob = stack.new_customer(self.key, givenName="Bob")
        self.order(self.bob, time.time() - 60, cents=50000)
        r = create_segment(self.key, "big-spenders", "spent(365d) >= 100")
        self.assertEqual(r.status, 200, r)
        wait_for("Bob to enter", lambda: self.count("big-spenders") == 1)
        etag = r.json()["etag"]
        # A dry run before the edit: same count for a lower threshold on CHF.
        r = rest("POST", "/v1/segments:preview", self.key,
                 {"expression": 'spent(currency = "CHF", 365d) >= 400', "sampleSize": 5})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["count"], r.json()["sampleCustomerIds"]), ("1", [self.bob]), r)
        r = rest("PATCH", "/v1/segments/big-spenders?requestId=" + stack.unique("e"), self.key,
                 {"expression": "spent(365d) >= 1000", "etag": etag})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["version"], r.json().get("memberCount", "0")), ("2", "0"), r)
        self.assertEqual(published(self.tenant, "segment.exited", self.bob, "big-spenders"), 1)
        # The old etag is stale now.
        r = rest("PATCH", "/v1/segments/big-spenders?requestId=" + stack.unique("e"), self.key,
                 {"displayName": "x", "etag": etag})
        self.assertEqual((r.status, r.reason()), (412, "ETAG_MISMATCH"), r)
        r = rest("PATCH", "/v1/segments/big-spenders?requestId=" + stack.unique("e"), self.key,
                 {"expression": "spent(365d) >= 100"})
        self.assertEqual((r.json()["version"], r.json().get("memberCount", "0")), ("3", "1"), r)
        # Export over gRPC (server stream).
        stub = seg_grpc.SegmentationServiceStub(channel)
        members = [m.customer_id for resp in stub.ExportSegmentMembers(
            seg.ExportSegmentMembersRequest(segment_id="big-spenders"),
            metadata=stack.auth(self.key), timeout=DEADLINE) for m in resp.members]
        self.assertEqual(members, [self.bob])
        r = rest("GET", "/v1/segments", self.key)
        self.assertIn("big-spenders", [x["segmentId"] for x in r.json()["segments"]])
        r = rest("DELETE", "/v1/segments/big-spenders?requestId=" + stack.unique("d"), self.key)
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/v1/segments/big-spenders", self.key)
        self.assertEqual((r.status, r.reason()), (404, "SEGMENT_NOT_FOUND"), r)

    def test_a_retried_create_answers_the_first_call(self):
        rid = stack.unique("same")
        first = create_segment(self.key, "retried", "NOT purchased(30d)", request_id=rid)
        again = create_segment(self.key, "retried", "NOT purchased(30d)", request_id=rid)
        self.assertEqual((first.status, again.status), (200, 200))
        self.assertEqual(first.json()["createTime"], again.json()["createTime"])
        other = create_segment(self.key, "retried", "NOT purchased(7d)", request_id=rid)
        self.assertEqual((other.status, other.reason()), (422, "IDEMPOTENCY_KEY_REUSED"), other)


class ProfilingSettings(stack.E2ETestCase):
    """The tenant's setting "profiling needs an explicit opt-in", on its own tenant."""

    @classmethod
    def setUpClass(cls):
        _, cls.key = stack.create_tenant()

    def members(self, segment_id):
        r = rest("GET", "/v1/segments/%s/members" % segment_id, self.key)
        self.assertEqual(r.status, 200, r)
        return sorted(m["customerId"] for m in r.json().get("members", []))

    def consent(self, customer, status):
        r = rest("POST", "/v1/customers/%s/consents" % customer, self.key,
                 {"channel": "CONSENT_CHANNEL_WEB", "purpose": "CONSENT_PURPOSE_PROFILING",
                  "status": status})
        self.assertEqual(r.status, 200, r)

    def test_opt_in_requirement_moves_behavioural_members(self):
        r = rest("GET", "/v1/segmentation/settings", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"etag": "0", "timeZone": "UTC"}, r)  # the defaults
        ida = stack.new_customer(self.key, givenName="Ida")
        jon = stack.new_customer(self.key, givenName="Jon")
        for c in (ida, jon):
            r = rest("POST", "/v1/events:track", self.key,
                     {"events": [{"type": "product.viewed", "customerId": c,
                                  "properties": {"sku": "SKU-1"}}]})
            self.assertEqual((r.status, r.json().get("accepted")), (200, 1), r)
        self.consent(ida, "CONSENT_STATUS_OPTED_IN")
        r = create_segment(self.key, "viewers", "count(product.viewed, 7d) >= 1")
        self.assertEqual(r.status, 200, r)
        r = create_segment(self.key, "everyone-known", 'NOT profile.country = "ZZ"')
        self.assertEqual(r.status, 200, r)
        wait_for("both to be viewers", lambda: self.members("viewers") == sorted([ida, jon]))

        # Without a request id, with a stale etag, from a marketer: refused.
        body = {"profilingRequiresOptIn": True}
        r = rest("PATCH", "/v1/segmentation/settings", self.key, body)
        self.assertEqual(r.status, 400, r)
        r = rest("PATCH", "/v1/segmentation/settings?requestId=" + stack.unique("st"), self.key,
                 body, headers={"If-Match": '"7"'})
        self.assertEqual(r.status, 412, r)
        _, marketer = stack.create_key(self.key, ["ROLE_MARKETER"])
        r = rest("PATCH", "/v1/segmentation/settings?requestId=" + stack.unique("st"), marketer,
                 body)
        self.assertEqual(r.status, 403, r)
        r = rest("PATCH", "/v1/segmentation/settings?updateMask=owner&requestId=" +
                 stack.unique("st"), self.key, body)
        self.assertEqual(r.status, 400, r)

        request_id = stack.unique("st")
        r = rest("PATCH", "/v1/segmentation/settings?requestId=" + request_id, self.key, body,
                 headers={"If-Match": '"0"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json().get("profilingRequiresOptIn"), r.json().get("etag")),
                         (True, "1"), r)
        # Jon never opted in: he leaves the behavioural segment at once; the
        # profile segment keeps both.
        self.assertEqual(self.members("viewers"), [ida])
        self.assertEqual(self.members("everyone-known"), sorted([ida, jon]))
        # The retry answers the first call; the same key with another body is refused.
        again = rest("PATCH", "/v1/segmentation/settings?requestId=" + request_id, self.key, body,
                     headers={"If-Match": '"0"'})
        self.assertEqual((again.status, again.json().get("etag")), (200, "1"), again)
        r = rest("PATCH", "/v1/segmentation/settings?requestId=" + request_id, self.key,
                 {"profilingRequiresOptIn": False})
        self.assertEqual(r.status, 422, r)
        # Jon opts in: he is back.
        self.consent(jon, "CONSENT_STATUS_OPTED_IN")
        wait_for("Jon back", lambda: self.members("viewers") == sorted([ida, jon]))
        # Back to the default.
        r = rest("PATCH", "/v1/segmentation/settings?requestId=" + stack.unique("st"), self.key,
                 {"profilingRequiresOptIn": False})
        self.assertEqual((r.status, r.json().get("etag")), (200, "2"), r)
        self.assertEqual(rest("GET", "/v1/segmentation/settings", self.key).json().get("etag"),
                         "2")
        # The tenant's time zone: a name that is not IANA's is refused.
        r = rest("PATCH", "/v1/segmentation/settings?updateMask=timeZone&requestId=" +
                 stack.unique("st"), self.key, {"timeZone": "Mars/Olympus"})
        self.assertEqual((r.status, r.reason()), (400, "INVALID_FIELD"), r)
        r = rest("PATCH", "/v1/segmentation/settings?updateMask=timeZone&requestId=" +
                 stack.unique("st"), self.key, {"timeZone": "Europe/Zurich"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json().get("timeZone"), r.json().get("etag"),
                          r.json().get("profilingRequiresOptIn", False)),
                         ("Europe/Zurich", "3", False), r)


class BadInput(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        r = create_segment(cls.key, "base", "purchased(30d)")
        assert r.status == 200, r

    def assertRefused(self, r, status, reason, field=None):
        self.assertEqual((r.status, r.reason()), (status, reason), r)
        if field is not None:
            self.assertEqual(r.error_field(), field, r)

    def test_expressions_are_checked_with_line_and_column(self):
        r = create_segment(self.key, "bad", "purchased(30d) AND\n  (clv > ")
        self.assertRefused(r, 400, "SEGMENT_SYNTAX", "segment.expression")
        self.assertIn("line 2", r.json()["error"]["message"])
        self.assertRefused(create_segment(self.key, "bad", 'clv = "high"'), 400, "SEGMENT_INVALID")
        self.assertRefused(create_segment(self.key, "bad", "nosuchfield > 1"), 400,
                           "SEGMENT_INVALID")
        self.assertRefused(create_segment(self.key, "bad", 'in_segment("nope")'), 400,
                           "SEGMENT_INVALID")
        self.assertRefused(create_segment(self.key, "bad", "(" * 10000 + "clv > 1"), 400,
                           "SEGMENT_SYNTAX")

    def test_ids_names_and_cycles(self):
        self.assertRefused(create_segment(self.key, "Bad Id", "purchased(30d)"), 400,
                           "INVALID_FIELD", "segment.segment_id")
        self.assertRefused(create_segment(self.key, "base", "purchased(7d)"), 409,
                           "SEGMENT_EXISTS")
        r = create_segment(self.key, "on-base", 'in_segment("base")')
        self.assertEqual(r.status, 200, r)
        r = rest("PATCH", "/v1/segments/base?requestId=" + stack.unique("c"), self.key,
                 {"expression": 'in_segment("on-base")'})
        self.assertRefused(r, 400, "SEGMENT_CYCLE")
        self.assertIn("base -> on-base -> base", r.json()["error"]["message"])
        r = rest("DELETE", "/v1/segments/base?requestId=" + stack.unique("d"), self.key)
        self.assertRefused(r, 400, "SEGMENT_IN_USE")
        self.assertIn("on-base", r.json()["error"]["message"])

    def test_bodies_and_parameters(self):
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("u"), self.key,
                 {"segmentId": "x", "displayName": "x", "expression": "clv > 1", "colour": "red"})
        self.assertRefused(r, 400, "UNKNOWN_FIELD")
        r = rest("POST", "/v1/segments", self.key,
                 {"segmentId": "x", "displayName": "x", "expression": "clv > 1"})
        self.assertRefused(r, 400, "INVALID_FIELD", "request_id")
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("n"), self.key,
                 {"segmentId": "x", "displayName": "", "expression": "clv > 1"})
        self.assertRefused(r, 400, "INVALID_FIELD", "segment.display_name")
        r = rest("GET", "/v1/segments/base/members?pageToken=forged", self.key)
        self.assertEqual(r.status, 400, r)
        r = rest("GET", "/v1/segments/base/members?pageSize=-1", self.key)
        self.assertEqual(r.status, 400, r)
        r = rest("GET", "/v1/customers/not-a-uuid/segments", self.key)
        self.assertRefused(r, 400, "INVALID_FIELD", "customer_id")
        r = rest("POST", "/v1/segments:preview", self.key, {"expression": ""})
        self.assertRefused(r, 400, "INVALID_FIELD", "expression")
        r = rest("PATCH", "/v1/segments/base?requestId=" + stack.unique("m")
                 + "&updateMask=version", self.key, {"version": "9"})
        self.assertRefused(r, 400, "INVALID_FIELD", "update_mask")
        # Nothing above was saved.
        r = rest("GET", "/v1/segments", self.key)
        self.assertNotIn("x", [x["segmentId"] for x in r.json()["segments"]])

    def test_sales_may_read_but_not_write(self):
        _, sales = stack.create_key(self.key, ["ROLE_SALES"])
        self.assertEqual(rest("GET", "/v1/segments", sales).status, 200)
        r = create_segment(sales, "v", "purchased(30d)")
        self.assertEqual(r.status, 403, r)


if __name__ == "__main__":
    unittest.main()
