"""Bad input, bad credentials and limits are refused with the documented status and reason,
and none of them leaves a partial write behind."""

import datetime
import http.client
import importlib
import json
import socket
import time
import unittest
import urllib.parse
import uuid

import stack
from stack import rest

JSON = {"Content-Type": "application/json"}


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BadInput(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        r = rest("POST", "/v1/customers", cls.key, {"givenName": "Existing"})
        assert r.status == 200, r
        cls.existing = r.json()
        cls.count_before = stack.count_customers(cls.key)
        # Requests that must succeed write in a tenant of their own, so the
        # residue check below stays exact.
        _, cls.other = stack.create_tenant()

    # ------------------------------------------------------------------ body

    def test_malformed_json(self):
        for raw in (b'{"givenName": "x"', b"not json at all", b'{"givenName": "x",}'):
            r = rest("POST", "/v1/customers", self.key, raw=raw, headers=JSON)
            self.assertError(r, 400, "MALFORMED_BODY")
        r = rest("POST", "/v1/customers", self.key, raw=b'["a", "b"]', headers=JSON)
        self.assertError(r, 400, "MALFORMED_BODY")

    def test_unknown_json_field(self):
        r = rest("POST", "/v1/customers", self.key, {"givenName": "x", "favouriteColour": "red"})
        self.assertError(r, 400, "UNKNOWN_FIELD", "favouriteColour")
        self.assertIn("favouriteColour", r.json()["error"]["message"])
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "x", "postalAddress": {"locality": "Bern", "planet": "Earth"}})
        self.assertError(r, 400, "UNKNOWN_FIELD", "postalAddress.planet")
        r = rest("POST", "/v1/customers:upsert", self.key, {"customer": {}, "extra": 1})
        self.assertError(r, 400, "UNKNOWN_FIELD", "extra")

    def test_wrong_json_types(self):
        r = rest("POST", "/v1/customers", self.key, {"givenName": 12, "emails": "a@b.ch"})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("POST", "/v1/customers", self.key, {"lifecycleStage": "LIFECYCLE_STAGE_BOSS"})
        self.assertError(r, 400, "INVALID_FIELD")

    def test_body_too_large(self):
        big = {"givenName": "x" * (stack.MAX_BODY_BYTES + 10)}
        r = rest("POST", "/v1/customers", self.key, big)
        self.assertError(r, 413, "BODY_TOO_LARGE")

    def test_wrong_content_type(self):
        r = rest("POST", "/v1/customers", self.key, raw=b'{"givenName": "x"}',
                 headers={"Content-Type": "text/plain"})
        self.assertError(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        r = rest("POST", "/v1/customers", self.key, raw=b"givenName=x",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertError(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        r = rest("POST", "/v1/customers", self.other, raw=b'{"givenName": "x"}',
                 headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(r.status, 200, r)  # parameters are fine

    def test_ndjson_import_wants_ndjson(self):
        rows = b'{"givenName": "Nd"}\n'
        for ctype in ("application/json", "text/plain"):
            r = rest("POST", "/v1/customers:import?batchId=" + stack.unique("ct"), self.key,
                     raw=rows, headers={"Content-Type": ctype})
            self.assertError(r, 415, "UNSUPPORTED_MEDIA_TYPE")
            self.assertIn("application/x-ndjson", r.json()["error"]["message"])
        r = rest("POST", "/v1/customers:import?batchId=" + stack.unique("ct"), self.key,
                 raw=rows)  # no Content-Type at all
        self.assertError(r, 415, "UNSUPPORTED_MEDIA_TYPE")

    def test_deep_nesting_refused_fast(self):
        path = "/v1/customers/%s/interactions" % self.existing["id"]
        # No key, 100,000 levels (200 KB): 401 at once, the body never parsed.
        deep = b'{"kind":"INTERACTION_KIND_NOTE","payload":{"a":' + b"[" * 100000 + \
            b"]" * 100000 + b"}}"
        start = time.monotonic()
        r = rest("POST", path, raw=deep, headers=JSON)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertError(r, 401, "MISSING_CREDENTIALS")
        self.assertEqual((r.header("connection") or "").lower(), "close", r)
        start = time.monotonic()
        r = rest("POST", path, "crm_k0000000000000000_" + "x" * 32, raw=deep, headers=JSON)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(r.status, 401, r)
        # With a key: refused before parsing, fast (30,000 levels fit the body limit).
        deep = b'{"kind":"INTERACTION_KIND_NOTE","payload":{"a":' + b"[" * 30000 + \
            b"]" * 30000 + b"}}"
        start = time.monotonic()
        r = rest("POST", path, self.key, raw=deep, headers=JSON)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertError(r, 400, "MALFORMED_BODY")
        self.assertIn("deeper than 32 levels", r.json()["error"]["message"])
        # 32 levels are fine.
        r = rest("POST", "/v1/customers", self.other, {"givenName": "Deep"})
        self.assertEqual(r.status, 200, r)
        ok = {"kind": "INTERACTION_KIND_NOTE", "payload": {"a": json.loads("[" * 30 + "]" * 30)}}
        r = rest("POST", "/v1/customers/%s/interactions" % r.json()["id"], self.other, ok)
        self.assertEqual(r.status, 200, r)

    def test_unauthenticated_answer_keeps_nothing_of_the_connection(self):
        # A refusal before the body is read closes the connection: the unread
        # body must not be taken for the next request.
        smuggled = b"GET /v1/customers HTTP/1.1\r\nHost: x\r\n\r\n"
        conn = http.client.HTTPConnection(stack.HOST, stack.HTTP_PORT, timeout=10)
        try:
            conn.request("POST", "/v1/customers", body=smuggled,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 401)
            self.assertTrue(r.will_close)
        finally:
            conn.close()
        # Expect: 100-continue without a key: 401, never 100.
        s = socket.create_connection((stack.HOST, stack.HTTP_PORT), timeout=10)
        try:
            s.sendall(b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 1000\r\n"
                      b"Expect: 100-continue\r\n\r\n")
            first = s.recv(4096)
            self.assertTrue(first.startswith(b"HTTP/1.1 401"), first)
        finally:
            s.close()

    def test_number_beyond_a_double(self):
        for raw in (b'{"givenName": "x", "birthday": 1e999}', b'{"givenName": -1e400}',
                    b'[1e999]'):
            r = rest("POST", "/v1/customers", self.key, raw=raw, headers=JSON)
            self.assertError(r, 400, "MALFORMED_BODY")
            self.assertIn("double", r.json()["error"]["message"])
        r = rest("POST", "/v1/customers:upsert", self.key,
                 raw=b'{"customer": {"givenName": "x"}, "x": 1e999}', headers=JSON)
        self.assertError(r, 400, "MALFORMED_BODY")

    def test_lone_value_for_a_list(self):
        tag = stack.unique("lone")
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "x", "emails": "%s@example.com" % tag})
        self.assertError(r, 400, "INVALID_FIELD", "emails")
        self.assertIn("array", r.json()["error"]["message"])
        r = rest("POST", "/v1/customers:upsert", self.key,
                 {"customer": {"phones": "+41791234567"}})
        self.assertError(r, 400, "INVALID_FIELD", "customer.phones")
        r = rest("PATCH", "/v1/customers/%s?updateMask=emails" % self.existing["id"], self.key,
                 {"emails": "%s@example.com" % tag})
        self.assertError(r, 400, "INVALID_FIELD", "emails")
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "x", "emails": [["%s@example.com" % tag]]})
        self.assertError(r, 400, "INVALID_FIELD", "emails[0]")
        r = rest("GET", "/v1/customers:search?email=" + q("%s@example.com" % tag), self.key)
        self.assertEqual(r.json().get("customers", []), [])

    def test_invalid_utf8_in_parameters(self):
        r = rest("GET", "/v1/customers/%ff%fe", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "customer_id")
        self.assertIn("customer_id", r.json()["error"]["message"])
        r = rest("GET", "/v1/customers:search?namePrefix=%ff%fe", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "name_prefix")
        self.assertIn("UTF-8", r.json()["error"]["message"])
        r = rest("POST", "/v1/customers:import?batchId=%ff", self.key, raw=b"",
                 headers={"Content-Type": "application/x-ndjson"})
        self.assertError(r, 400, "INVALID_FIELD", "batch_id")

    def test_request_id_with_control_characters_rest(self):
        body = {"givenName": "Nul"}
        for rid in ("R%00X", "R%00Y", "R%0AX", "%00"):
            r = rest("POST", "/v1/customers?requestId=" + rid, self.key, body)
            self.assertError(r, 400, "INVALID_FIELD", "request_id")
        # In a JSON body (MergeCustomers takes requestId in its body).
        r = rest("POST", "/v1/customers/%s:merge" % self.existing["id"], self.key,
                 {"sourceCustomerId": self.existing["id"], "requestId": "R\u0000X"})
        self.assertError(r, 400, "INVALID_FIELD", "request_id")
        # The transaction service's strict ids too.
        r = rest("POST", "/v1/products?requestId=P%00X", self.key,
                 {"sku": stack.unique("NUL"), "name": "n", "categoryPath": ["A", "B"],
                  "price": {"amountMinor": "1", "currencyCode": "CHF"}})
        self.assertError(r, 400, "INVALID_FIELD", "request_id")

    # ------------------------------------------------------- fields, routes

    def test_invalid_customer_id(self):
        for method, path in (("GET", "/v1/customers/not-a-uuid"),
                             ("GET", "/v1/customers/not-a-uuid/view"),
                             ("GET", "/v1/customers/not-a-uuid:export"),
                             ("DELETE", "/v1/customers/not-a-uuid"),
                             ("GET", "/v1/customers/not-a-uuid/consents")):
            r = rest(method, path, self.key)
            self.assertError(r, 400, "INVALID_FIELD", "customer_id")

    def test_invalid_email_and_phone(self):
        tag = stack.unique("bad")
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "x", "emails": ["%s@example.com" % tag, "not-an-email"]})
        self.assertError(r, 400, "INVALID_FIELD", "emails[1]")
        r = rest("POST", "/v1/customers", self.key,
                 {"givenName": "x", "emails": ["%s-p@example.com" % tag], "phones": ["0800 12"]})
        self.assertError(r, 400, "INVALID_FIELD", "phones[0]")
        r = rest("PATCH", "/v1/customers/%s?updateMask=emails" % self.existing["id"], self.key,
                 {"emails": ["@@"]})
        self.assertError(r, 400, "INVALID_FIELD", "emails[0]")
        # Nothing of the refused writes was kept: the good identities are still free.
        for email in ("%s@example.com" % tag, "%s-p@example.com" % tag):
            r = rest("GET", "/v1/customers:search?email=" + q(email), self.key)
            self.assertEqual(r.json().get("customers", []), [], email)
        r = rest("GET", "/v1/customers/" + self.existing["id"], self.key)
        self.assertEqual(r.json()["etag"], self.existing["etag"])
        self.assertNotIn("emails", r.json())

    def test_bad_update_mask(self):
        r = rest("PATCH", "/v1/customers/%s?updateMask=shoeSize" % self.existing["id"], self.key,
                 {"givenName": "x"})
        self.assertError(r, 400, "INVALID_UPDATE_MASK")
        r = rest("PATCH", "/v1/customers/%s?updateMask=etag" % self.existing["id"], self.key,
                 {"givenName": "x"})
        self.assertError(r, 400, "INVALID_UPDATE_MASK")

    def test_recommendation_routes(self):
        r = rest("GET", "/v1/customers/not-a-uuid/recommendations", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "customer_id")
        r = rest("GET", "/v1/customers/%s/recommendations?colour=red" % self.existing["id"],
                 self.key)
        self.assertError(r, 400, "UNKNOWN_FIELD", "colour")
        r = rest("GET", "/v1/customers/%s/recommendations?count=ten" % self.existing["id"],
                 self.key)
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("GET", "/v1/products/%ff%fe/similar", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "sku")
        r = rest("POST", "/v1/recommendations:forCart", self.key, raw=b'{"skus": ["a"',
                 headers=JSON)
        self.assertError(r, 400, "MALFORMED_BODY")
        r = rest("POST", "/v1/recommendations:forCart", self.key, {"skus": "a"})
        self.assertError(r, 400, "INVALID_FIELD", "skus")
        r = rest("POST", "/v1/recommendations:forCart", self.key,
                 {"skus": ["x" * (stack.MAX_BODY_BYTES + 10)]})
        self.assertError(r, 413, "BODY_TOO_LARGE")
        interests = "/v1/customers/%s/interests" % self.existing["id"]
        r = rest("PATCH", interests, self.key, raw=b'{"changes": [', headers=JSON)
        self.assertError(r, 400, "MALFORMED_BODY")
        r = rest("PATCH", interests, self.key,
                 {"changes": [{"topic": "A", "preference": "TOPIC_PREFERENCE_MAYBE"}]})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("PATCH", interests, self.key,
                 {"changes": [{"topic": "A", "preference": "TOPIC_PREFERENCE_INTERESTED",
                               "weight": 2}]})
        self.assertError(r, 400, "UNKNOWN_FIELD")
        r = rest("PATCH", interests, self.key,
                 {"changes": [{"topic": "A\u0000B", "preference": "TOPIC_PREFERENCE_INTERESTED"}]})
        self.assertError(r, 400, "INVALID_FIELD", "changes")
        r = rest("GET", interests + "?count=many", self.key)
        self.assertError(r, 400, "INVALID_FIELD")

    def test_slot_routes(self):
        slots = "/v1/slots?requestId=" + stack.unique("s")
        r = rest("POST", slots, self.key, raw=b'{"slotId": "x", "variants": [', headers=JSON)
        self.assertError(r, 400, "MALFORMED_BODY")
        r = rest("POST", slots, self.key, {"slotId": "x", "displayName": "X",
                                           "variants": {"variantId": "v"}})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("POST", slots, self.key, {"slotId": "x", "displayName": "X",
                                           "variants": [{"variantId": "v", "content": "c",
                                                         "script": "alert(1)"}]})
        self.assertError(r, 400, "UNKNOWN_FIELD")
        r = rest("POST", slots, self.key, {"slotId": "x", "displayName": "X",
                                           "variants": [{"variantId": "v", "content": "a\u0000b"}]})
        self.assertError(r, 400, "INVALID_FIELD", "variants.content")
        r = rest("POST", slots, self.key, {"slotId": "x", "displayName": "X",
                                           "selection": "SLOT_SELECTION_RANDOM",
                                           "variants": [{"variantId": "v", "content": "c"}]})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("POST", slots, self.key, {"slotId": "x", "displayName": "X", "variants": [
            {"variantId": "v", "arms": [{"armId": "a", "content": "A", "weight": -1}]}]})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("GET", "/v1/slots/%ff%fe", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "slot_id")
        r = rest("GET", "/v1/customers/not-a-uuid/slots/x", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "customer_id")
        r = rest("PUT", "/v1/slots/x?requestId=" + stack.unique("s"), self.key,
                 {"slotId": "y", "displayName": "X", "variants": [{"variantId": "v", "content": "c"}]})
        self.assertError(r, 400, "INVALID_FIELD", "slot.slot_id")

    def test_offer_routes(self):
        offers = "/v1/offers?requestId=" + stack.unique("o")
        r = rest("POST", offers, self.key, raw=b'{"offerId": ', headers=JSON)
        self.assertError(r, 400, "MALFORMED_BODY")
        r = rest("POST", offers, self.key, {"offerId": "x", "displayName": "X",
                                            "kind": "OFFER_KIND_FREEBIE"})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("POST", offers, self.key, {"offerId": "x", "displayName": "X",
                                            "kind": "OFFER_KIND_CONTENT", "valueMinor": "ten"})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("POST", offers, self.key, {"offerId": "x", "displayName": "X",
                                            "kind": "OFFER_KIND_CONTENT", "cost": 1})
        self.assertError(r, 400, "UNKNOWN_FIELD")
        r = rest("POST", offers, self.key, {"offerId": "x", "displayName": "X",
                                            "kind": "OFFER_KIND_CONTENT", "priority": 5000})
        self.assertError(r, 400, "INVALID_FIELD", "priority")
        r = rest("POST", offers, self.key, {"offerId": "x", "displayName": "X",
                                            "kind": "OFFER_KIND_CONTENT", "globalCap": "-1"})
        self.assertError(r, 400, "INVALID_FIELD", "global_cap")
        r = rest("GET", "/v1/offers/%ff", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "offer_id")
        r = rest("POST", "/v1/customers/%s:nextBestOffers" % self.existing["id"], self.key,
                 {"count": "many"})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("POST", "/v1/customers/%s:quotePrice" % self.existing["id"], self.key,
                 {"sku": "x" * 129})
        self.assertError(r, 400, "INVALID_FIELD", "sku")
        r = rest("POST", "/v1/customers/%s:quotePrice" % self.existing["id"], self.key,
                 {"sku": "A", "currencyCode": "EURO"})
        self.assertError(r, 400, "INVALID_FIELD", "currency_code")
        r = rest("PUT", "/v1/pricePolicy?requestId=" + stack.unique("pp"), self.key,
                 {"tiers": [{"name": "x", "discountBasisPoints": -5}]})
        self.assertError(r, 400, "INVALID_FIELD")
        r = rest("PUT", "/v1/pricePolicy?requestId=" + stack.unique("pp"), self.key,
                 {"tiers": [{"name": "x", "discountBasisPoints": 10001}]})
        self.assertError(r, 400, "INVALID_FIELD", "tiers.discount_basis_points")
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("o"), self.key,
                 {"customerId": self.existing["id"], "currencyCode": "CHF",
                  "lines": [{"sku": "A", "quantity": "1", "priceQuote": "pq1.x.y"}]})
        self.assertError(r, 400, "PRICE_QUOTE_INVALID", "lines[0].price_quote")

    def test_unknown_query_parameter(self):
        r = rest("GET", "/v1/customers?colour=red", self.key)
        self.assertError(r, 400, "UNKNOWN_FIELD", "colour")
        r = rest("GET", "/v1/customers?pageSize=abc", self.key)
        self.assertError(r, 400, "INVALID_FIELD")

    def test_unknown_route_and_wrong_method(self):
        r = rest("GET", "/v1/nothing-here", self.key)
        self.assertError(r, 404, "ROUTE_NOT_FOUND")
        r = rest("GET", "/v2/customers", self.key)
        self.assertError(r, 404, "ROUTE_NOT_FOUND")
        r = rest("PUT", "/v1/customers", self.key, {"givenName": "x"})
        self.assertError(r, 405, "METHOD_NOT_ALLOWED")
        allow = {m.strip() for m in (r.header("allow") or "").split(",")}
        self.assertEqual(allow, {"GET", "POST"}, r)
        r = rest("POST", "/v1/customers/%s" % self.existing["id"], self.key, {"givenName": "x"})
        self.assertError(r, 405, "METHOD_NOT_ALLOWED")
        allow = {m.strip() for m in (r.header("allow") or "").split(",")}
        self.assertEqual(allow, {"GET", "PATCH", "DELETE"}, r)

    def test_bad_page_tokens(self):
        r = rest("GET", "/v1/customers?pageToken=garbage", self.key)
        self.assertError(r, 400, "INVALID_PAGE_TOKEN")
        # A real token of tenant A, presented by tenant B.
        _, a = stack.create_tenant()
        _, b = stack.create_tenant()
        for i in range(3):
            self.assertEqual(rest("POST", "/v1/customers", a, {"givenName": "A%d" % i}).status, 200)
        r = rest("GET", "/v1/customers?pageSize=1", a)
        self.assertEqual(r.status, 200, r)
        token = r.json().get("nextPageToken", "")
        self.assertTrue(token, r)
        r = rest("GET", "/v1/customers?pageSize=1&pageToken=" + q(token), b)
        self.assertError(r, 400, "INVALID_PAGE_TOKEN")
        # Bound to the query as well: a list token does not continue a search.
        r = rest("GET", "/v1/customers:search?namePrefix=a&pageSize=1&pageToken=" + q(token), a)
        self.assertError(r, 400, "INVALID_PAGE_TOKEN")
        # A tampered token is refused.
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        r = rest("GET", "/v1/customers?pageSize=1&pageToken=" + q(tampered), a)
        self.assertError(r, 400, "INVALID_PAGE_TOKEN")
        # ... while A itself continues fine.
        r = rest("GET", "/v1/customers?pageSize=1&pageToken=" + q(token), a)
        self.assertEqual(r.status, 200, r)
        # The delivery engine's message lists: garbage, and a customer list's token.
        for path in ("/v1/messages?state=MESSAGE_STATE_QUEUED&pageToken=",
                     "/v1/customers/%s/messages?pageToken=" % str(uuid.uuid4())):
            self.assertError(rest("GET", path + "garbage", a), 400, "INVALID_PAGE_TOKEN")
            self.assertError(rest("GET", path + q(token), a), 400, "INVALID_PAGE_TOKEN")

    # ------------------------------------------------------------ credentials

    def test_missing_credentials(self):
        r = rest("GET", "/v1/customers")
        self.assertError(r, 401, "MISSING_CREDENTIALS")
        self.assertTrue((r.header("www-authenticate") or "").startswith("Bearer"), r)
        r = rest("GET", "/v1/customers", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        self.assertEqual(r.status, 401, r)
        self.assertIsNotNone(r.header("www-authenticate"), r)

    def test_garbage_credentials(self):
        for key in ("garbage", "crm_k0000000000000000_" + "x" * 32, self.key + "x"):
            r = rest("GET", "/v1/customers", key)
            self.assertError(r, 401, "INVALID_CREDENTIALS")
            self.assertIsNotNone(r.header("www-authenticate"), r)

    def test_request_id_with_control_characters_grpc(self):
        import grpc
        cs, cs_grpc, _, _ = stack.grpc_modules()
        txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
        txn_grpc = importlib.import_module("crm.transaction.v1.transaction_pb2_grpc")
        pipe = importlib.import_module("crm.transaction.v1.pipeline_pb2")
        pipe_grpc = importlib.import_module("crm.transaction.v1.pipeline_pb2_grpc")
        channel = stack.grpc_channel()
        try:
            store = cs_grpc.CustomerStoreServiceStub(channel)
            md = stack.auth(self.key)
            tag = stack.unique("nul")

            def refused(call):
                with self.assertRaises(grpc.RpcError) as ctx:
                    call()
                self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertEqual(stack.reason_of(ctx.exception), "INVALID_FIELD")
                self.assertIn("request_id", ctx.exception.details())

            # "R\0X", "R\0Y" and "R" were one key: the second answered the
            # first customer. Now the first two are refused, "R" stands alone.
            for rid, name in (("%s\0X" % tag, "A"), ("%s\0Y" % tag, "B")):
                refused(lambda: store.CreateCustomer(cs.CreateCustomerRequest(
                    customer=cs.Customer(given_name=name), request_id=rid),
                    metadata=md, timeout=10))
            other = stack.auth(self.other)
            c = store.CreateCustomer(cs.CreateCustomerRequest(
                customer=cs.Customer(given_name="C"), request_id=tag), metadata=other, timeout=10)
            self.assertEqual(c.given_name, "C")
            again = store.CreateCustomer(cs.CreateCustomerRequest(
                customer=cs.Customer(given_name="C"), request_id=tag), metadata=other,
                timeout=10)
            self.assertEqual(again.id, c.id)
            refused(lambda: store.CreateInteraction(cs.CreateInteractionRequest(
                customer_id=self.existing["id"],
                interaction=cs.Interaction(kind=cs.INTERACTION_KIND_NOTE),
                request_id="I\x01"), metadata=md, timeout=10))
            # Transaction: optional (CreateProduct) and required (CreateLead) ids.
            catalog = txn_grpc.TransactionServiceStub(channel)
            refused(lambda: catalog.CreateProduct(txn.CreateProductRequest(
                product=txn.Product(sku=stack.unique("NUL"), name="n", category_path=["A", "B"],
                                    price=txn.Money(amount_minor=1, currency_code="CHF"),
                                    active=True),
                request_id="P\0X"), metadata=md, timeout=10))
            pipeline = pipe_grpc.PipelineServiceStub(channel)
            refused(lambda: pipeline.CreateLead(pipe.CreateLeadRequest(
                lead=pipe.Lead(company_name="ACME"), request_id="L\0X"),
                metadata=md, timeout=10))
        finally:
            channel.close()

    def test_revoked_key_rejected_within_cache_ttl(self):
        k, secret = stack.create_key(self.key, ["ROLE_SALES"])
        self.assertEqual(rest("GET", "/v1/customers?pageSize=1", secret).status, 200)  # cached
        r = rest("POST", "/v1/apiKeys/%s:revoke" % k["id"], self.key, {})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json().get("revokeTime"), r)
        revoked_at = time.monotonic()
        last = None
        while time.monotonic() - revoked_at < 5:
            last = rest("GET", "/v1/customers?pageSize=1", secret)
            if last.status == 401:
                break
            time.sleep(0.1)
        self.assertError(last, 401, "INVALID_CREDENTIALS")
        # Well within the 1 s cache TTL plus slack.
        self.assertLess(time.monotonic() - revoked_at, 3.0)

    def test_expired_key(self):
        expire = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        k, secret = stack.create_key(self.key, ["ROLE_SALES"], expireTime=rfc3339(expire))
        self.assertTrue(k.get("expireTime"), k)
        self.assertEqual(rest("GET", "/v1/customers?pageSize=1", secret).status, 200)
        time.sleep(2.1)
        last = None
        for _ in range(50):  # up to ~5 s after expiry
            last = rest("GET", "/v1/customers?pageSize=1", secret)
            if last.status == 401:
                break
            time.sleep(0.1)
        self.assertError(last, 401, "INVALID_CREDENTIALS")
        # An expire time in the past is refused when creating a key.
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        r = rest("POST", "/v1/apiKeys", self.key,
                 {"displayName": "past", "roles": ["ROLE_SALES"], "expireTime": rfc3339(past)})
        self.assertError(r, 400, "INVALID_FIELD")

    def test_read_only_key_cannot_write(self):
        _, ro = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        self.assertEqual(rest("GET", "/v1/customers?pageSize=1", ro).status, 200)
        self.assertEqual(rest("GET", "/v1/customers/%s/view" % self.existing["id"], ro).status, 200)
        cid = self.existing["id"]
        for method, path, body in (
                ("POST", "/v1/customers", {"givenName": "ro"}),
                ("POST", "/v1/customers:upsert", {"customer": {"emails": ["ro@example.com"]}}),
                ("PATCH", "/v1/customers/%s?updateMask=givenName" % cid, {"givenName": "ro"}),
                ("DELETE", "/v1/customers/%s" % cid, None),
                ("POST", "/v1/customers/%s/consents" % cid,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN"}),
                ("POST", "/v1/customers/%s/interactions" % cid, {"kind": "INTERACTION_KIND_NOTE"}),
                ("POST", "/v1/apiKeys", {"displayName": "x", "roles": ["ROLE_ADMIN"]}),
                ("POST", "/v1/messages:send",
                 {"customerId": cid, "channel": "CHANNEL_EMAIL", "templateId": "t",
                  "requestId": "ro"}),
                ("POST", "/v1/messages/%s:replay" % cid, {"requestId": "ro"}),
                ("POST", "/v1/webhookEndpoints?requestId=ro", {"url": "https://example.com/"}),
                ("POST", "/v1/campaigns?requestId=ro", {"name": "ro"}),
                ("PUT", "/v1/deliveryPolicy?requestId=ro", {}),
                ("PUT", "/v1/senderSettings?requestId=ro", {"fromAddress": "a@example.com"})):
            r = rest(method, path, ro, body)
            self.assertError(r, 403, "PERMISSION_DENIED_FOR_ROLE")
            self.assertEqual(r.json()["error"]["status"], "PERMISSION_DENIED", r)
        r = rest("GET", "/v1/customers/" + cid, self.key)
        self.assertEqual(r.json()["etag"], self.existing["etag"])

    def test_non_platform_key_cannot_create_tenant(self):
        r = rest("POST", "/v1/tenants", self.key, {"displayName": "sneaky"})
        self.assertError(r, 403, "PERMISSION_DENIED_FOR_ROLE")
        # A tenant admin cannot mint a platform-admin key either.
        r = rest("POST", "/v1/apiKeys", self.key,
                 {"displayName": "escalate", "roles": ["ROLE_PLATFORM_ADMIN"]})
        self.assertEqual(r.status, 403, r)

    def test_rate_limited_key(self):
        _, limited = stack.create_key(self.key, ["ROLE_SALES"], rateLimitPerSecond=2)
        statuses = []
        limited_resp = None
        for _ in range(20):
            r = rest("GET", "/v1/customers?pageSize=1", limited)
            statuses.append(r.status)
            if r.status == 429 and limited_resp is None:
                limited_resp = r
        self.assertIn(429, statuses, statuses)
        self.assertEqual(set(statuses), {200, 429}, statuses)
        self.assertGreaterEqual(statuses.count(200), 2, statuses)
        self.assertError(limited_resp, 429, "RATE_LIMITED")
        self.assertEqual(limited_resp.json()["error"]["status"], "RESOURCE_EXHAUSTED")
        retry_after = limited_resp.header("retry-after")
        self.assertIsNotNone(retry_after, limited_resp)
        self.assertTrue(retry_after.isdigit() and 1 <= int(retry_after) <= 60, retry_after)
        # Other keys of the tenant are not affected.
        self.assertEqual(rest("GET", "/v1/customers?pageSize=1", self.key).status, 200)

    # --------------------------------------------------------------- residue

    def test_zz_nothing_partially_written(self):
        self.assertEqual(stack.count_customers(self.key), self.count_before)
        r = rest("GET", "/v1/customers/" + self.existing["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["givenName"], "Existing")
        self.assertEqual(r.json()["etag"], self.existing["etag"])
        r = rest("GET", "/v1/customers/%s/consents?includeHistory=true" % self.existing["id"],
                 self.key)
        self.assertEqual(r.json().get("consents", []), [])
        r = rest("GET", "/v1/customers/%s/interactions" % self.existing["id"], self.key)
        self.assertEqual(r.json().get("interactions", []), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
