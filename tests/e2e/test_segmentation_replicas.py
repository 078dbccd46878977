"""Two segmentation replicas on one machine give what one gives.

The same story runs twice through the gateway, each time in a new tenant:
customers, orders, a segment created, edited, a new order that moves a
customer in, a dry run. First with the stack's one segmentation process;
then with two replicas instead (each holding the customers of half the event
partitions, SegmentationReplicaService between them; the gateway and
customer-store reach replica 0, as a Kubernetes Service would reach either).
Both runs must give the same counts, members, dry run and the same
segment.entered / exited events (customers compared by their place in the
story). Replica 1 answers the same counts when asked directly, each replica
holds a part of the customers, and when one replica is stopped the other
still answers (counts from the stored memberships). Last, one process
replaces the two: it rebuilds the same state and publishes nothing again.

This module stops and starts services of the stack, so the stack is not
reused after it (every e2e module starts its own)."""

import importlib
import time
from urllib.parse import quote as q

import grpc
from google.protobuf import timestamp_pb2

import stack
from stack import rest, wait_for

DEADLINE = 10  # seconds, on every gRPC call
CUSTOMERS = 24
REPLICA1_GRPC = stack.port("segmentation") + 100
REPLICA1_METRICS = stack.port("segmentation", "metrics") + 100

erp = erp_grpc = txn = seg = seg_grpc = rep = rep_grpc = None
channel = None


