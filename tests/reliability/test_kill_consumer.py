"""kill -9 of customer-store (the order-event consumer) in the middle of a
batch while orders flow; restarted, it reads its own pending entries first.
Nothing is lost and nothing counted twice: the purchase projection equals
txn.orders."""

import random
import time
import unittest

import rstack
from rstack import log

CYCLES = 3
MAX_CYCLES = 6


def setUpModule():
    rstack.start("kill_consumer")


def tearDownModule():
    rstack.stop()


def pending_entries():
    """Entries delivered to customer-store's group but not acknowledged."""
    total = 0
    for p in range(8):
        out = rstack.redis_cmd("XPENDING", "crm:events:p%d" % p, "customer-store")
        first = out.splitlines()[0] if out else "0"
        total += int(first) if first.isdigit() else 0
    return total


def consumed():
    return rstack.metric(rstack.stack.STORE_METRICS_PORT, "crm_events_consumed_total")


class KillConsumer(rstack.ReliabilityTestCase):
    def test_kill9_consumer_mid_batch(self):
        t = rstack.Tenant(customers=12)
        clients = rstack.OrderClients(t, threads=6)
        clients.start()
        rng = random.Random()
        started = time.monotonic()
        cycles = 0
        mid_batch = 0
        try:
            time.sleep(0.5)
            while cycles < MAX_CYCLES and (cycles < CYCLES or mid_batch == 0):
                if time.monotonic() - started > 90 or not clients.alive():
                    break
                cycles += 1
                rstack.kill9("customer-store")
                time.sleep(rng.uniform(0.6, 1.2))  # a backlog builds up
                rstack.restart("customer-store")
                # Kill again as soon as it is working through the backlog.
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    try:
                        if consumed() > 0:
                            break
                    except OSError:
                        pass
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.03))
                rstack.kill9("customer-store")
                pending = pending_entries()
                if pending > 0:
                    mid_batch += 1
                log("cycle %d: killed customer-store with %d entries pending (read, not "
                    "acknowledged)" % (cycles, pending))
                time.sleep(rng.uniform(0.1, 0.5))
                rstack.restart("customer-store")
                time.sleep(rng.uniform(0.3, 0.8))
            time.sleep(0.5)
        finally:
            clients.stop()
            log("clients: alive %s, acknowledged %d, refused %d %s, not acknowledged %d" %
                (clients.alive(), clients.count(), len(clients.refused),
                 list(clients.refused.values())[:3], len(clients.failed)))
        clients.join(timeout=90)
        self.assertGreaterEqual(cycles, CYCLES)
        self.assertGreater(mid_batch, 0, "no kill hit the consumer mid-batch")
        drained = rstack.wait_drained(t.tenant_id, timeout=60)
        n = rstack.assert_consistent(self, t.tenant_id, clients)
        log("drained %.1f s after the clients stopped; %d orders, %d of %d kills mid-batch" %
            (drained, n, mid_batch, cycles))


if __name__ == "__main__":
    unittest.main()
