"""The delivery engine under faults during a webhook campaign. The send
ledger is the truth: every recipient is reached (the receiver holds a POST
for every one), nothing is left unsent, every ledger row is final.

- kill -9 of the engine, restarted each time: a recipient POSTed more than
  once is only ever one whose claim was lost with a killed sender (attempts
  at least its POSTs), under the same Idempotency-Key every time, so a
  receiver that keeps the keys it has seen processes it once;
- Redis restarted with an empty dataset: the queue's entries are gone, the
  sweeper queues the due rows again, and nothing is POSTed twice;
- the SMTP relay down for a while: the messages retry and are each sent
  once when it is back;
- an opt-out arriving mid-campaign: the opted-out customers' queued
  messages are suppressed when their turn comes, none is sent.
Journeys under kill -9: test_kill_journey.py.
docs/delivery.md, "Exactly once"."""

import json
import random
import time
import unittest

import rstack
from rstack import log
from webhook_receiver import Receiver

RECIPIENTS = 10000  # the campaign size (a list audience holds at most 10,000)
CYCLES = 3


def setUpModule():
    # A campaign of 10,000 listed customers is a body of about 400 kB (the
    # e2e stack's gateway takes 64 kB, to test the limit).
    rstack.stack.MAX_BODY_BYTES = 1 << 20
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


