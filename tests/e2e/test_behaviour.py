"""Behaviour events through the gateway (REST and gRPC): POST /v1/events:track
with per-event results, request_id replay, identity stitching with
POST /v1/customers/{id}:identify, sessions in the 360 view, the export, the
erasure, and the behaviour.* events reaching the event backbone."""

import time
import unittest
import urllib.parse

import grpc

import stack
from stack import rest

DEADLINE = 10
cs = cs_grpc = None
channel = None


def setUpModule():
    global cs, cs_grpc, channel
    stack.start()
    cs, cs_grpc, _, _ = stack.grpc_modules()
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


def iso(seconds_ago=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


class Behaviour(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.email = stack.unique("bh") + "@example.com"
        r = rest("POST", "/v1/customers", cls.key, {"givenName": "Ada", "emails": [cls.email]})
        assert r.status == 200, r
        cls.cid = r.json()["id"]

    def track(self, events, key=None, request_id=None):
        body = {"events": events}
        if request_id:
            body["requestId"] = request_id
        return rest("POST", "/v1/events:track", key or self.key, body)

    def test_track_batch_answers_per_event(self):
        visitor = stack.unique("vis")
        events = [
            {"type": "page.viewed", "customerId": self.cid,
             "properties": {"url": "https://shop.example/", "path": "/"},
             "context": {"ip": "203.0.113.77", "userAgent": "Mozilla/5.0 (iPhone) Mobile"}},
            {"type": "search.performed", "email": self.email.upper(),
             "properties": {"searchQuery": "shoes", "utmCampaign": "winter"}},
            {"type": "product.viewed", "visitorId": visitor, "occurTime": iso(60),
             "properties": {"sku": "SKU-1", "categoryPath": ["shoes", "running"],
                            "value": 99.5, "currencyCode": "CHF"}},
            {"type": "order.placed", "visitorId": visitor},
            {"type": "page.viewed", "visitorId": visitor, "occurTime": iso(-3600)},
            {"type": "page.viewed", "email": "nobody-" + self.email},
            {"type": "x.video_played", "visitorId": visitor,
             "properties": {"custom": {"video": "intro"}}},
            {"type": "page.viewed", "visitorId": visitor,
             "properties": {"path": "x" * 1025}},
        ]
        r = self.track(events)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j["accepted"], 4, j)
        self.assertEqual(j["refused"], 4, j)
        res = j["results"]
        self.assertEqual([x.get("index", 0) for x in res], list(range(len(events))))
        self.assertEqual([x["outcome"] for x in res],
                         ["OUTCOME_ACCEPTED", "OUTCOME_ACCEPTED", "OUTCOME_ACCEPTED",
                          "OUTCOME_REFUSED", "OUTCOME_REFUSED", "OUTCOME_REFUSED",
                          "OUTCOME_ACCEPTED", "OUTCOME_REFUSED"])
        self.assertEqual(res[0]["customerId"], self.cid)
        self.assertEqual(res[1]["customerId"], self.cid)
        self.assertNotIn("customerId", res[2])
        self.assertEqual(res[3]["reason"], "UNKNOWN_EVENT_TYPE")
        self.assertEqual(res[4]["reason"], "EVENT_TIME_OUT_OF_RANGE")
        self.assertEqual(res[5]["reason"], "CUSTOMER_NOT_RESOLVED")
        self.assertEqual(res[7]["reason"], "EVENT_TOO_LARGE")
        self.assertEqual(res[7]["field"], "properties.path")
        # Stored reduced: no raw IP, no user agent.
        eid = res[0]["eventId"]
        rows = stack.query_db(
            "SELECT ip_prefix, device_class, properties::text FROM customer_store.behaviour_events "
            "WHERE id = '%s'" % eid)
        self.assertEqual(rows[0][:2], ["203.0.113.0", "2"])
        self.assertNotIn("203.0.113.77", rows[0][2])
        self.assertNotIn("iPhone", rows[0][2])
        # The events reach the event backbone (published from the outbox).
        deadline = time.monotonic() + 5
        while True:
            # One behaviour.tracked event lists the batch's accepted events.
            published = stack.query_db(
                "SELECT count(*) FROM customer_store.outbox o, "
                "jsonb_array_elements(o.payload->'events') e WHERE "
                "o.event_type = 'behaviour.tracked' AND e->>'event_id' IN (%s) "
                "AND o.published_at IS NOT NULL" %
                ",".join("'%s'" % x["eventId"] for x in res if "eventId" in x))
            if published[0][0] == "4" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(published[0][0], "4")

    def test_non_utf8_body_is_refused(self):
        # proto3 strings are UTF-8: a body (or gRPC message) carrying other
        # bytes does not parse, so it is refused whole (the domain's per-event
        # INVALID_UTF8 check is the backstop behind the parsers).
        raw = (b'{"events": [{"type": "page.viewed", "visitorId": "v1", "properties": '
               b'{"searchQuery": "caf\xe9"}}, {"type": "page.viewed", "visitorId": "v1"}]}')
        r = rest("POST", "/v1/events:track", self.key, raw=raw,
                 headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)

    def test_batch_bounds(self):
        r = self.track([])
        self.assertError(r, 400, "INVALID_FIELD", "events")
        r = self.track([{"type": "page.viewed", "visitorId": "v"}] * 501)
        self.assertError(r, 400, "INVALID_FIELD", "events")
        r = self.track([{"type": "page.viewed", "visitorId": "v", "properties": {"path": "/"}}] * 500)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["accepted"], 500)

    def test_request_id_replays_the_first_results(self):
        rid = stack.unique("trk")
        events = [{"type": "page.viewed", "customerId": self.cid}]
        first = self.track(events, request_id=rid)
        self.assertEqual(first.status, 200, first)
        again = self.track(events, request_id=rid)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json(), first.json())
        eid = first.json()["results"][0]["eventId"]
        self.assertEqual(stack.query_db(
            "SELECT count(*) FROM customer_store.behaviour_events WHERE id = '%s'" % eid),
            [["1"]])
        other = self.track([{"type": "product.viewed", "customerId": self.cid}], request_id=rid)
        self.assertError(other, 422, "IDEMPOTENCY_KEY_REUSED")

    def test_identify_stitches_earlier_and_later_events_once(self):
        r = rest("POST", "/v1/customers", self.key, {"givenName": "Stitched"})
        self.assertEqual(r.status, 200, r)
        cid = r.json()["id"]
        visitor = stack.unique("vis")
        r = self.track([
            {"type": "page.viewed", "visitorId": visitor, "occurTime": iso(7200),
             "properties": {"path": "/landing", "utmCampaign": "spring"}},
            {"type": "product.viewed", "visitorId": visitor, "occurTime": iso(7000),
             "properties": {"sku": "SKU-2"}},
        ])
        self.assertEqual(r.json()["accepted"], 2, r)
        view = rest("GET", "/v1/customers/%s/view" % cid, self.key).json()
        self.assertEqual(view.get("recentSessions", []), [])

        r = rest("POST", "/v1/customers/%s:identify" % cid, self.key, {"visitorId": visitor})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["linked"])
        self.assertEqual(r.json()["earlierEvents"], "2")
        r = rest("POST", "/v1/customers/%s:identify" % cid, self.key, {"visitorId": visitor})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json().get("linked", False))
        # Another customer cannot take the visitor.
        r = rest("POST", "/v1/customers/%s:identify" % self.cid, self.key, {"visitorId": visitor})
        self.assertError(r, 409, "IDENTITY_TAKEN", "visitor_id")
        self.assertEqual(stack.query_db(
            "SELECT count(*) FROM customer_store.outbox WHERE event_type = 'customer.identified' "
            "AND customer_id = '%s'" % cid), [["1"]])

        # Later: the visitor's events are the customer's at once.
        r = self.track([{"type": "cart.item_added", "visitorId": visitor,
                         "properties": {"sku": "SKU-2", "quantity": "1"}}])
        self.assertEqual(r.json()["results"][0]["customerId"], cid)

        view = rest("GET", "/v1/customers/%s/view" % cid, self.key).json()
        sessions = view["recentSessions"]
        self.assertEqual(len(sessions), 2, sessions)  # now, and two hours ago
        self.assertEqual(sessions[0]["cartAdds"], "1")
        self.assertEqual(sessions[1]["eventCount"], "2")
        self.assertEqual(sessions[1]["landingPath"], "/landing")
        self.assertEqual(sessions[1]["utmCampaign"], "spring")
        self.assertIn({"kind": "IDENTITY_KIND_VISITOR", "value": visitor},
                      [{"kind": i["kind"], "value": i["value"]} for i in view["identities"]])

        export = rest("GET", "/v1/customers/%s:export" % cid, self.key).json()
        self.assertEqual(len(export["behaviourEvents"]), 3)
        self.assertEqual({e["type"] for e in export["behaviourEvents"]},
                         {"page.viewed", "product.viewed", "cart.item_added"})

        # Erasure takes the events and the visitor link with the customer.
        r = rest("DELETE", "/v1/customers/%s" % cid, self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["behaviourEventsErased"], "3")
        self.assertEqual(r.json()["identitiesErased"], "1")
        self.assertEqual(stack.query_db(
            "SELECT count(*) FROM customer_store.behaviour_events WHERE visitor_id = '%s'" %
            visitor), [["0"]])
        self.assertEqual(stack.query_db(
            "SELECT count(*) FROM customer_store.visitor_links WHERE visitor_id = '%s'" %
            visitor), [["0"]])

    def test_grpc_track_and_identify(self):
        store = cs_grpc.CustomerStoreServiceStub(channel)
        md = stack.auth(self.key)
        visitor = stack.unique("gv")
        resp = store.TrackEvents(cs.TrackEventsRequest(events=[
            cs.BehaviourEvent(type="product.viewed", customer_id=self.cid,
                              properties=cs.BehaviourProperties(sku="SKU-G")),
            cs.BehaviourEvent(type="page.viewed", visitor_id=visitor,
                              properties=cs.BehaviourProperties(search_query="café")),
            cs.BehaviourEvent(type="nope", visitor_id=visitor),
        ]), metadata=md, timeout=DEADLINE)
        self.assertEqual(resp.accepted, 2)
        self.assertEqual(resp.results[0].customer_id, self.cid)
        self.assertEqual(resp.results[2].outcome, cs.TrackEventResult.OUTCOME_REFUSED)
        self.assertEqual(resp.results[2].reason, "UNKNOWN_EVENT_TYPE")
        out = store.IdentifyCustomer(cs.IdentifyCustomerRequest(
            customer_id=self.cid, visitor_id=visitor), metadata=md, timeout=DEADLINE)
        self.assertTrue(out.linked)
        self.assertEqual(out.earlier_events, 1)
        with self.assertRaises(grpc.RpcError) as cm:
            store.TrackEvents(cs.TrackEventsRequest(), metadata=md, timeout=DEADLINE)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_read_only_role_may_not_track(self):
        _, ro = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        r = self.track([{"type": "page.viewed", "visitorId": "v"}], key=ro)
        self.assertEqual(r.status, 403, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
