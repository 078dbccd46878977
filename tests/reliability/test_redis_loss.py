"""Redis restarted with an empty dataset while orders flow: the streams, the
consumer groups and the relays' epoch keys are gone. The relays republish
from the outbox (replay window), customer-store recreates its group at 0 and
deduplicates, and the purchase aggregates end exact."""

import random
import time
import unittest

import rstack
from rstack import log

RESTARTS = 2  # the first with the consumer down, the second with everything up


def setUpModule():
    rstack.start("redis_loss")


def tearDownModule():
    rstack.stop()


def wait_published(timeout=20):
    """Waits until the transaction outbox is fully published; returns how many
    order events customer-store has not projected yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rstack.scalar("SELECT count(*) FROM txn.outbox WHERE published_at IS NULL") == 0:
            break
        time.sleep(0.05)
    return rstack.scalar(
        "SELECT count(*) FROM txn.orders o WHERE NOT EXISTS (SELECT 1 FROM "
        "customer_store.purchases p WHERE p.tenant_id = o.tenant_id AND p.order_id = o.id)")


class RedisLoss(rstack.ReliabilityTestCase):
    def test_redis_restarted_empty_mid_traffic(self):
        t = rstack.Tenant(customers=12)
        clients = rstack.OrderClients(t, threads=6)
        clients.start()
        rng = random.Random()
        started = time.monotonic()
        restarts = 0
        try:
            # 1. The consumer is down: events wait in the streams, published
            # (stamped) but not consumed, when Redis loses them. Only the
            # republish can bring them back. customer-store keeps serving
            # (orders check their customer there) with its consumer off.
            clients.wait_progress(30)
            rstack.kill9("customer-store")
            rstack.restart("customer-store", CRM_EVENT_CONSUMERS="false")
            clients.wait_progress(150)
            rstack.kill9("customer-store")
            waiting = wait_published()
            rstack.restart_redis_empty()
            restarts += 1
            log("redis restart 1 (empty) with customer-store down and %d order events "
                "published but not consumed" % waiting)
            time.sleep(rng.uniform(0.1, 0.5))
            rstack.restart("customer-store")
            # 2. Everything running, mid-traffic.
            while restarts < RESTARTS and clients.alive() and time.monotonic() - started < 60:
                clients.wait_progress(30)
                time.sleep(rng.uniform(0.1, 0.8))
                before = clients.count()
                rstack.restart_redis_empty()
                restarts += 1
                log("redis restart %d (empty) after %d acknowledged orders" % (restarts, before))
            clients.wait_progress(30)  # traffic after the last restart
            time.sleep(0.5)
        finally:
            clients.stop()
        clients.join(timeout=90)
        self.assertEqual(restarts, RESTARTS)
        drained = rstack.wait_drained(t.tenant_id, timeout=60)
        n = rstack.assert_consistent(self, t.tenant_id, clients)

        # The relays noticed and republished; the consumer recreated its group.
        txn_port = rstack.stack.TXN_METRICS_PORT
        store_port = rstack.stack.STORE_METRICS_PORT
        resets = rstack.metric(txn_port, "crm_outbox_epoch_resets_total")
        republished = rstack.metric(txn_port, "crm_outbox_republished_total")
        group_resets = rstack.metric(store_port, "crm_events_group_resets_total")
        log("drained %.1f s after the clients stopped; %d orders; transaction relay: %d epoch "
            "resets, %d events republished; customer-store group resets %d" %
            (drained, n, resets, republished, group_resets))
        self.assertGreaterEqual(resets, 1 + RESTARTS)  # first start + each loss
        self.assertGreater(republished, 0)
        self.assertGreater(waiting, 0)
        self.assertGreaterEqual(republished, waiting)
        self.assertGreaterEqual(group_resets, 1)
        # Redis now holds every order event once more (republished + new).
        self.assertNotEqual(rstack.redis_cmd("GET", "crm:events:epoch:txn"), "")


if __name__ == "__main__":
    unittest.main()
