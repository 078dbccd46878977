"""kill -9 of the delivery engine at random moments during a webhook campaign,
restarted each time. The send ledger is the truth: every recipient is reached
(the receiver holds a POST for every one), nothing is left unsent, every
ledger row is final, and a recipient POSTed more than once is only ever one
whose claim was lost with a killed sender (attempts > 1) and carries the same
Idempotency-Key every time, so a receiver that keeps the keys it has seen
processes it once. docs/delivery.md, "Exactly once"."""

import collections
import http.server
import json
import random
import threading
import time
import unittest

import rstack
from rstack import log

RECIPIENTS = 1500
CYCLES = 3


def setUpModule():
    rstack.start("kill_delivery")


def tearDownModule():
    rstack.stop()


class Receiver:
    """An HTTP receiver on 127.0.0.1 counting POSTs per Idempotency-Key."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_key = collections.Counter()
        self.bodies = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with outer.lock:
                    outer.by_key[key] += 1
                    outer.bodies[key] = body
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A killed sender resets its connections: not the receiver's error.
        self.server.handle_error = lambda request, address: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server.server_address[1]

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.by_key), dict(self.bodies)


class KillDelivery(rstack.ReliabilityTestCase):
    def test_kill9_delivery_during_a_campaign(self):
        rest = rstack.stack.rest
        tenant, key = rstack.stack.create_tenant()
        tid = tenant["id"]
        receiver = Receiver()
        self.addCleanup(receiver.server.shutdown)
        r = rest("POST", "/v1/templates?requestId=t", key,
                 {"templateId": "hook", "displayName": "Hook",
                  "channel": "TEMPLATE_CHANNEL_WEBHOOK",
                  "locales": [{"locale": "en",
                               "parts": {"json": '{"name": "{{customer.given_name}}"}'}}]})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/webhookEndpoints?requestId=e", key,
                 {"url": receiver.url(), "timeoutMs": 5000})
        self.assertEqual(r.status, 200, r)
        endpoint = r.json()["endpointId"]
        ndjson = "".join(json.dumps({"givenName": "R%d" % i}) + "\n" for i in range(RECIPIENTS))
        r = rest("POST", "/v1/customers:import?batchId=rel-delivery", key,
                 raw=ndjson.encode(), headers={"Content-Type": "application/x-ndjson"},
                 timeout=120)
        self.assertEqual(r.status, 200, r)
        ids = [row[0] for row in rstack.sql(
            "SELECT id FROM customer_store.customers WHERE tenant_id = '%s' ORDER BY id" % tid)]
        self.assertEqual(len(ids), RECIPIENTS)
        r = rest("POST", "/v1/campaigns?requestId=c", key,
                 {"name": "chaos", "channel": "CHANNEL_WEBHOOK",
                  "purpose": "PURPOSE_TRANSACTIONAL", "endpointId": endpoint,
                  "audience": {"customerIds": ids},
                  "variants": [{"variantId": "a", "templateId": "hook"}]}, timeout=60)
        self.assertEqual(r.status, 200, r)
        cid = r.json()["campaignId"]
        r = rest("POST", "/v1/campaigns/%s:schedule" % cid, key, {"requestId": "s"})
        self.assertEqual(r.status, 200, r)

        def sent():
            return rstack.scalar("SELECT count(*) FROM delivery.messages WHERE campaign_id = "
                                 "'%s' AND state = 'sent'" % cid)

        rng = random.Random()
        kills = 0
        deadline = time.monotonic() + 120
        while kills < CYCLES and time.monotonic() < deadline:
            before = sent()
            if before >= RECIPIENTS * (kills + 1) // (CYCLES + 1):
                rstack.kill9("delivery")
                kills += 1
                log("kill %d: delivery killed with %d of %d sent" % (kills, before, RECIPIENTS))
                time.sleep(rng.uniform(0.2, 0.8))
                rstack.restart("delivery")
            time.sleep(0.05)
        self.assertEqual(kills, CYCLES, "the campaign finished before %d kills" % CYCLES)

        # Lost claims come back when their lease ends (35 s in this stack).
        done_deadline = time.monotonic() + 150
        state = None
        while time.monotonic() < done_deadline:
            r = rest("GET", "/v1/campaigns/" + cid, key)
            # The engine may still be starting after the last restart (503).
            state = r.json().get("state") if r.status == 200 else state
            if state == "CAMPAIGN_STATE_COMPLETED":
                break
            time.sleep(0.5)
        rows = rstack.sql("SELECT state, count(*) FROM delivery.messages WHERE campaign_id = "
                          "'%s' GROUP BY 1 ORDER BY 1" % cid)
        log("ledger: %s" % rows)
        self.assertEqual(state, "CAMPAIGN_STATE_COMPLETED", rows)
        self.assertEqual(rows, [["sent", str(RECIPIENTS)]])

        by_key, bodies = receiver.snapshot()
        ledger = {row[0]: int(row[1]) for row in rstack.sql(
            "SELECT message_id, attempts FROM delivery.messages WHERE campaign_id = '%s'" % cid)}
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


if __name__ == "__main__":
    unittest.main()
