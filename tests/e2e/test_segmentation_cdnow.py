"""The CDNOW check of the segmentation engine, end to end: the 6,919
purchases of CDNOW_sample.txt go in as orders through the gateway (ERP
ingest, each naming its customer by external id), the engine keeps them from
the order events, a refit with as_of 1997-09-30 in weeks reproduces the
published BG/NBD and Gamma-Gamma figures, and two customers' scores read back
through the API match the published ones (../shared/data/README.md)."""

import datetime
import importlib
import os
import time
import unittest

import grpc
from google.protobuf import timestamp_pb2

import stack
from stack import rest

DEADLINE = 60  # seconds, on every gRPC call

erp = erp_grpc = txn = seg = seg_grpc = None
channel = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def shared_data(name):
    """A file of the shared data set: CRM_SHARED_DATA_DIR, else ../shared/data
    or ../../shared/data next to the project (as the unit tests look)."""
    dirs = [os.environ.get("CRM_SHARED_DATA_DIR", "")]
    dirs += [os.path.join(ROOT, "..", "shared", "data"),
             os.path.join(ROOT, "..", "..", "shared", "data")]
    for d in dirs:
        if d and os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise AssertionError("shared data file %s not found; set CRM_SHARED_DATA_DIR" % name)


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


def cdnow_orders():
    """One order per row: (row number, sample customer id, day, cents)."""
    rows = []
    with open(shared_data("CDNOW_sample.txt"), encoding="ascii") as f:
        for n, line in enumerate(f):
            _, cid, day, _, dollars = line.split()
            rows.append((n, cid, datetime.date(int(day[:4]), int(day[4:6]), int(day[6:])),
                         int(round(float(dollars) * 100))))
    return rows


def rel(got, want):
    return abs(got - want) / abs(want)


