"""kill -9 of the transaction service during ERP bulk ingest
(ErpIntegrationService.IngestOrders, a bidirectional stream of batches, each
one transaction, orders idempotent by external_id). Clients resend every batch
not yet answered on a new stream after a failure. Every acknowledged order
exists once with the acknowledged id, no batch is half written, every order
has its outbox event, and customer-store's purchases equal the orders."""

import importlib
import random
import threading
import time
import unittest
import uuid

import rstack
from rstack import log

CLIENTS = 2
BATCHES_PER_CLIENT = 20
ORDERS_PER_BATCH = 100
KILLS = 3
PER_CLIENT_TIMEOUT_S = 90


def setUpModule():
    rstack.start("kill_ingest")


def tearDownModule():
    rstack.stop()


class IngestClient:
    def __init__(self, tenant, idx):
        self.t = tenant
        self.idx = idx
        rng = random.Random(idx)
        self.batches = []  # (batch id, [(external id, customer, total)])
        for b in range(BATCHES_PER_CLIENT):
            orders = []
            for _ in range(ORDERS_PER_BATCH):
                qty = rng.randint(1, 4)
                orders.append(("erp-%s" % uuid.uuid4().hex, rng.choice(tenant.customers),
                               qty * 700, qty))
            self.batches.append(("c%d-b%d" % (idx, b), orders))
        self.acked = {}     # external id -> (order id, customer, total)
        self.rejected = []  # (external id, reason, message)
        self.streams = 0
        self.errors = []
        self.done_batches = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _requests(self, pb, erp_pb, pending):
        for batch_id, orders in pending:
            yield erp_pb.IngestOrdersRequest(batch_id=batch_id, orders=[
                pb.Order(external_id=ext, customer_id=cust, currency_code="CHF",
                         lines=[pb.OrderLine(sku=self.t.sku, quantity=qty,
                                             unit_price_minor=700)])
                for (ext, cust, _, qty) in orders])
            time.sleep(0.03)  # an ERP that sends at a steady pace

    def _run(self):
        import grpc
        pb = importlib.import_module("crm.transaction.v1.transaction_pb2")
        erp_pb = importlib.import_module("crm.transaction.v1.erp_pb2")
        erp_grpc = importlib.import_module("crm.transaction.v1.erp_pb2_grpc")
        ch = rstack.stack.grpc_channel(rstack.stack.GATEWAY_GRPC_PORT)
        stub = erp_grpc.ErpIntegrationServiceStub(ch)
        pending = list(self.batches)
        deadline = time.monotonic() + PER_CLIENT_TIMEOUT_S
        attempt = 0
        try:
            while pending and time.monotonic() < deadline:
                attempt += 1
                self.streams += 1
                try:
                    responses = stub.IngestOrders(self._requests(pb, erp_pb, list(pending)),
                                                  metadata=rstack.stack.auth(self.t.key),
                                                  timeout=60)
                    for resp in responses:
                        batch_id, orders = pending[0]
                        if resp.batch_id != batch_id or len(resp.results) != len(orders):
                            raise AssertionError("answer %r does not match batch %s" %
                                                 (resp.batch_id, batch_id))
                        by_ext = {o[0]: o for o in orders}
                        with self.lock:
                            for r in resp.results:
                                ext, cust, total, _ = by_ext[r.external_id]
                                if r.outcome in (1, 2):  # CREATED, ALREADY_EXISTS
                                    self.acked[ext] = (r.order_id, cust, total)
                                else:
                                    self.rejected.append((ext, r.reason, r.message))
                            self.done_batches += 1
                        pending.pop(0)
                    attempt = 0
                except grpc.RpcError as e:
                    self.errors.append(e.code().name)
                    if e.code().name not in rstack.RETRYABLE:
                        raise
                    time.sleep(min(0.1 * attempt, 1.0))
        finally:
            ch.close()
        self.unanswered = len(pending)


class KillIngest(rstack.ReliabilityTestCase):
    def test_kill9_transaction_during_bulk_ingest(self):
        t = rstack.Tenant(customers=12)
        rstack.grpc_modules()
        clients = [IngestClient(t, i) for i in range(CLIENTS)]
        for c in clients:
            c.thread.start()
        rng = random.Random()
        started = time.monotonic()
        kills = 0

        def done_batches():
            return sum(c.done_batches for c in clients)

        def alive():
            return any(c.thread.is_alive() for c in clients)

        while kills < KILLS and alive() and time.monotonic() - started < 60:
            target = done_batches() + 2  # batches flow (again)
            wait_until = time.monotonic() + 30
            while done_batches() < target and alive() and time.monotonic() < wait_until:
                time.sleep(0.01)
            if not alive():
                break
            time.sleep(rng.uniform(0.0, 0.15))
            before = done_batches()
            rstack.kill9("transaction")
            kills += 1
            time.sleep(rng.uniform(0.05, 0.4))
            rstack.restart("transaction")
            log("kill %d of transaction after %d answered batches" % (kills, before))
        for c in clients:
            c.thread.join(PER_CLIENT_TIMEOUT_S + 30)
        self.assertFalse(alive(), "ingest clients still running")
        self.assertGreaterEqual(kills, 2, "the ingest ended before the kills")

        acked = {}
        for c in clients:
            log("client %d: %d streams, errors %s, unanswered batches %d, rejected %d" %
                (c.idx, c.streams, sorted(set(c.errors)), c.unanswered, len(c.rejected)))
            self.assertEqual(c.unanswered, 0)
            self.assertEqual(c.rejected, [])
            acked.update(c.acked)
        sent = CLIENTS * BATCHES_PER_CLIENT * ORDERS_PER_BATCH
        self.assertEqual(len(acked), sent)

        # Each external id is one order, with the id the ERP was given.
        in_db = {r[0]: r[1] for r in rstack.sql(
            "SELECT external_id, id::text FROM txn.orders WHERE tenant_id = '%s'"
            " AND external_id <> ''" % t.tenant_id)}
        self.assertEqual(len(in_db), sent)
        self.assertEqual({k: v[0] for k, v in acked.items()}, in_db)
        # No batch is half written: the orders of one batch were inserted by
        # one transaction (same xmin; nothing updates them in this test), so
        # every inserting transaction holds exactly ORDERS_PER_BATCH orders.
        self.assertEqual(rstack.scalar(
            "SELECT count(*) FROM (SELECT xmin FROM txn.orders WHERE tenant_id = '%s'"
            " AND external_id <> '' GROUP BY xmin HAVING count(*) NOT IN (%d)) d"
            % (t.tenant_id, ORDERS_PER_BATCH)), 0)

        class Acked:  # the shape rstack.assert_consistent expects
            pass
        view = Acked()
        view.acked, view.failed, view.refused, view.retries = acked, {}, {}, 0
        drained = rstack.wait_drained(t.tenant_id, timeout=60)
        rstack.assert_consistent(self, t.tenant_id, view)
        log("drained %.1f s after the ingest; %d orders in %.1f s" %
            (drained, sent, time.monotonic() - started))


if __name__ == "__main__":
    unittest.main()
