"""The 360 view's sections from the segmentation engine, through the gateway.

With segmentation up, the view carries `scores` (its section available) and
`segments` (a live segment the customer is in shows there). Then
segmentation is stopped: the view
still answers 200 with customer-store's own sections, both engine sections
absent and each one's status saying why. This module stops a service of the
stack, so its tests run in name order and the stack is not reused after it
(every e2e module starts its own)."""

import json
import time
import unittest

import stack
from stack import rest

ENGINE_SECTIONS = ("scores", "segments")


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise AssertionError("JSON object with duplicate keys %s" % dup)
    return dict(pairs)


class ViewSections(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.customer = stack.new_customer(cls.key, givenName="Ada")

    def view(self):
        r = rest("GET", "/v1/customers/%s/view" % self.customer, self.key)
        self.assertEqual(r.status, 200, r)
        # One key per field: the engine sections are merged into the view,
        # not written after it (a second "sections" key would hide the first).
        v = json.loads(r.body, object_pairs_hook=no_duplicate_keys)
        self.assertEqual(v["customer"]["id"], self.customer, v)
        sections = {}
        for s in v.get("sections", []):
            self.assertNotIn(s["name"], sections, "section %s listed twice" % s["name"])
            sections[s["name"]] = s
        for own in ("profile", "identities", "consents", "timeline", "purchases", "sessions"):
            self.assertTrue(sections[own].get("available"), sections)
            self.assertNotIn("status", sections[own])
        return v, sections

    def test_1_sections_with_segmentation_up(self):
        v, sections = self.view()
        scores = sections["scores"]
        self.assertEqual(scores["owner"], "segmentation")
        self.assertTrue(scores.get("available"), scores)
        self.assertNotIn("status", scores)
        # A customer without purchases: no model scores, and the reason why.
        self.assertIn("scores", v)
        self.assertFalse(v["scores"].get("hasModelScores", False), v["scores"])
        self.assertTrue(v["scores"].get("modelAbsentReason"), v["scores"])
        segments = sections["segments"]
        self.assertEqual(segments["owner"], "segmentation")
        self.assertTrue(segments.get("available"), segments)
        self.assertIn("segments", v)  # present, possibly empty
        self.assertMembershipShows()

    def assertMembershipShows(self):
        """A live segment every customer without purchases is in shows in the
        view's segments section once segmentation has the customer."""
        seg_id = "noorders%s" % stack.unique("s")[-6:]
        r = rest("POST", "/v1/segments?requestId=%s" % stack.unique("req"), self.key,
                 {"segmentId": seg_id, "displayName": "No orders",
                  "expression": "NOT purchased(3650d)"})
        self.assertEqual(r.status, 200, r)
        deadline = time.monotonic() + 15
        found = []
        while time.monotonic() < deadline:
            v, sections = self.view()
            self.assertTrue(sections["segments"].get("available"), sections)
            found = [m for m in v["segments"].get("segments", []) if m["segmentId"] == seg_id]
            if found:
                break
            time.sleep(0.2)
        self.assertEqual(len(found), 1, "segment %s not in the view's segments" % seg_id)
        self.assertEqual(found[0]["displayName"], "No orders")
        self.assertIn("enterTime", found[0])

    def test_2_sections_with_segmentation_down(self):
        stack.stop_service("segmentation")
        # The engine's last answers are reused for CRM_VIEW_SECTIONS_TTL (5 s):
        # within it the sections still show; past it they say why they are gone.
        stopped = time.monotonic()
        while True:
            v, sections = self.view()
            if not sections["scores"].get("available", False):
                break
            self.assertLess(time.monotonic() - stopped, 10, "sections kept past the TTL")
            time.sleep(0.5)
        for name in ENGINE_SECTIONS:
            self.assertNotIn(name, v)
            s = sections[name]
            self.assertFalse(s.get("available", False), s)
            self.assertIn(s["status"]["code"], ("UNAVAILABLE", "DEADLINE_EXCEEDED"), s)
            self.assertEqual(s["status"]["reason"], "DEPENDENCY_UNAVAILABLE", s)
            self.assertTrue(s["status"].get("retryable"), s)
            self.assertIn("segmentation", s["status"]["message"], s)
        # gRPC through the gateway reads the same view.
        cs, cs_grpc, _, _ = stack.grpc_modules()
        channel = stack.grpc_channel()
        try:
            view = cs_grpc.CustomerStoreServiceStub(channel).GetCustomerView(
                cs.GetCustomerViewRequest(customer_id=self.customer),
                metadata=stack.auth(self.key), timeout=10)
        finally:
            channel.close()
        self.assertFalse(view.HasField("scores"))
        self.assertFalse(view.HasField("segments"))
        status = {s.name: s for s in view.sections}
        for name in ENGINE_SECTIONS:
            self.assertFalse(status[name].available)
            self.assertIn(status[name].status.code, ("UNAVAILABLE", "DEADLINE_EXCEEDED"))


if __name__ == "__main__":
    unittest.main()