class EmailCampaign:
    """A tenant, `n` customers with an email address each (NDJSON import),
    an email template and a campaign to all of them (drafted; `schedule()`
    starts it)."""

    def __init__(self, test, tag, n, purpose="PURPOSE_TRANSACTIONAL", throttle=0):
        rest = rstack.stack.rest
        self.test = test
        self.tag = tag
        tenant, self.key = rstack.stack.create_tenant()
        tid = tenant["id"]
        r = rest("POST", "/v1/templates?requestId=t", self.key,
                 {"templateId": "mail", "displayName": "Mail",
                  "channel": "TEMPLATE_CHANNEL_EMAIL",
                  "locales": [{"locale": "en", "parts": {
                      "subject": "Hello {{customer.given_name}}", "text": "Hi.\n"}}]})
        test.assertEqual(r.status, 200, r)
        ndjson = "".join(json.dumps({"givenName": "R%d" % i,
                                     "emails": ["%s-%d@example.com" % (tag, i)]}) + "\n"
                         for i in range(n))
        r = rest("POST", "/v1/customers:import?batchId=" + tag, self.key, raw=ndjson.encode(),
                 headers={"Content-Type": "application/x-ndjson"}, timeout=120)
        test.assertEqual(r.status, 200, r)
        self.ids = [row[0] for row in rstack.sql(
            "SELECT id FROM customer_store.customers WHERE tenant_id = '%s' ORDER BY id" % tid)]
        test.assertEqual(len(self.ids), n)
        if purpose == "PURPOSE_MARKETING":
            for cid in self.ids:
                self.consent(cid, "CONSENT_STATUS_OPTED_IN")
        r = rest("POST", "/v1/campaigns?requestId=c", self.key,
                 {"name": tag, "channel": "CHANNEL_EMAIL", "purpose": purpose,
                  "audience": {"customerIds": self.ids}, "throttlePerSecond": throttle,
                  "variants": [{"variantId": "a", "templateId": "mail"}]}, timeout=60)
        test.assertEqual(r.status, 200, r)
        self.id = r.json()["campaignId"]

    def consent(self, cid, status):
        r = rstack.stack.rest("POST", "/v1/customers/%s/consents" % cid, self.key,
                              {"channel": "CONSENT_CHANNEL_EMAIL",
                               "purpose": "CONSENT_PURPOSE_MARKETING", "status": status,
                               "source": "reliability"})
        self.test.assertEqual(r.status, 200, r)

    def schedule(self):
        r = rstack.stack.rest("POST", "/v1/campaigns/%s:schedule" % self.id, self.key,
                              {"requestId": "s"})
        self.test.assertEqual(r.status, 200, r)

    def states(self):
        return {row[0]: int(row[1]) for row in rstack.sql(
            "SELECT state, count(*) FROM delivery.messages WHERE campaign_id = '%s' GROUP BY 1"
            % self.id)}

    def wait_final(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.states()
            if sum(states.values()) == len(self.ids) and not (
                    set(states) & {"queued", "sending", "retrying"}):
                return states
            time.sleep(0.5)
        self.test.fail("campaign %s not final in %d s: %s" % (self.id, timeout, self.states()))

    def mails(self):
        """Recipient address -> the number of mails the sink holds for it."""
        out = {}
        for m in rstack.stack.mails():
            to = m["X-Sink-Rcpt-To"]
            if to.startswith(self.tag + "-"):
                out[to] = out.get(to, 0) + 1
        return out


def restart_delivery(**env):
    """kill -9 and start again with `env` on top of the stack's; returns
    once the gateway reaches it (its channel reconnects with a back-off)."""
    rstack.kill9("delivery")
    rstack.restart("delivery", **env)
    wait_reachable()


def wait_reachable():
    """Returns once the gateway reaches delivery again."""
    _, key = rstack.stack.create_tenant()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if rstack.stack.rest("GET", "/v1/campaigns", key).status == 200:
            return
        time.sleep(0.2)
    raise AssertionError("delivery not reachable through the gateway 60 s after its restart")


class DeliveryFaults(rstack.ReliabilityTestCase):
    def test_kill9_delivery_during_an_email_campaign(self):
        # SMTP has no idempotency key: a claim lost with a killed sender
        # becomes unknown, never sent blindly again. So: nobody receives a
        # mail twice; whoever received none is an unknown row; every row is
        # final; and replaying the unknown rows nobody received (what an
        # operator does after checking the relay's log) reaches everyone,
        # each exactly once.
        n = 1000
        c = EmailCampaign(self, "killmail", n)
        c.schedule()
        rng = random.Random()
        kills = 0
        deadline = time.monotonic() + 120
        while kills < CYCLES and time.monotonic() < deadline:
            sent = c.states().get("sent", 0)
            if sent >= n * (kills + 1) // (CYCLES + 1):
                rstack.kill9("delivery")
                kills += 1
                log("kill %d: delivery killed with %d of %d mails sent" % (kills, sent, n))
                time.sleep(rng.uniform(0.2, 0.8))
                rstack.restart("delivery")
            time.sleep(0.05)
        self.assertEqual(kills, CYCLES, "the campaign finished before %d kills" % CYCLES)
        states = c.wait_final(150)  # lost claims resolve when their lease ends (35 s)
        log("ledger after the kills: %s" % states)
        self.assertEqual(set(states) - {"sent", "unknown"}, set(), states)
        mails = c.mails()
        self.assertEqual([a for a, k in mails.items() if k > 1], [])  # no duplicates
        # The customer's address (a lost claim's row never recorded one).
        rows = rstack.sql("SELECT m.message_id, i.value, m.state FROM delivery.messages m JOIN "
                          "customer_store.identities i ON i.tenant_id = m.tenant_id AND "
                          "i.customer_id = m.customer_id AND i.kind = 1 WHERE m.campaign_id = "
                          "'%s'" % c.id)
        for mid, to, state in rows:
            if state == "sent":
                self.assertEqual(mails.get(to, 0), 1, "sent message %s reached %s %d times"
                                 % (mid, to, mails.get(to, 0)))
        unreached = [(mid, to) for mid, to, state in rows if state == "unknown" and
                     mails.get(to, 0) == 0]
        # Unknown only where a send had begun: at most one row per sender
        # thread per kill (CRM_DELIVERY_SENDERS, 16 here).
        self.assertLessEqual(states.get("unknown", 0), 16 * CYCLES, states)
        wait_reachable()
        log("%d unknown rows, %d of them never reached the relay" %
            (states.get("unknown", 0), len(unreached)))
        # Every recipient without a mail is one of those unknown rows.
        addresses = {to for _, to, _ in rows}
        self.assertEqual(len(addresses), n)
        self.assertEqual(addresses - set(mails), {to for _, to in unreached})
        for mid, _ in unreached:
            r = rstack.stack.rest("POST", "/v1/messages/%s:replay" % mid, c.key,
                                  {"requestId": "replay-" + mid})
            self.assertEqual(r.status, 200, r)
        states = c.wait_final(60)
        mails = c.mails()
        self.assertEqual(len(mails), n)
        self.assertEqual(set(mails.values()), {1})

    def test_smtp_down_for_a_while_then_back(self):
        # Attempts enough to outlast the outage (the stack's 3 would dead
        # letter within seconds).
        restart_delivery(CRM_DELIVERY_MAX_ATTEMPTS="30", CRM_DELIVERY_RETRY_CAP="2s")
        self.addCleanup(restart_delivery)
        n = 150
        c = EmailCampaign(self, "smtpdown", n)
        rstack.kill9("mail-sink")
        c.schedule()
        deadline = time.monotonic() + 60
        while c.states().get("retrying", 0) < n // 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        states = c.states()
        log("relay down: %s" % states)
        self.assertGreaterEqual(states.get("retrying", 0), n // 2, states)
        self.assertEqual(states.get("sent", 0), 0, states)
        time.sleep(5)  # down a while longer: the retries keep failing
        rstack.stack.start_mail_sink()
        states = c.wait_final(120)
        log("relay back: %s" % states)
        self.assertEqual(states, {"sent": n})
        mails = c.mails()
        self.assertEqual(len(mails), n)
        self.assertEqual(set(mails.values()), {1})  # each recipient once
        attempts = [int(r[0]) for r in rstack.sql(
            "SELECT attempts FROM delivery.messages WHERE campaign_id = '%s'" % c.id)]
        self.assertGreater(max(attempts), 1)

    def test_an_opt_out_mid_campaign_stops_the_queued_messages(self):
        n = 60
        c = EmailCampaign(self, "optout", n, purpose="PURPOSE_MARKETING", throttle=4)
        c.schedule()
        # Wait until the campaign sends, then opt out every customer whose
        # message is still queued and not due for another 3 s or more.
        deadline = time.monotonic() + 60
        while c.states().get("sent", 0) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        later = [row[0] for row in rstack.sql(
            "SELECT customer_id FROM delivery.messages WHERE campaign_id = '%s' AND state = "
            "'queued' AND next_attempt_at > now() + interval '3 seconds'" % c.id)]
        self.assertGreater(len(later), n // 2)
        for cid in later:
            c.consent(cid, "CONSENT_STATUS_OPTED_OUT")
        states = c.wait_final(120)
        log("opt-out of %d queued recipients: %s" % (len(later), states))
        rows = rstack.sql(
            "SELECT customer_id, state, suppression_reason FROM delivery.messages WHERE "
            "campaign_id = '%s'" % c.id)
        by_customer = {r[0]: (r[1], r[2]) for r in rows}
        for cid in later:
            self.assertEqual(by_customer[cid], ("suppressed", "consent"), cid)
        self.assertEqual(states.get("sent", 0), n - len(later))
        # The sink agrees: a mail for every sent message, none for the rest.
        self.assertEqual(sum(c.mails().values()), n - len(later))


if __name__ == "__main__":
    unittest.main()