class Cdnow(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        r = rest("POST", "/v1/products", cls.key,
                 {"sku": "CD", "name": "Compact disc", "categoryPath": ["Music", "CDs"],
                  "price": {"amountMinor": "1500", "currencyCode": "USD"}, "active": True})
        assert r.status == 200, r
        r = rest("PATCH", "/v1/orderSettings", cls.key, {"createUnknownCustomers": True})
        assert r.status == 200, r
        cls.rows = cdnow_orders()
        cls.customer_of = {}  # sample id -> customer-store id
        stub = erp_grpc.ErpIntegrationServiceStub(channel)
        reqs = []
        for start in range(0, len(cls.rows), 1000):
            orders = []
            for n, cid, day, cents in cls.rows[start:start + 1000]:
                placed = timestamp_pb2.Timestamp(seconds=int(datetime.datetime(
                    day.year, day.month, day.day, 12, tzinfo=datetime.timezone.utc).timestamp()))
                o = txn.Order(external_id="cdnow-%d" % n, currency_code="USD",
                              channel=txn.SALES_CHANNEL_ERP, placed_time=placed)
                o.customer_ref.external_id_source = "cdnow"
                o.customer_ref.external_id = cid
                o.lines.add(sku="CD", quantity=1, unit_price_minor=cents)
                orders.append(o)
            reqs.append(erp.IngestOrdersRequest(batch_id="b%d" % start, orders=orders))
        created = 0
        order_ids = {}
        for resp in stub.IngestOrders(iter(reqs), metadata=stack.auth(cls.key),
                                      timeout=300):
            created += resp.created
            for res in resp.results:
                order_ids[res.external_id] = res.order_id
        assert created == len(cls.rows), (created, len(cls.rows))
        for cid in ("0001", "1516"):
            n = next(n for n, c, _, _ in cls.rows if c == cid)
            o = rest("GET", "/v1/orders/" + order_ids["cdnow-%d" % n], cls.key).json()
            cls.customer_of[cid] = o["customerId"]
        # The engine keeps purchases from the order events: wait until all are in.
        deadline = time.time() + 120
        while True:
            s = rest("GET", "/v1/rfm:summary?asOf=1998-06-30", cls.key)
            if s.status == 200 and s.json().get("customers") == 2357:
                break
            if time.time() > deadline:
                raise AssertionError("segmentation did not see every order: %r" % s)
            time.sleep(0.5)
        cls.seg = seg_grpc.SegmentationServiceStub(channel)

    def refit(self):
        r = rest("POST", "/v1/models/clv:refit", self.key,
                 {"requestId": "cdnow-refit", "asOf": "1997-09-30",
                  "settings": {"timeUnit": "TIME_UNIT_WEEKS"}}, timeout=60)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_refit_reproduces_the_published_parameters(self):
        m = self.refit()
        self.assertEqual((m["asOf"], m["timeUnit"], m["currencyCode"], m["customers"],
                          m["repeatCustomers"]),
                         ("1997-09-30", "TIME_UNIT_WEEKS", "USD", 2357, 946))
        # Full-precision MLE (tests/unit/segmentation): within 0.1 %.
        for name, want in (("r", 0.242596), ("alpha", 4.413649), ("a", 0.792924),
                           ("b", 2.425932)):
            self.assertLess(rel(m["bgNbd"][name], want), 1e-3, (name, m["bgNbd"]))
        self.assertAlmostEqual(m["bgNbdLogLikelihood"], -9582.4292, delta=0.01)
        for name, want in (("p", 6.249595), ("q", 3.744238), ("gamma", 15.443531)):
            self.assertLess(rel(m["gammaGamma"][name], want), 1e-3, (name, m["gammaGamma"]))
        self.assertAlmostEqual(m["gammaGammaLogLikelihood"], -4055.9177, delta=0.01)
        for v in m["bgNbdStandardErrors"].values():
            self.assertGreater(v, 0)
        # The same request id answers the stored model; GET reads it.
        self.assertEqual(self.refit(), m)
        self.assertEqual(rest("GET", "/v1/models/clv", self.key).json(), m)

    def test_two_customers_scores_match_the_published_figures(self):
        self.refit()
        # x = 2, t_x = 30.43, T = 38.86: 1.226 purchases in the next 39 weeks.
        r = rest("GET", "/v1/customers/%s/scores?asOf=1997-09-30&horizon=39"
                 % self.customer_of["0001"], self.key)
        self.assertEqual(r.status, 200, r)
        s = r.json()
        self.assertEqual(s["frequency"], 2)
        self.assertAlmostEqual(s["recency"], 30.43, places=2)
        self.assertAlmostEqual(s["tenure"], 38.86, places=2)
        self.assertAlmostEqual(s["expectedPurchases"], 1.226, places=3)
        # x = 26, t_x = 30.857, T = 31: E[Y(52)] = 25.76, P(alive) = 0.9689 (gRPC).
        g = self.seg.GetCustomerScores(
            seg.GetCustomerScoresRequest(customer_id=self.customer_of["1516"], as_of="1997-09-30"),
            metadata=stack.auth(self.key), timeout=DEADLINE)
        self.assertEqual(g.frequency, 26)
        self.assertAlmostEqual(g.expected_purchases, 25.76, places=2)
        self.assertAlmostEqual(g.p_alive, 0.9689, places=4)
        self.assertAlmostEqual(g.churn_risk, 1 - g.p_alive, places=12)
        self.assertTrue(g.has_model_scores)
        self.assertGreater(g.clv, 0)
        self.assertTrue(g.rfm.segment)

    def test_holdout_evaluation(self):
        r = rest("POST", "/v1/models/clv:evaluate", self.key,
                 {"calibrationEnd": "1997-09-30", "holdoutEnd": "1998-06-30"}, timeout=60)
        self.assertEqual(r.status, 200, r)
        e = r.json()
        self.assertEqual(len(e["points"]), 39)
        self.assertEqual(e["points"][-1]["actualCumulative"], 1882)  # the data's checksum
        self.assertLess(abs(e["finalRelativeError"]), 0.2)

    def test_other_tenants_see_nothing(self):
        _, other = stack.create_tenant()
        self.assertEqual(rest("GET", "/v1/customers/%s/scores" % self.customer_of["0001"],
                              other).status, 404)
        self.assertEqual(rest("GET", "/v1/models/clv", other).status, 404)
        r = rest("GET", "/v1/rfm:summary", other)
        self.assertEqual((r.status, r.reason()), (400, "INSUFFICIENT_DATA"), r)


if __name__ == "__main__":
    unittest.main()
