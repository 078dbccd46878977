"""The delivery engine under faults during a webhook campaign. The send
ledger is the truth: every recipient is reached (the receiver holds a POST
for every one), nothing is left unsent, every ledger row is final.

- kill -9 of the engine, restarted each time: a recipient POSTed more than
  once is only ever one whose claim was lost with a killed sender (attempts
  at least its POSTs), under the same Idempotency-Key every time, so a
  receiver that keeps the keys it has seen processes it once;
- Redis restarted with an empty dataset: the queue's entries are gone, the
  sweeper queues the due rows again, and nothing is POSTed twice.
docs/delivery.md, "Exactly once"."""

import json
import random
import time
import unittest

import rstack
from rstack import log
from webhook_receiver import Receiver

RECIPIENTS = 1500
CYCLES = 3


def setUpModule():
    rstack.start("kill_delivery")


def tearDownModule():
    rstack.stop()


class Campaign:
    """A tenant, RECIPIENTS customers (NDJSON import), a webhook template and
    endpoint on `receiver`, and a scheduled campaign to all of them."""

    def __init__(self, test, receiver, tag):
        rest = rstack.stack.rest
        self.test = test
        tenant, self.key = rstack.stack.create_tenant()
        tid = tenant["id"]
        r = rest("POST", "/v1/templates?requestId=t", self.key,
                 {"templateId": "hook", "displayName": "Hook",
                  "channel": "TEMPLATE_CHANNEL_WEBHOOK",
                  "locales": [{"locale": "en",
                               "parts": {"json": '{"name": "{{customer.given_name}}"}'}}]})
        test.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/webhookEndpoints?requestId=e", self.key,
                 {"url": receiver.url(), "timeoutMs": 5000})
        test.assertEqual(r.status, 200, r)
        endpoint = r.json()["endpointId"]
        ndjson = "".join(json.dumps({"givenName": "R%d" % i}) + "\n" for i in range(RECIPIENTS))
        r = rest("POST", "/v1/customers:import?batchId=" + tag, self.key, raw=ndjson.encode(),
                 headers={"Content-Type": "application/x-ndjson"}, timeout=120)
        test.assertEqual(r.status, 200, r)
        ids = [row[0] for row in rstack.sql(
            "SELECT id FROM customer_store.customers WHERE tenant_id = '%s' ORDER BY id" % tid)]
        test.assertEqual(len(ids), RECIPIENTS)
        r = rest("POST", "/v1/campaigns?requestId=c", self.key,
                 {"name": tag, "channel": "CHANNEL_WEBHOOK", "purpose": "PURPOSE_TRANSACTIONAL",
                  "endpointId": endpoint, "audience": {"customerIds": ids},
                  "variants": [{"variantId": "a", "templateId": "hook"}]}, timeout=60)
        test.assertEqual(r.status, 200, r)
        self.id = r.json()["campaignId"]
        r = rest("POST", "/v1/campaigns/%s:schedule" % self.id, self.key, {"requestId": "s"})
        test.assertEqual(r.status, 200, r)

    def sent(self):
        return rstack.scalar("SELECT count(*) FROM delivery.messages WHERE campaign_id = "
                             "'%s' AND state = 'sent'" % self.id)

    def wait_completed(self, timeout):
        """The campaign completed and every one of its rows sent."""
        state = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = rstack.stack.rest("GET", "/v1/campaigns/" + self.id, self.key)
            # The engine may still be starting after a restart (503).
            state = r.json().get("state") if r.status == 200 else state
            if state == "CAMPAIGN_STATE_COMPLETED":
                break
            time.sleep(0.5)
        rows = rstack.sql("SELECT state, count(*) FROM delivery.messages WHERE campaign_id = "
                          "'%s' GROUP BY 1 ORDER BY 1" % self.id)
        log("ledger: %s" % rows)
        self.test.assertEqual(state, "CAMPAIGN_STATE_COMPLETED", rows)
        self.test.assertEqual(rows, [["sent", str(RECIPIENTS)]])

    def attempts(self):
        return {row[0]: int(row[1]) for row in rstack.sql(
            "SELECT message_id, attempts FROM delivery.messages WHERE campaign_id = '%s'"
            % self.id)}


class KillDelivery(rstack.ReliabilityTestCase):
    def test_kill9_delivery_during_a_campaign(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        c = Campaign(self, receiver, "kill")
        rng = random.Random()
        kills = 0
        deadline = time.monotonic() + 120
        while kills < CYCLES and time.monotonic() < deadline:
            before = c.sent()
            if before >= RECIPIENTS * (kills + 1) // (CYCLES + 1):
                rstack.kill9("delivery")
                kills += 1
                log("kill %d: delivery killed with %d of %d sent" % (kills, before, RECIPIENTS))
                time.sleep(rng.uniform(0.2, 0.8))
                rstack.restart("delivery")
            time.sleep(0.05)
        self.assertEqual(kills, CYCLES, "the campaign finished before %d kills" % CYCLES)
        # Lost claims come back when their lease ends (35 s in this stack).
        c.wait_completed(150)
        by_key, bodies = receiver.by_key()
        ledger = c.attempts()
        # Every recipient reached, and nothing the ledger does not know.
        self.assertEqual(set(by_key), set(ledger))
        for k, body in bodies.items():
            self.assertEqual(json.loads(body)["messageId"], k)
        # A second POST only for a claim lost with a killed sender, under the
        # same key (never a blind second send of a finished attempt).
        repeated = {k: n for k, n in by_key.items() if n > 1}
        log("%d recipients, %d POSTs, %d repeated under their key after a lost claim" %
            (len(by_key), sum(by_key.values()), len(repeated)))
        for k, n in repeated.items():
            self.assertGreaterEqual(ledger[k], n, "message %s POSTed %d times in %d attempts" %
                                    (k, n, ledger[k]))

    def test_redis_restarted_empty_during_a_campaign(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        c = Campaign(self, receiver, "redis")
        deadline = time.monotonic() + 60
        while c.sent() < RECIPIENTS // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        at = c.sent()
        rstack.restart_redis_empty()
        log("redis restarted empty with %d of %d sent" % (at, RECIPIENTS))
        self.assertLess(at, RECIPIENTS, "the campaign finished before the restart")
        c.wait_completed(120)
        by_key, _ = receiver.by_key()
        self.assertEqual(set(by_key), set(c.attempts()))
        # No sender died: nothing was claimed twice, so nothing POSTed twice.
        self.assertEqual(sum(by_key.values()), RECIPIENTS)


if __name__ == "__main__":
    unittest.main()