def setUpModule():
    global erp, erp_grpc, txn, seg, seg_grpc, rep, rep_grpc, channel
    stack.start()
    txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
    erp = importlib.import_module("crm.transaction.v1.erp_pb2")
    erp_grpc = importlib.import_module("crm.transaction.v1.erp_pb2_grpc")
    seg = importlib.import_module("crm.segmentation.v1.segmentation_pb2")
    seg_grpc = importlib.import_module("crm.segmentation.v1.segmentation_pb2_grpc")
    rep = importlib.import_module("crm.segmentation.v1.replica_pb2")
    rep_grpc = importlib.import_module("crm.segmentation.v1.replica_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def start_replicas():
    """Replaces the stack's segmentation with two replicas (0 on its port)."""
    stack.stop_service("segmentation")
    addresses = "%s:%d,%s:%d" % (stack.HOST, stack.port("segmentation"), stack.HOST,
                                 REPLICA1_GRPC)
    stack.start_service("segmentation", name="segmentation-0", CRM_SEGMENTATION_REPLICAS=addresses,
                        CRM_SEGMENTATION_ORDINAL="0")
    stack.start_service("segmentation", name="segmentation-1", CRM_SEGMENTATION_REPLICAS=addresses,
                        CRM_SEGMENTATION_ORDINAL="1", CRM_GRPC_PORT=str(REPLICA1_GRPC),
                        CRM_METRICS_PORT=str(REPLICA1_METRICS))


class Story:
    """One tenant's customers and orders; every figure keyed by the
    customers' places (0..CUSTOMERS-1), not their ids."""

    def __init__(self, test):
        self.t = test
        tenant, self.key = stack.create_tenant()
        self.tenant = tenant["id"]
        r = rest("POST", "/v1/products", self.key,
                 {"sku": "TEA", "name": "Tea", "categoryPath": ["Food", "Tea"],
                  "price": {"amountMinor": "100", "currencyCode": "CHF"}, "active": True})
        test.assertEqual(r.status, 200, r)
        self.ids = [stack.new_customer(self.key, givenName="C%d" % i) for i in range(CUSTOMERS)]
        self.place = {c: i for i, c in enumerate(self.ids)}
        # Every even customer i bought for i CHF, i + 1 days ago.
        now = time.time()
        self.orders([(self.ids[i], now - 86400 * (i + 1), 100 * i)
                     for i in range(0, CUSTOMERS, 2)])

    def orders(self, specs):
        batch = erp.IngestOrdersRequest(batch_id=stack.unique("b"))
        for customer, placed, cents in specs:
            o = batch.orders.add(external_id=stack.unique("o"), currency_code="CHF",
                                 customer_id=customer, channel=txn.SALES_CHANNEL_ERP,
                                 placed_time=timestamp_pb2.Timestamp(seconds=int(placed)))
            o.lines.add(sku="TEA", quantity=1, unit_price_minor=max(cents, 1))
        stub = erp_grpc.ErpIntegrationServiceStub(channel)
        resps = list(stub.IngestOrders(iter([batch]), metadata=stack.auth(self.key),
                                       timeout=DEADLINE))
        self.t.assertEqual(sum(r.created for r in resps), len(specs), resps)

    def preview(self, expression, sample=100):
        r = rest("POST", "/v1/segments:preview", self.key,
                 {"expression": expression, "sampleSize": sample})
        self.t.assertEqual(r.status, 200, r)
        j = r.json()
        return (int(j.get("count", "0")), int(j.get("customers", "0")),
                [self.place[c] for c in j.get("sampleCustomerIds", [])])

    def count(self, segment_id):
        r = rest("GET", "/v1/segments/" + segment_id, self.key)
        self.t.assertEqual(r.status, 200, r)
        return int(r.json().get("memberCount", "0"))

    def count_if_up(self, segment_id):
        r = rest("GET", "/v1/segments/" + segment_id, self.key)
        return int(r.json().get("memberCount", "0")) if r.status == 200 else None

    def members(self, segment_id):
        r = rest("GET", "/v1/segments/%s/members?pageSize=1000" % segment_id, self.key)
        self.t.assertEqual(r.status, 200, r)
        return sorted(self.place[m["customerId"]] for m in r.json().get("members", []))

    def events(self):
        rows = stack.query_db(
            "SELECT event_type, payload->>'segment_id', customer_id FROM segmentation.outbox "
            "WHERE tenant_id = '%s' AND event_type IN ('segment.entered', 'segment.exited')"
            % self.tenant)
        return sorted((t, s, self.place[c]) for t, s, c in rows)

    def run(self):
        """The story; returns what it saw."""
        seen = {}
        # Every purchase reached the engine before the segment is made.
        # (503 while the gateway's channel to a restarted engine reconnects.)
        wait_for("the orders to reach segmentation", lambda: rest(
            "POST", "/v1/segments:preview", self.key, {"expression": "orders(3650d) >= 1"}
        ).json().get("count") == str(CUSTOMERS // 2))
        r = rest("POST", "/v1/segments?requestId=" + q(stack.unique("s")), self.key,
                 {"segmentId": "big", "displayName": "Big", "expression": "spent(365d) >= 10"})
        self.t.assertEqual(r.status, 200, r)
        seen["created"] = int(r.json().get("memberCount", "0"))
        r = rest("PATCH", "/v1/segments/big?updateMask=expression&requestId=" +
                 q(stack.unique("u")), self.key, {"expression": "spent(365d) >= 6"})
        self.t.assertEqual(r.status, 200, r)
        seen["edited"] = int(r.json().get("memberCount", "0"))
        # Customer 1 buys for 30 CHF: in at once.
        self.orders([(self.ids[1], time.time() - 60, 3000)])
        wait_for("customer 1 to enter", lambda: 1 in self.members("big"))
        seen["count"] = self.count("big")
        seen["members"] = self.members("big")
        seen["preview"] = self.preview("orders(3650d) >= 1")[:2]  # count, customers
        seen["events"] = self.events()
        return seen


class TwoReplicasLikeOne(stack.E2ETestCase):
    def direct_count(self, tenant, segment_id, port):
        ch = grpc.insecure_channel("%s:%d" % (stack.HOST, port))
        try:
            got = seg_grpc.SegmentationServiceStub(ch).GetSegment(
                seg.GetSegmentRequest(segment_id=segment_id),
                metadata=stack.sealed_metadata(tenant), timeout=DEADLINE)
            return got.member_count
        finally:
            ch.close()

    def held(self, tenant, port):
        """How many of the tenant's customers the replica on `port` holds."""
        ch = grpc.insecure_channel("%s:%d" % (stack.HOST, port))
        try:
            got = rep_grpc.SegmentationReplicaServiceStub(ch).PreviewLocal(
                rep.PreviewLocalRequest(expression="orders(3650d) >= 0", sample_size=1),
                metadata=stack.sealed_metadata(tenant), timeout=DEADLINE)
            return got.customers
        finally:
            ch.close()

    def test_two_replicas_count_publish_and_list_like_one(self):
        one = Story(self)
        seen_one = one.run()
        self.assertEqual(seen_one["created"], 7, seen_one)  # customers 10, 12, ..., 22
        self.assertEqual(seen_one["edited"], 9, seen_one)   # and 6, 8
        self.assertEqual(seen_one["count"], 10, seen_one)   # and 1

        start_replicas()
        two = Story(self)
        seen_two = two.run()
        self.assertEqual(seen_two, seen_one)
        # Replica 1 answers alike, and each replica holds a part.
        self.assertEqual(self.direct_count(two.tenant, "big", REPLICA1_GRPC), seen_one["count"])
        held = [self.held(two.tenant, stack.port("segmentation")),
                self.held(two.tenant, REPLICA1_GRPC)]
        self.assertEqual(sum(held), CUSTOMERS, held)
        self.assertTrue(all(0 < h < CUSTOMERS for h in held), held)
        # The first tenant, served by one process before, is split alike.
        self.assertEqual(one.count("big"), seen_one["count"])
        self.assertEqual(one.events(), seen_one["events"])

        # Replica 1 stops: replica 0 still counts (from the stored rows);
        # a dry run needs every replica and says so.
        stack.stop_service("segmentation-1")
        self.assertEqual(two.count("big"), seen_one["count"])
        r = rest("POST", "/v1/segments:preview", two.key, {"expression": "orders(3650d) >= 1"})
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.reason(), "REPLICA_UNAVAILABLE", r)

        # One process replaces the two: the same state, nothing published
        # again. (It answers refits at once: CRM_CLV_REFIT_WAIT=0s, below.)
        stack.stop_service("segmentation-0")
        stack.start_service("segmentation", CRM_CLV_REFIT_WAIT="0s")
        for story in (one, two):
            # The gateway's channel reconnects after a back-off: 503 meanwhile.
            wait_for("the rebuilt count", lambda: story.count_if_up("big") == seen_one["count"])
            self.assertEqual(story.members("big"), seen_one["members"])
            self.assertEqual(story.preview("orders(3650d) >= 1")[:2], seen_one["preview"])
            self.assertEqual(story.events(), seen_one["events"])

        # An on-demand refit longer than the wait goes on in the background:
        # 409 REFIT_RUNNING, then the same requestId answers its result (here
        # the refusal of too few repeat buyers, replayed).
        path, body = "/v1/models/clv:refit", {"requestId": stack.unique("refit")}
        r = rest("POST", path, two.key, body)
        self.assertEqual((r.status, r.reason()), (409, "REFIT_RUNNING"), r)
        done = wait_for("the refit's result", lambda: (lambda x: x if x.status != 409 else None)(
            rest("POST", path, two.key, body)))
        self.assertEqual((done.status, done.reason()), (400, "INSUFFICIENT_DATA"), done)
        again = rest("POST", path, two.key, body)
        self.assertEqual((again.status, again.body), (done.status, done.body))
