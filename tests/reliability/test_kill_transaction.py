"""kill -9 of the transaction service at random points while concurrent clients
create orders through the gateway (each retrying with the same request id).
Nothing acknowledged is lost, every committed order has exactly one
order.placed outbox event, no event describes an order that was rolled back,
and customer-store's purchase projection counts each order once."""

import random
import time
import unittest

import rstack
from rstack import log

KILLS = 4
CLIENT_THREADS = 6


def setUpModule():
    rstack.start("kill_transaction")


def tearDownModule():
    rstack.stop()


class KillTransaction(rstack.ReliabilityTestCase):
    def test_kill9_transaction_while_orders_flow(self):
        t = rstack.Tenant(customers=12)
        clients = rstack.OrderClients(t, threads=CLIENT_THREADS)
        clients.start()
        rng = random.Random()
        started = time.monotonic()
        kills = 0
        try:
            while kills < KILLS and clients.alive() and time.monotonic() - started < 60:
                clients.wait_progress(20)  # orders flow (again)
                time.sleep(rng.uniform(0.05, 0.6))
                before = clients.count()
                rstack.kill9("transaction")
                kills += 1
                time.sleep(rng.uniform(0.05, 0.5))
                rstack.restart("transaction")
                log("kill %d of transaction after %d acknowledged orders" % (kills, before))
            clients.wait_progress(20)  # traffic after the last restart
        finally:
            clients.stop()
        clients.join(timeout=90)
        self.assertEqual(kills, KILLS)
        drained = rstack.wait_drained(t.tenant_id, timeout=60)
        n = rstack.assert_consistent(self, t.tenant_id, clients)
        log("drained %.1f s after the clients stopped; %d orders in %.1f s" %
            (drained, n, time.monotonic() - started))
        self.assertGreater(n, 50)


if __name__ == "__main__":
    unittest.main()
