"""Behaviour events through the gateway (REST and gRPC): POST /v1/events:track
with per-event results, request_id replay, identity stitching with
POST /v1/customers/{id}:identify, sessions in the 360 view, the export, the
erasure, and the behaviour.* events reaching the event backbone."""

import time
import unittest
import urllib.parse

import grpc

import stack
from stack import rest, wait_for

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

    def test_timeline_lists_visits_between_interactions(self):
        r = rest("POST", "/v1/customers", self.key, {"givenName": "Tim"})
        self.assertEqual(r.status, 200, r)
        cid = r.json()["id"]
        r = self.track([
            {"type": "page.viewed", "customerId": cid, "occurTime": iso(3 * 3600),
             "properties": {"path": "/landing", "utmCampaign": "spring"}},
            {"type": "cart.item_added", "customerId": cid, "occurTime": iso(3 * 3600 - 600),
             "properties": {"sku": "SKU-1"}},
            {"type": "product.viewed", "customerId": cid, "occurTime": iso(3600),
             "properties": {"sku": "SKU-2"}}])
        self.assertEqual(r.json().get("accepted"), 3, r)
        r = rest("POST", "/v1/customers/%s/interactions" % cid, self.key,
                 {"kind": "INTERACTION_KIND_CALL", "summary": "called", "occurTime": iso(2 * 3600)})
        self.assertEqual(r.status, 200, r)
        path = "/v1/customers/%s/interactions" % cid
        entries = rest("GET", path, self.key).json()["interactions"]
        self.assertEqual([(e["kind"], e.get("source", "")) for e in entries],
                         [("INTERACTION_KIND_WEB_VISIT", "behaviour"),
                          ("INTERACTION_KIND_CALL", ""),
                          ("INTERACTION_KIND_WEB_VISIT", "behaviour")], entries)
        first = entries[2]
        self.assertEqual(first["payload"]["event_count"], 2)
        self.assertEqual(first["payload"]["landing_path"], "/landing")
        self.assertEqual(first["payload"]["utm_campaign"], "spring")
        self.assertIn("1 cart add", first["summary"])
        # Page by page: the same entries, each once.
        seen, token = [], ""
        for _ in range(10):
            r = rest("GET", path + "?pageSize=1" + ("&pageToken=" + q(token) if token else ""),
                     self.key)
            self.assertEqual(r.status, 200, r)
            seen += [e["id"] for e in r.json().get("interactions", [])]
            token = r.json().get("nextPageToken", "")
            if not token:
                break
        self.assertEqual(seen, [e["id"] for e in entries])
        # Visits only; another kind has none.
        r = rest("GET", path + "?kind=INTERACTION_KIND_WEB_VISIT", self.key)
        self.assertEqual(len(r.json()["interactions"]), 2, r)
        r = rest("GET", path + "?kind=INTERACTION_KIND_CALL", self.key)
        self.assertEqual(len(r.json()["interactions"]), 1, r)
        # Another tenant does not see the customer's timeline.
        _, other = stack.create_tenant()
        self.assertEqual(rest("GET", path, other).status, 404)

    def test_identify_event_in_a_batch(self):
        r = rest("POST", "/v1/customers", self.key, {"givenName": "Ivy"})
        cid = r.json()["id"]
        visitor = stack.unique("ivy")
        r = self.track([{"type": "page.viewed", "visitorId": visitor},
                        {"type": "identify", "customerId": cid, "visitorId": visitor},
                        {"type": "product.viewed", "visitorId": visitor,
                         "properties": {"sku": "SKU-9"}},
                        {"type": "identify", "visitorId": visitor}])
        self.assertEqual(r.status, 200, r)
        results = r.json()["results"]
        self.assertEqual([x["outcome"] for x in results],
                         ["OUTCOME_ACCEPTED"] * 3 + ["OUTCOME_REFUSED"], results)
        self.assertEqual(results[1].get("customerId"), cid)
        self.assertNotIn("eventId", results[1])
        self.assertEqual(results[2].get("customerId"), cid)
        self.assertEqual((results[3]["reason"], results[3]["field"]),
                         ("INVALID_FIELD", "customer_id"))
        # Both events count for the customer; the visitor is its identity.
        export = rest("GET", "/v1/customers/%s:export" % cid, self.key).json()
        self.assertEqual(len(export["behaviourEvents"]), 2, export)
        view = rest("GET", "/v1/customers/%s/view" % cid, self.key).json()
        self.assertIn(visitor, [i["value"] for i in view["identities"]])
        self.assertEqual(stack.query_db(
            "SELECT count(*) FROM customer_store.outbox WHERE event_type = 'customer.identified' "
            "AND payload->>'visitor_id' = '%s'" % visitor), [["1"]])
        # Another customer may not take the visitor.
        r = rest("POST", "/v1/customers", self.key, {"givenName": "Other"})
        r = self.track([{"type": "identify", "customerId": r.json()["id"], "visitorId": visitor}])
        self.assertEqual(r.json()["results"][0]["reason"], "IDENTITY_TAKEN", r)

    def test_read_only_role_may_not_track(self):
        _, ro = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        r = self.track([{"type": "page.viewed", "visitorId": "v"}], key=ro)
        self.assertEqual(r.status, 403, r)


