"""Journeys end to end (docs/delivery.md, "Journeys"), every service a real
process: a segment entry enrols customers, mails go out over SMTP to the
local sink, a condition is evaluated by segmentation, an attribute is set in
customer-store, a wait outlasts a restart of the delivery service, a wait
for an order and a goal come from real orders; results, paths, bad input
and tenant isolation through the gateway's REST API."""
import time
import unittest

import stack
from stack import rest


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def template(key, tid, subject):
    r = rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key, {
        "templateId": tid, "displayName": tid, "channel": "TEMPLATE_CHANNEL_EMAIL",
        "locales": [{"locale": "en", "parts": {"subject": subject, "text": subject + "\n"}}]})
    assert r.status == 200, r


def mail(tid, purpose="PURPOSE_MARKETING"):
    return {"channel": "CHANNEL_EMAIL", "templateId": tid, "purpose": purpose}


class Journeys(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        for tid, subject in (("hello", "Welcome to the club"), ("gold", "A gift for gold"),
                             ("nudge", "Still thinking?"), ("thanks", "Thanks for your order")):
            template(cls.key, tid, subject)
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("seg"), cls.key,
                 {"segmentId": "club", "displayName": "Club", "expression": 'attr.plan = "club"'})
        assert r.status == 200, r
        cls.sku = stack.unique("SKU")
        r = rest("POST", "/v1/products", cls.key,
                 {"sku": cls.sku, "name": "Thing", "categoryPath": ["Home", "Things"],
                  "price": {"amountMinor": "500", "currencyCode": "CHF"}, "active": True})
        assert r.status == 200, r

    def create(self, body, key=None):
        return rest("POST", "/v1/journeys?requestId=" + stack.unique("j"), key or self.key, body)

    def act(self, jid, action, key=None):
        return rest("POST", "/v1/journeys/%s:%s" % (jid, action), key or self.key,
                    {"requestId": stack.unique("a")})

    def active(self, body):
        r = self.create(body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "JOURNEY_STATE_DRAFT")
        jid = r.json()["journeyId"]
        r = self.act(jid, "activate")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "JOURNEY_STATE_ACTIVE")
        return jid

    def customer(self, **fields):
        address = "%s@example.com" % stack.unique("j")
        cid = stack.new_customer(self.key, emails=[address], **fields)
        r = rest("POST", "/v1/customers/%s/consents" % cid, self.key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        self.assertEqual(r.status, 200, r)
        return cid, address

    def subjects(self, address):
        return sorted(m["Subject"] for m in stack.mails() if m["X-Sink-Rcpt-To"] == address)

    def enrollment(self, jid, cid):
        r = rest("GET", "/v1/journeys/%s/enrollments?customerId=%s" % (jid, cid), self.key)
        self.assertEqual(r.status, 200, r)
        es = r.json().get("enrollments", [])
        return es[0] if len(es) == 1 else None

    def order(self, cid):
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("o"), self.key,
                 {"customerId": cid, "currencyCode": "CHF", "channel": "SALES_CHANNEL_WEB",
                  "lines": [{"sku": self.sku, "quantity": "1", "unitPriceMinor": "500"}]})
        self.assertEqual(r.status, 200, r)

    def test_a_segment_entry_walks_mail_wait_condition_and_attribute(self):
        jid = self.active({
            "name": "Club onboarding",
            "trigger": {"kind": "TRIGGER_KIND_SEGMENT_ENTERED", "segmentId": "club"},
            "steps": [
                {"stepId": "welcome", "send": mail("hello")},
                {"stepId": "pause", "wait": {"durationSeconds": "2"}},
                {"stepId": "is-gold", "condition": {"expression": 'attr.tier = "gold"',
                                                    "elseStepId": "tag"}},
                {"stepId": "gift", "send": mail("gold")},
                {"stepId": "done", "exit": {}},
                {"stepId": "tag", "updateAttribute": {"attribute": "journey_stage",
                                                      "value": {"stringValue": "nurtured"}}}]})
        gold, gold_address = self.customer(attributes={"tier": {"stringValue": "gold"},
                                                       "plan": {"stringValue": "basic"}})
        plain, plain_address = self.customer(attributes={"plan": {"stringValue": "basic"}})
        for cid in (gold, plain):
            r = rest("PATCH", "/v1/customers/%s?updateMask=attributes.plan" % cid, self.key,
                     {"attributes": {"plan": {"stringValue": "club"}}})
            self.assertEqual(r.status, 200, r)
        stack.wait_for("the gift", lambda: self.subjects(gold_address) == [
            "A gift for gold", "Welcome to the club"], timeout=60)
        stack.wait_for("the tag", lambda: rest("GET", "/v1/customers/" + plain, self.key).json()[
            "attributes"].get("journey_stage") == {"stringValue": "nurtured"}, timeout=60)
        self.assertEqual(self.subjects(plain_address), ["Welcome to the club"])
        e = stack.wait_for("completed", lambda: (lambda x: x if x and x[
            "state"] == "ENROLLMENT_STATE_COMPLETED" else None)(self.enrollment(jid, gold)))
        self.assertEqual(e["exitReason"], "exit_step")
        self.assertEqual([s["stepId"] for s in e["steps"]],
                         ["welcome", "pause", "is-gold", "gift", "done"])
        e = stack.wait_for("completed", lambda: (lambda x: x if x and x[
            "state"] == "ENROLLMENT_STATE_COMPLETED" else None)(self.enrollment(jid, plain)))
        self.assertEqual([s["stepId"] for s in e["steps"]],
                         ["welcome", "pause", "is-gold", "tag"])
        res = rest("GET", "/v1/journeys/%s/results" % jid, self.key).json()
        self.assertEqual(res["enrolled"], "2")
        self.assertEqual(res["enrollments"], {"completed": "2"})
        steps = {s["stepId"]: s for s in res["steps"]}
        self.assertEqual(steps["welcome"]["entered"], "2")
        self.assertEqual(steps["gift"]["entered"], "1")
        self.assertEqual(steps["tag"]["entered"], "1")
        stack.wait_for("sent counted", lambda: rest(
            "GET", "/v1/journeys/%s/results" % jid, self.key).json()["steps"][0].get(
            "messages") == {"sent": "2"})
        # The journey's mails are the customer's messages (timeline, results).
        msgs = rest("GET", "/v1/customers/%s/messages" % gold, self.key).json()["messages"]
        self.assertEqual(sorted(m["templateId"] for m in msgs), ["gold", "hello"])
        # Out of the segment and in again: re-entry once, no second welcome.
        for plan in ("basic", "club"):
            rest("PATCH", "/v1/customers/%s?updateMask=attributes.plan" % gold, self.key,
                 {"attributes": {"plan": {"stringValue": plan}}})
            time.sleep(1.5)
        self.assertEqual(len(self.subjects(gold_address)), 2)
        r = rest("GET", "/v1/journeys/%s/enrollments" % jid, self.key)
        self.assertEqual(len(r.json()["enrollments"]), 2)

    def test_a_wait_outlasts_a_restart_and_an_order_ends_the_wait_or_the_journey(self):
        jid = self.active({
            "name": "Order nudge",
            "steps": [
                {"stepId": "wait-order", "waitForEvent": {
                    "event": {"kind": "TRIGGER_KIND_ORDER_PLACED"}, "timeoutSeconds": "4",
                    "onEventStepId": "thanks"}},
                {"stepId": "nudge", "send": mail("nudge")},
                {"stepId": "stop", "exit": {}},
                {"stepId": "thanks", "send": mail("thanks", "PURPOSE_TRANSACTIONAL")}]})
        goal = self.active({
            "name": "Until they order",
            "goal": {"kind": "TRIGGER_KIND_ORDER_PLACED"},
            "steps": [{"stepId": "later", "wait": {"durationSeconds": "600"}},
                      {"stepId": "nudge", "send": mail("nudge")}]})
        waits, waits_address = self.customer()
        orders, orders_address = self.customer()
        reached, reached_address = self.customer()
        for jid_, cid in ((jid, waits), (jid, orders), (goal, reached)):
            r = rest("POST", "/v1/journeys/%s:enroll" % jid_, self.key,
                     {"customerId": cid, "requestId": stack.unique("e")})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["state"], "ENROLLMENT_STATE_ACTIVE")
        e = self.enrollment(jid, waits)
        self.assertTrue(e["waitingForEvent"])
        self.assertEqual(e["stepId"], "wait-order")
        # The same enrolment again: refused while the policy is "once".
        self.assertError(rest("POST", "/v1/journeys/%s:enroll" % jid, self.key,
                              {"customerId": waits, "requestId": stack.unique("e")}),
                         409, "JOURNEY_ENROLLMENT_EXISTS")
        # The delivery service stops while the customers wait, and comes back.
        stack.stop_service("delivery")
        self.order(orders)
        self.order(reached)
        time.sleep(1)
        stack.start_service("delivery")
        # The gateway's channel to delivery reconnects with its back-off.
        stack.wait_for("delivery through the gateway", lambda: rest(
            "GET", "/v1/journeys/" + jid, self.key).status == 200, timeout=60)
        stack.wait_for("the nudge after the timeout",
                       lambda: self.subjects(waits_address) == ["Still thinking?"], timeout=60)
        stack.wait_for("the thanks after the order",
                       lambda: self.subjects(orders_address) == ["Thanks for your order"],
                       timeout=60)
        self.assertEqual([s["stepId"] for s in self.enrollment(jid, orders)["steps"]],
                         ["wait-order", "thanks"])
        e = stack.wait_for("goal", lambda: (lambda x: x if x["state"] ==
                           "ENROLLMENT_STATE_GOAL_REACHED" else None)(
            self.enrollment(goal, reached)))
        self.assertEqual(e["exitReason"], "goal")
        self.assertEqual(self.subjects(reached_address), [])
        res = rest("GET", "/v1/journeys/%s/results" % goal, self.key).json()
        self.assertEqual(res["exitReasons"], {"goal": "1"})

    def test_bad_journeys_and_actions_are_refused_clearly(self):
        base = {"name": "Bad", "steps": [{"stepId": "a", "send": mail("hello")}]}
        self.assertError(self.create(dict(base, steps=[{"stepId": "a", "send": mail("hello"),
                                                        "nextStepId": "nowhere"}])),
                         400, "INVALID_FIELD", "steps.next_step_id")
        self.assertError(self.create(dict(base, steps=[{"stepId": "a"}])),
                         400, "INVALID_FIELD", "steps")
        self.assertError(self.create(dict(base, steps=[
            {"stepId": "a", "condition": {"expression": "attr.plan = = 1"}}])),
            400, "INVALID_FIELD", "steps.condition.expression")
        self.assertError(self.create(dict(base, steps=[
            {"stepId": "a", "send": mail("hello")},
            {"stepId": "b", "condition": {"expression": 'attr.plan = "x"', "elseStepId": "a"}}])),
            400, "INVALID_FIELD", "steps")
        self.assertError(self.create(dict(base, steps=[{"stepId": "a", "send": mail("nope")}])),
                         404, "TEMPLATE_NOT_FOUND", "steps.send.template_id")
        self.assertError(self.create(dict(base, trigger={
            "kind": "TRIGGER_KIND_SEGMENT_ENTERED", "segmentId": "nobody"})),
            404, "SEGMENT_NOT_FOUND", "trigger.segment_id")
        self.assertError(self.create(dict(base, unknownField=1)), 400, "UNKNOWN_FIELD",
                         "unknownField")
        r = self.create(base)
        self.assertEqual(r.status, 200, r)
        jid = r.json()["journeyId"]
        self.assertError(self.act(jid, "pause"), 400, "JOURNEY_STATE_INVALID")
        self.assertError(rest("POST", "/v1/journeys/%s:enroll" % jid, self.key,
                              {"customerId": stack.new_customer(self.key),
                               "requestId": stack.unique("e")}), 400, "JOURNEY_STATE_INVALID")
        # A draft is edited under its etag.
        self.assertError(rest("PATCH", "/v1/journeys/%s?requestId=%s" % (jid, stack.unique("u")),
                              self.key, dict(base, name="Better", etag="7")), 412, "ETAG_MISMATCH")
        r = rest("PATCH", "/v1/journeys/%s?requestId=%s" % (jid, stack.unique("u")), self.key,
                 dict(base, name="Better", etag="1"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "Better")
        self.assertEqual(self.act(jid, "archive").json()["state"], "JOURNEY_STATE_ARCHIVED")
        self.assertError(self.act(jid, "activate"), 400, "JOURNEY_STATE_INVALID")
        self.assertError(rest("GET", "/v1/journeys/not-an-id", self.key), 404,
                         "JOURNEY_NOT_FOUND")

    def test_other_tenants_see_no_journey(self):
        jid = self.active({"name": "Mine", "steps": [{"stepId": "a", "send": mail("hello")}]})
        _, other = stack.create_tenant()
        for method, path in (("GET", "/v1/journeys/" + jid),
                             ("GET", "/v1/journeys/%s/results" % jid),
                             ("GET", "/v1/journeys/%s/enrollments" % jid)):
            self.assertError(rest(method, path, other), 404, "JOURNEY_NOT_FOUND")
        self.assertError(self.act(jid, "pause", key=other), 404, "JOURNEY_NOT_FOUND")
        self.assertError(rest("POST", "/v1/journeys/%s:enroll" % jid, other,
                              {"customerId": stack.new_customer(other),
                               "requestId": stack.unique("e")}), 404, "JOURNEY_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/journeys", other).json(), {})
        listed = rest("GET", "/v1/journeys", self.key).json()["journeys"]
        self.assertIn(jid, [j["journeyId"] for j in listed])


if __name__ == "__main__":
    unittest.main()
