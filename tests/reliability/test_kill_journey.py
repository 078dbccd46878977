"""The delivery engine killed (kill -9, three times) while a journey runs
(docs/delivery.md, "Journeys"): each enrolment's position is written after
every step and a step taken again finds its ledger row by the visit's key,
so every enrolment completes with exactly one ledger row per send step,
each message reaches the webhook receiver, and a message POSTed more than
once is only one whose claim was lost with a killed sender, under its key."""

import json
import random
import threading
import time
import unittest

import rstack
from rstack import log
from webhook_receiver import Receiver

CYCLES = 3


def setUpModule():
    rstack.start("kill_journey")


def tearDownModule():
    rstack.stop()


class Journey:
    """A tenant, `n` customers (NDJSON import), a webhook template and
    endpoint on `receiver`, and an active journey (send, wait 2 s, send) to
    enrol them in over the API."""

    def __init__(self, test, receiver, tag, n):
        rest = rstack.stack.rest
        self.test, self.n = test, n
        tenant, self.key = rstack.stack.create_tenant()
        self.tenant = tenant["id"]
        r = rest("POST", "/v1/templates?requestId=t", self.key,
                 {"templateId": "hook", "displayName": "Hook",
                  "channel": "TEMPLATE_CHANNEL_WEBHOOK",
                  "locales": [{"locale": "en",
                               "parts": {"json": '{"name": "{{customer.given_name}}"}'}}]})
        test.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/webhookEndpoints?requestId=e", self.key,
                 {"url": receiver.url(), "timeoutMs": 5000})
        test.assertEqual(r.status, 200, r)
        hook = {"channel": "CHANNEL_WEBHOOK", "templateId": "hook",
                "purpose": "PURPOSE_TRANSACTIONAL", "endpointId": r.json()["endpointId"]}
        ndjson = "".join(json.dumps({"givenName": "J%d" % i}) + "\n" for i in range(n))
        r = rest("POST", "/v1/customers:import?batchId=" + tag, self.key, raw=ndjson.encode(),
                 headers={"Content-Type": "application/x-ndjson"}, timeout=120)
        test.assertEqual(r.status, 200, r)
        self.customers = [row[0] for row in rstack.sql(
            "SELECT id FROM customer_store.customers WHERE tenant_id = '%s'" % self.tenant)]
        test.assertEqual(len(self.customers), n)
        r = rest("POST", "/v1/journeys?requestId=j", self.key, {
            "name": tag, "steps": [{"stepId": "first", "send": hook},
                                   {"stepId": "pause", "wait": {"durationSeconds": "2"}},
                                   {"stepId": "second", "send": hook}]})
        test.assertEqual(r.status, 200, r)
        self.id = r.json()["journeyId"]
        r = rest("POST", "/v1/journeys/%s:activate" % self.id, self.key, {"requestId": "a"})
        test.assertEqual(r.status, 200, r)

    def enroll(self, customers, failures):
        """Enrols each customer, retrying (same requestId: the same
        enrolment) while delivery is down; what still failed goes to
        `failures`."""
        for cid in customers:
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = rstack.stack.rest("POST", "/v1/journeys/%s:enroll" % self.id, self.key,
                                          {"customerId": cid, "requestId": "enroll-" + cid})
                    status = r.status
                except OSError as e:
                    status, r = 0, e
                if status == 200:
                    break
                if status not in (0, 503) or time.monotonic() > deadline:
                    failures.append((cid, r))
                    break
                time.sleep(0.1)

    def rows(self):
        """The journey's ledger rows."""
        return rstack.scalar("SELECT count(*) FROM delivery.messages WHERE tenant_id = '%s' AND "
                             "request_id LIKE 'journey:%%'" % self.tenant)

    def enrollments(self):
        return dict(rstack.sql("SELECT state, count(*) FROM delivery.journey_enrollments WHERE "
                               "tenant_id = '%s' GROUP BY 1" % self.tenant))


class KillDeliveryJourney(rstack.ReliabilityTestCase):
    def test_kill9_delivery_while_a_journey_runs(self):
        # Each enrolment's position is written after every step; a step
        # taken again after a kill finds its ledger row by the visit's key.
        # So: every customer gets exactly one ledger row per send step,
        # every enrolment completes, every message reaches the receiver
        # (again only under its key after a lost claim).
        n = 2000
        receiver = Receiver()
        self.addCleanup(receiver.close)
        j = Journey(self, receiver, "journey", n)
        # Customers are enrolled while the engine is killed under them.
        failures = []
        enrolling = threading.Thread(target=j.enroll, args=(j.customers, failures))
        enrolling.start()
        rng = random.Random()
        kills = 0
        deadline = time.monotonic() + 120
        while kills < CYCLES and time.monotonic() < deadline:
            rows = j.rows()
            if rows >= 2 * n * (kills + 1) // (CYCLES + 1):
                rstack.kill9("delivery")
                kills += 1
                log("kill %d: delivery killed with %d of %d journey messages in the ledger" %
                    (kills, rows, 2 * n))
                time.sleep(rng.uniform(0.2, 0.8))
                rstack.restart("delivery")
            time.sleep(0.05)
        enrolling.join()
        self.assertEqual(failures, [])
        self.assertEqual(kills, CYCLES, "the journey finished before %d kills" % CYCLES)
        # Leases of killed runners and senders end after 35 s in this stack.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and j.enrollments() != {"completed": str(n)}:
            time.sleep(0.5)
        self.assertEqual(j.enrollments(), {"completed": str(n)})
        while time.monotonic() < deadline and rstack.scalar(
                "SELECT count(*) FROM delivery.messages WHERE tenant_id = '%s' AND state <> "
                "'sent'" % j.tenant) != 0:
            time.sleep(0.5)
        per_customer = rstack.sql(
            "SELECT customer_id, count(*), count(*) FILTER (WHERE state = 'sent') FROM "
            "delivery.messages WHERE tenant_id = '%s' GROUP BY 1" % j.tenant)
        self.assertEqual(len(per_customer), n)
        self.assertEqual({(row[1], row[2]) for row in per_customer}, {("2", "2")})
        visits = rstack.sql("SELECT step_id, count(*) FROM delivery.journey_steps WHERE "
                            "tenant_id = '%s' GROUP BY 1 ORDER BY 1" % j.tenant)
        self.assertEqual(visits, [["first", str(n)], ["pause", str(n)], ["second", str(n)]])
        by_key, _ = receiver.by_key()
        ledger = {row[0]: int(row[1]) for row in rstack.sql(
            "SELECT message_id, attempts FROM delivery.messages WHERE tenant_id = '%s'" %
            j.tenant)}
        self.assertEqual(set(by_key), set(ledger))
        repeated = {k: c for k, c in by_key.items() if c > 1}
        log("%d journey messages, %d POSTs, %d repeated under their key after a lost claim" %
            (len(by_key), sum(by_key.values()), len(repeated)))
        for k, c in repeated.items():
            self.assertGreaterEqual(ledger[k], c)


if __name__ == "__main__":
    unittest.main()