class Retention(stack.E2ETestCase):
    """GET/PATCH /v1/behaviour/settings and the purge job (every second here)."""

    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        _, cls.other_key = stack.create_tenant()

    def settings(self, key=None):
        r = rest("GET", "/v1/behaviour/settings", key or self.key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def patch(self, body, request_id=None, key=None, headers=None):
        path = "/v1/behaviour/settings"
        if request_id is not False:
            path += "?requestId=" + (request_id or stack.unique("ret"))
        return rest("PATCH", path, key or self.key, body, headers=headers)

    def count(self, visitor):
        return int(stack.query_db(
            "SELECT count(*) FROM customer_store.behaviour_events WHERE visitor_id = '%s'" %
            visitor)[0][0])

    def test_refusals(self):
        self.assertEqual(self.settings(), {"retentionDays": 0, "etag": "0"})
        body = {"retentionDays": 30}
        r = self.patch(body, request_id=False)
        self.assertEqual((r.status, r.reason()), (400, "INVALID_FIELD"), r)
        for bad in ({"retentionDays": 3651}, {"retentionDays": -1}, {}):
            r = self.patch(bad)
            self.assertEqual((r.status, r.error_field()), (400, "settings.retention_days"), r)
        r = self.patch({"retentionDays": 30, "keepForever": True})
        self.assertEqual(r.status, 400, r)
        r = self.patch(body, headers={"If-Match": '"9"'})
        self.assertEqual((r.status, r.reason()), (412, "ETAG_MISMATCH"), r)
        _, marketer = stack.create_key(self.key, ["ROLE_MARKETER"])
        self.assertEqual(self.patch(body, key=marketer).status, 403)
        self.assertEqual(self.settings(key=marketer)["etag"], "0")  # every role reads
        self.assertEqual(self.settings()["etag"], "0")  # nothing was written

    def test_retention_purges_old_events_of_this_tenant_only(self):
        old, recent = stack.unique("old"), stack.unique("new")
        events = [{"type": "page.viewed", "visitorId": old, "occurTime": iso(60 * 86400)},
                  {"type": "page.viewed", "visitorId": old, "occurTime": iso(45 * 86400)},
                  {"type": "page.viewed", "visitorId": recent, "occurTime": iso(3600)}]
        for key in (self.key, self.other_key):
            r = rest("POST", "/v1/events:track", key, {"events": events})
            self.assertEqual((r.status, r.json().get("accepted")), (200, 3), r)
        self.assertEqual(self.count(old), 4)

        request_id = stack.unique("ret")
        r = self.patch({"retentionDays": 30}, request_id=request_id, headers={"If-Match": '"0"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["retentionDays"], r.json()["etag"]), (30, "1"), r)
        self.assertIn("updateTime", r.json())
        # The retry answers the first call; the key with another body is refused.
        again = self.patch({"retentionDays": 30}, request_id=request_id,
                           headers={"If-Match": '"0"'})
        self.assertEqual((again.status, again.json()), (200, r.json()))
        self.assertEqual(self.patch({"retentionDays": 7}, request_id=request_id).status, 422)
        # The other tenant keeps its defaults and its events.
        self.assertEqual(self.settings(self.other_key)["etag"], "0")

        wait_for("the purge round", lambda: self.count(old) == 2)
        self.assertEqual(self.count(recent), 2)
        self.assertEqual(stack.query_db(
            "SELECT count(DISTINCT tenant_id) FROM customer_store.behaviour_events "
            "WHERE visitor_id = '%s'" % old), [["1"]])
        # Back to keeping everything.
        r = self.patch({"retentionDays": 0})
        self.assertEqual((r.status, r.json()["retentionDays"], r.json()["etag"]), (200, 0, "2"), r)


    def test_segments_count_behaviour_within_the_retention_only(self):
        tenant, key = stack.create_tenant()
        r = rest("POST", "/v1/customers", key, {"givenName": "Seg"})
        self.assertEqual(r.status, 200, r)
        cid = r.json()["id"]
        r = rest("POST", "/v1/events:track", key,
                 {"events": [{"type": "page.viewed", "customerId": cid,
                              "occurTime": iso(60 * 86400)}]})
        self.assertEqual(r.json().get("accepted"), 1, r)
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("seg"), key,
                 {"segmentId": "viewers", "displayName": "viewers",
                  "expression": "count(page.viewed, 365d) >= 1"})
        self.assertEqual(r.status, 200, r)

        def members():
            r = rest("GET", "/v1/segments/viewers/members", key)
            return [m["customerId"] for m in r.json().get("members", [])]

        wait_for("the viewer", lambda: members() == [cid])
        r = self.patch({"retentionDays": 30}, key=key)
        self.assertEqual(r.status, 200, r)
        # The view is 60 days old: past the retention it counts in no window.
        wait_for("the viewer to leave", lambda: members() == [])
        r = rest("GET", "/v1/segmentation/settings", key)
        self.assertEqual((r.json().get("behaviourRetentionDays"), r.json().get("etag")), (30, "0"), r)
        # Both engines purge their rows of it.
        wait_for("the purge in both engines", lambda: stack.query_db(
            "SELECT (SELECT count(*) FROM customer_store.behaviour_events WHERE tenant_id = '%s')"
            " + (SELECT count(*) FROM segmentation.behaviour WHERE tenant_id = '%s')"
            % (tenant["id"], tenant["id"])) == [["0"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
