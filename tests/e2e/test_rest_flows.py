"""REST/JSON flows through the gateway against the real services."""

import json
import unittest
import urllib.parse

import stack
from stack import rest


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


class RestFlows(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()

    def create(self, body, key=None):
        r = rest("POST", "/v1/customers", key or self.key, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def view(self, cid):
        r = rest("GET", "/v1/customers/%s/view" % cid, self.key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    # ------------------------------------------------------------ customers

    def test_create_normalizes_and_get_returns_etag(self):
        tag = stack.unique("ada")
        c = self.create({"givenName": "Ada", "familyName": "Lovelace",
                         "emails": [" Ada.%s@Example.COM " % tag], "phones": ["+41 44 555 01 01"],
                         "lifecycleStage": "LIFECYCLE_STAGE_LEAD"})
        self.assertEqual(c["emails"], ["ada.%s@example.com" % tag])
        self.assertEqual(c["phones"], ["+41445550101"])
        self.assertEqual(c["lifecycleStage"], "LIFECYCLE_STAGE_LEAD")
        self.assertTrue(c["id"] and c["etag"] and c["createTime"] and c["updateTime"])
        r = rest("GET", "/v1/customers/" + c["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], c["id"])
        self.assertEqual(r.json()["emails"], ["ada.%s@example.com" % tag])
        self.assertEqual(r.header("etag"), '"%s"' % r.json()["etag"])
        self.assertTrue(r.header("content-type").startswith("application/json"))

    def test_request_id_is_echoed(self):
        rid = "e2e-req-" + stack.unique()
        r = rest("GET", "/v1/customers?pageSize=1", self.key, headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-request-id"), rid)
        r = rest("GET", "/v1/customers/00000000-0000-4000-8000-000000000000", self.key,
                 headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "CUSTOMER_NOT_FOUND")
        self.assertEqual(r.json()["error"]["status"], "NOT_FOUND")
        self.assertEqual(r.json()["error"]["code"], 404)
        self.assertEqual(r.header("x-request-id"), rid)

    def test_list_pages_cover_all(self):
        _, key = stack.create_tenant()
        ids = {self.create({"givenName": "P%d" % i}, key)["id"] for i in range(7)}
        seen = []
        token = ""
        for _ in range(10):
            path = "/v1/customers?pageSize=3" + ("&pageToken=" + q(token) if token else "")
            r = rest("GET", path, key)
            self.assertEqual(r.status, 200, r)
            page = r.json().get("customers", [])
            self.assertLessEqual(len(page), 3)
            seen += [c["id"] for c in page]
            token = r.json().get("nextPageToken", "")
            if not token:
                break
        self.assertFalse(token, "paging did not end within 10 pages")
        self.assertEqual(len(seen), len(set(seen)), "a customer appeared on two pages")
        self.assertEqual(set(seen), ids)

    def test_search_by_email_phone_name_prefix(self):
        tag = stack.unique("srch")
        c = self.create({"givenName": "Grace", "familyName": "Hopper" + tag[-6:],
                         "emails": ["grace.%s@example.org" % tag], "phones": ["+1 (212) 555-0199"]})
        other = self.create({"givenName": "Alan", "emails": ["alan.%s@example.org" % tag]})
        for query in ("email=" + q(" GRACE.%s@Example.org " % tag),
                      "phone=" + q("+1 212 555 0199"),
                      "namePrefix=" + q("hopper" + tag[-6:].upper())):
            r = rest("GET", "/v1/customers:search?" + query, self.key)
            self.assertEqual(r.status, 200, (query, r))
            ids = [x["id"] for x in r.json().get("customers", [])]
            self.assertEqual(ids, [c["id"]], query)
            self.assertNotIn(other["id"], ids)
        r = rest("GET", "/v1/customers:search?email=" + q("nobody.%s@example.org" % tag), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("customers", []), [])

    def test_patch_with_update_mask_and_if_match(self):
        c = self.create({"givenName": "Old", "familyName": "Name", "locale": "de-CH"})
        r = rest("PATCH", "/v1/customers/%s?updateMask=givenName" % c["id"], self.key,
                 {"givenName": "New", "familyName": "Ignored"},
                 headers={"If-Match": '"%s"' % c["etag"]})
        self.assertEqual(r.status, 200, r)
        u = r.json()
        self.assertEqual(u["givenName"], "New")
        self.assertEqual(u["familyName"], "Name", "field outside the mask was changed")
        self.assertEqual(u["locale"], "de-CH")
        self.assertNotEqual(u["etag"], c["etag"])
        self.assertEqual(r.header("etag"), '"%s"' % u["etag"])
        # The old etag is stale now.
        r = rest("PATCH", "/v1/customers/%s?updateMask=familyName" % c["id"], self.key,
                 {"familyName": "Stale"}, headers={"If-Match": '"%s"' % c["etag"]})
        self.assertEqual(r.status, 412, r)  # Precondition Failed (RFC 9110)
        self.assertEqual(r.json()["error"]["code"], 412, r)
        self.assertEqual(r.json()["error"]["status"], "ABORTED")
        self.assertEqual(r.reason(), "ETAG_MISMATCH")
        r = rest("GET", "/v1/customers/" + c["id"], self.key)
        self.assertEqual(r.json()["familyName"], "Name")
        self.assertEqual(r.json()["etag"], u["etag"])
        # Stale If-Match on DELETE is refused as well, and nothing is erased.
        r = rest("DELETE", "/v1/customers/" + c["id"], self.key,
                 headers={"If-Match": '"%s"' % c["etag"]})
        self.assertEqual(r.status, 412, r)
        self.assertEqual(r.reason(), "ETAG_MISMATCH")
        self.assertEqual(rest("GET", "/v1/customers/" + c["id"], self.key).status, 200)

    def test_upsert_is_idempotent_by_identity(self):
        tag = stack.unique("ups")
        body = {"customer": {"givenName": "Up", "emails": ["%s@example.com" % tag],
                             "externalIds": [{"source": "erp", "value": tag}]}}
        r1 = rest("POST", "/v1/customers:upsert", self.key, body)
        self.assertEqual(r1.status, 200, r1)
        self.assertTrue(r1.json().get("created", False))
        cid = r1.json()["customer"]["id"]
        r2 = rest("POST", "/v1/customers:upsert", self.key, body)
        self.assertEqual(r2.status, 200, r2)
        self.assertFalse(r2.json().get("created", False))
        self.assertEqual(r2.json()["customer"]["id"], cid)
        # Resolving by another spelling of the same email finds the same customer.
        r3 = rest("POST", "/v1/customers:upsert", self.key,
                  {"customer": {"emails": [" %s@EXAMPLE.com" % tag.upper()]}})
        self.assertEqual(r3.status, 200, r3)
        self.assertFalse(r3.json().get("created", False))
        self.assertEqual(r3.json()["customer"]["id"], cid)
        r = rest("GET", "/v1/customers:search?email=" + q("%s@example.com" % tag), self.key)
        self.assertEqual([c["id"] for c in r.json().get("customers", [])], [cid])

    def test_writes_with_request_id_replay_the_first_answer(self):
        tag = stack.unique("rid")
        rid = "rid-" + tag
        body = {"givenName": "First", "emails": ["%s@example.com" % tag]}
        r1 = rest("POST", "/v1/customers?requestId=" + q(rid), self.key, body)
        self.assertEqual(r1.status, 200, r1)
        cid = r1.json()["id"]
        # The customer changes; a retry still answers the first call's bytes.
        r = rest("PATCH", "/v1/customers/%s?updateMask=givenName" % cid, self.key,
                 {"givenName": "Changed"})
        self.assertEqual(r.status, 200, r)
        r2 = rest("POST", "/v1/customers?requestId=" + q(rid), self.key, body)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.body, r1.body)
        # The same request_id with another body: 422, nothing written.
        r3 = rest("POST", "/v1/customers?requestId=" + q(rid), self.key,
                  {"givenName": "Other", "emails": ["other.%s@example.com" % tag]})
        self.assertError(r3, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        r = rest("GET", "/v1/customers:search?email=" + q("other.%s@example.com" % tag), self.key)
        self.assertEqual(r.json().get("customers", []), [])

        # An upsert that created answers created=true on its retry too.
        urid = "urid-" + tag
        ubody = {"customer": {"givenName": "Up", "emails": ["up.%s@example.com" % tag]},
                 "requestId": urid}
        u1 = rest("POST", "/v1/customers:upsert", self.key, ubody)
        self.assertEqual(u1.status, 200, u1)
        self.assertTrue(u1.json().get("created", False))
        u2 = rest("POST", "/v1/customers:upsert", self.key, ubody)
        self.assertEqual(u2.status, 200, u2)
        self.assertEqual(u2.body, u1.body)

    def test_update_and_delete_with_request_id_replay_the_first_answer(self):
        tag = stack.unique("udr")
        c = self.create({"givenName": "Before", "emails": ["%s@example.com" % tag]})
        path = "/v1/customers/%s?updateMask=givenName&requestId=%s" % (c["id"], q("upd-" + tag))
        u1 = rest("PATCH", path, self.key, {"givenName": "After"})
        self.assertEqual(u1.status, 200, u1)
        # Changed since: the retry still answers the first update, applying nothing.
        r = rest("PATCH", "/v1/customers/%s?updateMask=givenName" % c["id"], self.key,
                 {"givenName": "Later"})
        self.assertEqual(r.status, 200, r)
        u2 = rest("PATCH", path, self.key, {"givenName": "After"})
        self.assertEqual(u2.status, 200, u2)
        self.assertEqual(u2.body, u1.body)
        self.assertEqual(rest("GET", "/v1/customers/" + c["id"], self.key).json()["givenName"],
                         "Later")
        u3 = rest("PATCH", path, self.key, {"givenName": "Else"})
        self.assertError(u3, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")

        # The stored answers named the customer: its erasure forgets them,
        # and a retry of the update now reads it as it is (gone).
        dpath = "/v1/customers/%s?requestId=%s" % (c["id"], q("del-" + tag))
        d1 = rest("DELETE", dpath, self.key)
        self.assertEqual(d1.status, 200, d1)
        d2 = rest("DELETE", dpath, self.key)
        self.assertEqual(d2.status, 200, d2)
        self.assertEqual(d2.body, d1.body)
        self.assertError(rest("DELETE", "/v1/customers/" + c["id"], self.key), 404,
                         "CUSTOMER_NOT_FOUND")
        self.assertError(rest("PATCH", path, self.key, {"givenName": "After"}), 404,
                         "CUSTOMER_NOT_FOUND")
        self.assertError(rest("DELETE", "/v1/customers/%s?requestId=%s" % (c["id"], "x" * 129),
                              self.key), 400, "INVALID_FIELD", "request_id")

    def test_identity_conflict(self):
        tag = stack.unique("dup")
        first = self.create({"givenName": "First", "emails": ["%s@example.com" % tag]})
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "Second", "emails": [" %s@Example.com" % tag.upper()]})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["error"]["status"], "ALREADY_EXISTS")
        self.assertEqual(r.reason(), "IDENTITY_TAKEN")
        # Adding the taken email to another customer by PATCH is refused too.
        other = self.create({"givenName": "Other"})
        r = rest("PATCH", "/v1/customers/%s?updateMask=emails" % other["id"], self.key,
                 {"emails": ["%s@example.com" % tag]})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.reason(), "IDENTITY_TAKEN")
        r = rest("GET", "/v1/customers:search?email=" + q("%s@example.com" % tag), self.key)
        self.assertEqual([c["id"] for c in r.json().get("customers", [])], [first["id"]])

    # ------------------------------------------------- consents, timeline, view

    def test_consents_current_and_history(self):
        c = self.create({"givenName": "Consenting"})
        path = "/v1/customers/%s/consents" % c["id"]
        for status, channel, source in (
                ("CONSENT_STATUS_OPTED_IN", "CONSENT_CHANNEL_EMAIL", "signup-form"),
                ("CONSENT_STATUS_OPTED_IN", "CONSENT_CHANNEL_SMS", "call-center"),
                ("CONSENT_STATUS_OPTED_OUT", "CONSENT_CHANNEL_EMAIL", "unsubscribe-link")):
            r = rest("POST", path, self.key, {"channel": channel,
                                              "purpose": "CONSENT_PURPOSE_MARKETING",
                                              "status": status, "source": source,
                                              "policyVersion": "2024-01"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["status"], status)
            self.assertTrue(r.json().get("recordTime"))
        r = rest("GET", path, self.key)
        self.assertEqual(r.status, 200, r)
        current = {(x["channel"], x["purpose"]): x for x in r.json().get("consents", [])}
        self.assertEqual(len(r.json().get("consents", [])), 2, r)
        self.assertEqual(current[("CONSENT_CHANNEL_EMAIL", "CONSENT_PURPOSE_MARKETING")]["status"],
                         "CONSENT_STATUS_OPTED_OUT")
        self.assertEqual(current[("CONSENT_CHANNEL_SMS", "CONSENT_PURPOSE_MARKETING")]["status"],
                         "CONSENT_STATUS_OPTED_IN")
        r = rest("GET", path + "?includeHistory=true", self.key)
        self.assertEqual(r.status, 200, r)
        hist = r.json().get("consents", [])
        self.assertEqual(len(hist), 3, r)
        self.assertEqual([h["source"] for h in hist],
                         ["unsubscribe-link", "call-center", "signup-form"], "not newest first")

    def test_interactions_newest_first_with_paging(self):
        c = self.create({"givenName": "Timeline"})
        path = "/v1/customers/%s/interactions" % c["id"]
        created = []
        for i in range(5):
            r = rest("POST", path, self.key, {
                "kind": "INTERACTION_KIND_CALL" if i % 2 else "INTERACTION_KIND_NOTE",
                "channel": "phone", "occurTime": "2024-03-0%dT10:00:00Z" % (i + 1),
                "actor": "agent-7", "summary": "contact %d" % i,
                "payload": {"n": i, "tags": ["a", "b"]}, "source": "e2e"})
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json()["id"])
            created.append(r.json()["id"])
        seen = []
        token = ""
        for _ in range(10):
            r = rest("GET", path + "?pageSize=2" + ("&pageToken=" + q(token) if token else ""),
                     self.key)
            self.assertEqual(r.status, 200, r)
            page = r.json().get("interactions", [])
            self.assertLessEqual(len(page), 2)
            seen += page
            token = r.json().get("nextPageToken", "")
            if not token:
                break
        self.assertFalse(token)
        self.assertEqual([x["id"] for x in seen], list(reversed(created)))
        self.assertEqual(seen[0]["summary"], "contact 4")
        self.assertEqual(seen[0]["payload"], {"n": 4, "tags": ["a", "b"]})
        r = rest("GET", path + "?kind=INTERACTION_KIND_CALL", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.json().get("interactions", [])],
                         [created[3], created[1]])

    def test_view_reflects_each_write_immediately(self):
        c = self.create({"givenName": "Viewed", "emails": ["%s@example.net" % stack.unique("v")]})
        v = self.view(c["id"])  # fills the cache
        self.assertEqual(v["customer"]["givenName"], "Viewed")
        self.assertEqual(v.get("consents", []), [])
        self.assertEqual(int(v.get("interactionCount", "0")), 0)
        self.assertTrue(any(s["name"] == "profile" and s["available"] for s in v["sections"]))
        self.assertEqual(len(v.get("identities", [])), 1)
        self.assertEqual(self.view(c["id"])["customer"]["givenName"], "Viewed")  # cached read

        r = rest("PATCH", "/v1/customers/%s?updateMask=givenName,phones" % c["id"], self.key,
                 {"givenName": "Renamed", "phones": ["+44 20 7946 0958"]},
                 headers={"If-Match": '"%s"' % c["etag"]})
        self.assertEqual(r.status, 200, r)
        v = self.view(c["id"])
        self.assertEqual(v["customer"]["givenName"], "Renamed")
        self.assertEqual(v["customer"]["etag"], r.json()["etag"])
        self.assertIn({"kind": "IDENTITY_KIND_PHONE", "value": "+442079460958"},
                      [{"kind": i["kind"], "value": i["value"]} for i in v["identities"]])

        r = rest("POST", "/v1/customers/%s/consents" % c["id"], self.key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        self.assertEqual(r.status, 200, r)
        v = self.view(c["id"])
        self.assertEqual([(x["channel"], x["status"]) for x in v.get("consents", [])],
                         [("CONSENT_CHANNEL_EMAIL", "CONSENT_STATUS_OPTED_IN")])

        r = rest("POST", "/v1/customers/%s/interactions" % c["id"], self.key,
                 {"kind": "INTERACTION_KIND_TICKET", "summary": "printer on fire"})
        self.assertEqual(r.status, 200, r)
        v = self.view(c["id"])
        self.assertEqual(int(v.get("interactionCount", "0")), 1)
        self.assertEqual([x["id"] for x in v.get("recentInteractions", [])], [r.json()["id"]])

        r = rest("POST", "/v1/customers/%s/consents" % c["id"], self.key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_OUT", "source": "e2e"})
        self.assertEqual(r.status, 200, r)
        v = self.view(c["id"])
        self.assertEqual([(x["channel"], x["status"]) for x in v.get("consents", [])],
                         [("CONSENT_CHANNEL_EMAIL", "CONSENT_STATUS_OPTED_OUT")])

        r = rest("DELETE", "/v1/customers/" + c["id"], self.key)
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/v1/customers/%s/view" % c["id"], self.key)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "CUSTOMER_NOT_FOUND")

    def test_export_then_erasure(self):
        tag = stack.unique("exp")
        c = self.create({"givenName": "Exported", "emails": ["%s@example.com" % tag],
                         "phones": ["+41 79 123 45 67"],
                         "attributes": {"tier": {"stringValue": "gold"},
                                        "visits": {"intValue": "12"}}})
        cid = c["id"]
        self.assertEqual(rest("POST", "/v1/customers/%s/consents" % cid, self.key,
                              {"channel": "CONSENT_CHANNEL_SMS",
                               "purpose": "CONSENT_PURPOSE_TRANSACTIONAL",
                               "status": "CONSENT_STATUS_OPTED_IN"}).status, 200)
        for i in range(2):
            self.assertEqual(rest("POST", "/v1/customers/%s/interactions" % cid, self.key,
                                  {"kind": "INTERACTION_KIND_EMAIL",
                                   "summary": "mail %d" % i}).status, 200)
        r = rest("GET", "/v1/customers/%s:export" % cid, self.key)
        self.assertEqual(r.status, 200, r)
        e = r.json()
        self.assertEqual(e["customer"]["id"], cid)
        self.assertEqual(e["customer"]["attributes"]["tier"], {"stringValue": "gold"})
        self.assertEqual(e["customer"]["attributes"]["visits"], {"intValue": "12"})
        self.assertEqual(sorted(i["value"] for i in e["identities"]),
                         sorted(["%s@example.com" % tag, "+41791234567"]))
        self.assertEqual(len(e.get("consentHistory", [])), 1)
        self.assertEqual(len(e.get("interactions", [])), 2)
        self.assertTrue(e.get("exportTime"))

        r = rest("DELETE", "/v1/customers/" + cid, self.key,
                 headers={"If-Match": '"%s"' % c["etag"]})
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertEqual(d["customerId"], cid)
        self.assertEqual(d["interactionsErased"], "2")  # int64 as a JSON string
        self.assertEqual(d["identitiesErased"], "2")
        for path in ("/v1/customers/" + cid, "/v1/customers/%s:export" % cid,
                     "/v1/customers/%s/view" % cid):
            r = rest("GET", path, self.key)
            self.assertEqual(r.status, 404, (path, r))
            self.assertEqual(r.reason(), "CUSTOMER_NOT_FOUND", path)
        r = rest("DELETE", "/v1/customers/" + cid, self.key)
        self.assertEqual(r.status, 404, r)
        # The erased identities are free again and not found by search.
        r = rest("GET", "/v1/customers:search?email=" + q("%s@example.com" % tag), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("customers", []), [])
        self.create({"givenName": "Reuse", "emails": ["%s@example.com" % tag]})

    # --------------------------------------------------------- public routes

    def test_openapi_without_key(self):
        r = rest("GET", "/openapi.json")
        self.assertEqual(r.status, 200, r)
        doc = json.loads(r.body)
        self.assertIn("/v1/customers", doc["paths"])
        self.assertIn("/v1/customers/{customer_id}", json.dumps(list(doc["paths"])).replace(
            "{customerId}", "{customer_id}"))
        self.assertTrue(doc.get("openapi", "").startswith("3") or doc.get("swagger"))

    def test_healthz(self):
        r = rest("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/readyz")
        self.assertEqual(r.status, 200, r)

    def test_cors_preflight(self):
        r = rest("OPTIONS", "/v1/customers", headers={
            "Origin": stack.ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("access-control-allow-origin"), stack.ALLOWED_ORIGIN)
        self.assertIn("POST", r.header("access-control-allow-methods") or "")
        self.assertIn("authorization", (r.header("access-control-allow-headers") or "").lower())
        r = rest("OPTIONS", "/v1/customers", headers={
            "Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 403, r)
        self.assertIsNone(r.header("access-control-allow-origin"))
        # A simple request from the allowed origin carries the CORS headers too.
        r = rest("GET", "/v1/customers?pageSize=1", self.key,
                 headers={"Origin": stack.ALLOWED_ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("access-control-allow-origin"), stack.ALLOWED_ORIGIN)
        self.assertIn("etag", (r.header("access-control-expose-headers") or "").lower())


if __name__ == "__main__":
    unittest.main(verbosity=2)
