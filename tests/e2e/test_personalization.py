"""Engine 3 through the gateway: orders, product views and catalog changes in
(written through transaction and customer-store, learnt from their events),
recommendations out over REST and gRPC: per customer and visitor with
explanations, similar products, a cart, category filters, inactive products
left out, the popular fallback, interests (inferred and chosen), the
objection to profiling, erasure, tenant isolation, bad input, and the same
answers after a restart."""

import importlib
import unittest
import urllib.parse
import uuid

import stack
from stack import rest, wait_for


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


def skus(answer):
    return [p["sku"] for p in answer.get("products", [])]


class Shop:
    """A tenant with five products and five buyers: A was bought with B
    twice and with C twice, B with D and E (E is inactive); customer t has A."""

    def __init__(self):
        self.tenant, self.key = stack.create_tenant()
        p = stack.unique("P")
        self.A, self.B, self.C, self.D, self.E = (p + "-" + x for x in "ABCDE")
        for sku, path, active in ((self.A, ["Home", "Kitchen"], True),
                                  (self.B, ["Home", "Kitchen"], True),
                                  (self.C, ["Home", "Garden"], True),
                                  (self.D, ["Books", "Fiction"], True),
                                  (self.E, ["Books", "Fiction"], False)):
            r = rest("POST", "/v1/products", self.key,
                     {"sku": sku, "name": sku, "categoryPath": path, "active": active,
                      "price": {"amountMinor": "1000", "currencyCode": "CHF"}})
            assert r.status == 200, r
        self.buyers = {}
        for name, basket in (("c1", [self.A, self.B]), ("c2", [self.A, self.B, self.C]),
                             ("c3", [self.A, self.C]), ("c4", [self.B, self.D, self.E]),
                             ("t", [self.A])):
            cid = stack.new_customer(self.key, givenName=name)
            self.buyers[name] = cid
            self.order(cid, basket)
        self.t = self.buyers["t"]
        # Learnt: t's list names both neighbours of A.
        wait_for("t's recommendations", lambda: set(skus(self.recs(self.t))) >= {self.B, self.C})

    def order(self, customer, basket):
        r = rest("POST", "/v1/orders?requestId=" + q(stack.unique("po")), self.key,
                 {"customerId": customer, "currencyCode": "CHF",
                  "lines": [{"sku": s, "quantity": "1", "unitPriceMinor": "1000"}
                            for s in basket]})
        assert r.status == 200, r

    def recs(self, customer, query=""):
        r = rest("GET", "/v1/customers/%s/recommendations%s" % (customer, query), self.key)
        if r.status == 404:
            return {}  # not learnt yet
        assert r.status == 200, r
        return r.json()


class Personalization(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        # Read only: the tests that add data make a shop of their own.
        cls.shop = Shop()
        for name in ("key", "A", "B", "C", "D", "E", "t"):
            setattr(cls, name, getattr(cls.shop, name))

    @classmethod
    def recs(cls, customer, query=""):
        return cls.shop.recs(customer, query)

    def test_customer_recommendations_explain_themselves(self):
        a = self.recs(self.t)
        self.assertEqual(a["strategy"], "RECOMMENDATION_STRATEGY_PERSONALIZED")
        # Jaccard(A, C) = 2/4 > Jaccard(A, B) = 2/5; then popular D (E is inactive, A owned).
        self.assertEqual(skus(a), [self.C, self.B, self.D])
        first = a["products"][0]
        self.assertEqual(first["reason"], "RECOMMENDATION_REASON_BOUGHT")
        self.assertEqual(first["becauseSku"], self.A)
        self.assertEqual(first["categoryPath"], "Home/Garden")
        self.assertGreater(first["score"], a["products"][1]["score"])
        self.assertEqual(a["products"][2]["reason"], "RECOMMENDATION_REASON_POPULAR")
        self.assertNotIn("becauseSku", a["products"][2])
        # Filters: a category and a count; owned items on request.
        self.assertEqual(skus(self.recs(self.t, "?categoryPrefix=Home/Garden")), [self.C])
        self.assertEqual(skus(self.recs(self.t, "?categoryPrefix=Home")), [self.C, self.B])
        self.assertEqual(skus(self.recs(self.t, "?count=1")), [self.C])
        self.assertEqual(skus(self.recs(self.t, "?categoryPrefix=Home%2FKitch")), [])
        owned = skus(self.recs(self.t, "?includeOwned=true&categoryPrefix=Home/Kitchen"))
        self.assertEqual(owned, [self.B, self.A])

    def test_similar_products_and_cart(self):
        r = rest("GET", "/v1/products/%s/similar" % q(self.A), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["strategy"], "RECOMMENDATION_STRATEGY_RELATED")
        self.assertEqual(skus(r.json()), [self.C, self.B])
        self.assertEqual(r.json()["products"][0]["reason"], "RECOMMENDATION_REASON_RELATED")
        self.assertEqual(r.json()["products"][0]["becauseSku"], self.A)
        # B's cart: A (2/5), D (1/3), C (1/4), each cubed; E inactive.
        r = rest("POST", "/v1/recommendations:forCart", self.key, {"skus": [self.B, "NOPE"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(skus(r.json()), [self.A, self.D, self.C])
        r = rest("GET", "/v1/products/NOPE-%s/similar" % stack.unique(), self.key)
        self.assertError(r, 404, "PRODUCT_NOT_FOUND")

    def test_new_customers_and_visitors_get_popular_then_their_own(self):
        shop = Shop()
        fresh = stack.new_customer(shop.key, givenName="New")
        a = wait_for("the new customer", lambda: shop.recs(fresh))
        self.assertEqual(a["strategy"], "RECOMMENDATION_STRATEGY_POPULAR_FALLBACK")
        self.assertEqual(skus(a)[:3], [shop.A, shop.B, shop.C])  # 4, 3, 2 customers
        self.assertNotIn(shop.E, skus(a))
        visitor = stack.unique("vis")
        r = rest("GET", "/v1/visitors/%s/recommendations" % visitor, shop.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["strategy"], "RECOMMENDATION_STRATEGY_POPULAR_FALLBACK")
        r = rest("POST", "/v1/events:track", shop.key,
                 {"events": [{"type": "product.viewed", "visitorId": visitor,
                              "properties": {"sku": shop.C, "categoryPath": ["Home", "Garden"]}}]})
        self.assertEqual(r.status, 200, r)

        def visitor_list():
            r = rest("GET", "/v1/visitors/%s/recommendations" % visitor, shop.key)
            return r.json() if r.status == 200 else {}
        a = wait_for("the visitor's list", lambda: visitor_list().get("strategy") ==
                     "RECOMMENDATION_STRATEGY_PERSONALIZED" and visitor_list())
        self.assertEqual(skus(a)[0], shop.A)  # C's neighbour (2 of 2 C buyers)
        self.assertEqual(a["products"][0]["reason"], "RECOMMENDATION_REASON_VIEWED")
        self.assertEqual(a["products"][0]["becauseSku"], shop.C)

    def test_an_identified_visitor_brings_its_history(self):
        shop = Shop()
        visitor = stack.unique("vis")
        cid = stack.new_customer(shop.key, givenName="Was anonymous")
        r = rest("POST", "/v1/events:track", shop.key, {"events": [
            {"type": "product.viewed", "visitorId": visitor, "properties": {"sku": shop.C}}]})
        self.assertEqual(r.status, 200, r)

        def visitor_strategy():
            r = rest("GET", "/v1/visitors/%s/recommendations" % visitor, shop.key)
            return r.json().get("strategy")
        wait_for("the visitor's view", lambda: visitor_strategy() ==
                 "RECOMMENDATION_STRATEGY_PERSONALIZED")
        wait_for("the customer known", lambda: shop.recs(cid).get("strategy") ==
                 "RECOMMENDATION_STRATEGY_POPULAR_FALLBACK")
        r = rest("POST", "/v1/customers/%s:identify" % cid, shop.key, {"visitorId": visitor})
        self.assertEqual(r.status, 200, r)
        a = wait_for("the history moved", lambda: shop.recs(cid).get("strategy") ==
                     "RECOMMENDATION_STRATEGY_PERSONALIZED" and shop.recs(cid))
        self.assertEqual(a["products"][0]["becauseSku"], shop.C)
        self.assertEqual(visitor_strategy(), "RECOMMENDATION_STRATEGY_POPULAR_FALLBACK")
        # Later anonymous views of the visitor count for the customer.
        r = rest("POST", "/v1/events:track", shop.key, {"events": [
            {"type": "product.viewed", "visitorId": visitor, "properties": {"sku": shop.D}}]})
        self.assertEqual(r.status, 200, r)
        # (D is in Books/Fiction: the customer's interests gain it.)
        wait_for("the later view", lambda: "Books" in [i["topic"] for i in rest(
            "GET", "/v1/customers/%s/interests" % cid, shop.key).json().get("interests", [])])
        self.assertEqual(visitor_strategy(), "RECOMMENDATION_STRATEGY_POPULAR_FALLBACK")

    def test_a_cancelled_order_is_unlearnt(self):
        shop = Shop()
        cid = stack.new_customer(shop.key, givenName="Changed mind")
        r = rest("POST", "/v1/orders?requestId=" + q(stack.unique("po")), shop.key,
                 {"customerId": cid, "currencyCode": "CHF",
                  "lines": [{"sku": s, "quantity": "1", "unitPriceMinor": "1000"}
                            for s in (shop.D, shop.C)]})
        self.assertEqual(r.status, 200, r)
        order_id = r.json()["id"]

        def similar_to_d():
            r = rest("GET", "/v1/products/%s/similar" % q(shop.D), shop.key)
            return skus(r.json()) if r.status == 200 else None
        wait_for("D with C", lambda: shop.C in (similar_to_d() or []))
        r = rest("POST", "/v1/orders/%s:transition" % order_id, shop.key,
                 {"toStatus": "ORDER_STATUS_CANCELLED", "requestId": stack.unique("c")})
        self.assertEqual(r.status, 200, r)
        wait_for("the cancellation unlearnt", lambda: shop.C not in (similar_to_d() or [shop.C]))
        self.assertEqual(similar_to_d(), [shop.B])  # c4's basket is all that is left
        rows = stack.query_db("SELECT count(*) FROM personalization.interactions WHERE source = "
                              "'order:%s'" % order_id)
        self.assertEqual(rows, [["0"]])

    def test_objection_to_profiling_is_honoured(self):
        shop = Shop()
        cid = stack.new_customer(shop.key, givenName="Private")
        shop.order(cid, [shop.C])
        wait_for("the customer's list", lambda: shop.recs(cid).get("strategy") ==
                 "RECOMMENDATION_STRATEGY_PERSONALIZED")
        r = rest("POST", "/v1/customers/%s/consents" % cid, shop.key,
                 {"channel": "CONSENT_CHANNEL_WEB", "purpose": "CONSENT_PURPOSE_PROFILING",
                  "status": "CONSENT_STATUS_OPTED_OUT"})
        self.assertEqual(r.status, 200, r)
        a = wait_for("the objection", lambda: shop.recs(cid)["strategy"] ==
                     "RECOMMENDATION_STRATEGY_NOT_PERSONALIZED" and shop.recs(cid))
        # Popular products (A 4, B 3, C 3 customers), its own purchase
        # included: its history is not read.
        self.assertEqual(skus(a)[:3], [shop.A, shop.B, shop.C])
        self.assertTrue(all(p["reason"] == "RECOMMENDATION_REASON_POPULAR" for p in a["products"]))
        r = rest("POST", "/v1/customers/%s/consents" % cid, shop.key,
                 {"channel": "CONSENT_CHANNEL_WEB", "purpose": "CONSENT_PURPOSE_PROFILING",
                  "status": "CONSENT_STATUS_OPTED_IN"})
        self.assertEqual(r.status, 200, r)
        wait_for("the opt-in", lambda: shop.recs(cid)["strategy"] ==
                 "RECOMMENDATION_STRATEGY_PERSONALIZED")

    def test_erasure_removes_the_customer_from_the_model(self):
        tenant, key = stack.create_tenant()
        sku_x, sku_y = stack.unique("X"), stack.unique("Y")
        for sku in (sku_x, sku_y):
            r = rest("POST", "/v1/products", key,
                     {"sku": sku, "name": sku, "active": True, "categoryPath": ["Misc", "Things"],
                      "price": {"amountMinor": "100", "currencyCode": "CHF"}})
            self.assertEqual(r.status, 200, r)
        gone = stack.new_customer(key, givenName="Gone")
        r = rest("POST", "/v1/orders?requestId=" + q(stack.unique("po")), key,
                 {"customerId": gone, "currencyCode": "CHF",
                  "lines": [{"sku": s, "quantity": "1", "unitPriceMinor": "100"}
                            for s in (sku_x, sku_y)]})
        self.assertEqual(r.status, 200, r)

        def similar():
            r = rest("GET", "/v1/products/%s/similar" % q(sku_x), key)
            return skus(r.json()) if r.status == 200 else None
        wait_for("X's neighbour", lambda: similar() == [sku_y])
        # An offer decided for the customer: its log row goes with the erasure.
        r = rest("POST", "/v1/offers?requestId=" + stack.unique("o"), key,
                 {"offerId": "hello", "displayName": "Hello", "kind": "OFFER_KIND_CONTENT"})
        self.assertEqual(r.status, 200, r)
        r = wait_for("the customer known", lambda: (lambda r: r if r.status == 200 else None)(
            rest("POST", "/v1/customers/%s:nextBestOffers" % gone, key, {})))
        self.assertEqual(len(r.json()["decisions"]), 1)
        r = rest("DELETE", "/v1/customers/%s" % gone, key)
        self.assertEqual(r.status, 200, r)
        wait_for("the erasure", lambda: rest(
            "GET", "/v1/customers/%s/recommendations" % gone, key).status == 404)
        self.assertEqual(similar(), [])
        for table in ("offer_decisions", "offer_customer_counts"):
            rows = stack.query_db("SELECT count(*) FROM personalization.%s WHERE customer_id = "
                                  "'%s'" % (table, gone))
            self.assertEqual(rows, [["0"]], table)
        rows = stack.query_db(
            "SELECT count(*) FROM personalization.interactions WHERE user_key = '%s'" % gone)
        self.assertEqual(rows, [["0"]])

    def test_other_tenants_and_unknown_customers_read_not_found(self):
        _, other = stack.create_tenant()
        r = rest("GET", "/v1/customers/%s/recommendations" % self.t, other)
        self.assertError(r, 404, "CUSTOMER_NOT_FOUND")
        r = rest("GET", "/v1/customers/%s/recommendations" % uuid.uuid4(), self.key)
        self.assertError(r, 404, "CUSTOMER_NOT_FOUND")
        r = rest("GET", "/v1/products/%s/similar" % q(self.A), other)
        self.assertError(r, 404, "PRODUCT_NOT_FOUND")
        r = rest("POST", "/v1/recommendations:forCart", other, {"skus": [self.B]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(skus(r.json()), [])
        r = rest("GET", "/v1/visitors/someone/recommendations", other)
        self.assertEqual(skus(r.json()), [])

    def test_bad_input_is_refused_clearly(self):
        base = "/v1/customers/%s/recommendations" % self.t
        self.assertError(rest("GET", base + "?count=101", self.key), 400, "INVALID_FIELD", "count")
        self.assertError(rest("GET", base + "?count=-1", self.key), 400, "INVALID_FIELD", "count")
        self.assertError(rest("GET", base + "?categoryPrefix=a%2F%2Fb", self.key), 400, "INVALID_FIELD",
                         "category_prefix")
        self.assertError(rest("GET", "/v1/customers/not-a-uuid/recommendations", self.key), 400,
                         "INVALID_FIELD", "customer_id")
        self.assertError(rest("POST", "/v1/recommendations:forCart", self.key, {"skus": []}),
                         400, "INVALID_FIELD", "skus")
        self.assertError(rest("POST", "/v1/recommendations:forCart", self.key,
                              {"skus": ["x"] * 101}), 400, "INVALID_FIELD", "skus")
        self.assertError(rest("POST", "/v1/recommendations:forCart", self.key,
                              {"skus": ["x"], "colour": "red"}), 400, "UNKNOWN_FIELD", "colour")
        self.assertError(rest("GET", "/v1/visitors/%s/recommendations" % ("v" * 129), self.key),
                         400, "INVALID_FIELD", "visitor_id")
        self.assertEqual(rest("GET", base).status, 401)

    def test_interests_from_behaviour_and_the_customer_s_choices(self):
        shop = Shop()
        cid = stack.new_customer(shop.key, givenName="Curious")
        shop.order(cid, [shop.A])  # Home/Kitchen

        def interests(customer=cid, query=""):
            r = rest("GET", "/v1/customers/%s/interests%s" % (customer, query), shop.key)
            return r.json() if r.status == 200 else {}

        def topics(answer):
            return [i["topic"] for i in answer.get("interests", [])]
        wait_for("the purchase's interest", lambda: topics(interests()) == ["Home", "Home/Kitchen"])
        a = interests()
        self.assertTrue(a["personalized"])
        self.assertEqual(a["interests"][0]["source"], "INTEREST_SOURCE_INFERRED")
        self.assertEqual(a["interests"][0]["score"], 1)
        # A category search counts (as a view of it), for visitors too.
        visitor = stack.unique("vis")
        r = rest("POST", "/v1/events:track", shop.key, {"events": [
            {"type": "search.performed", "customerId": cid,
             "properties": {"categoryPath": ["Books", "Fiction"]}},
            {"type": "search.performed", "visitorId": visitor,
             "properties": {"categoryPath": ["Home", "Garden"]}}]})
        self.assertEqual(r.status, 200, r)
        wait_for("the search's interest",
                 lambda: topics(interests()) == ["Home", "Home/Kitchen", "Books", "Books/Fiction"])
        self.assertAlmostEqual(interests()["interests"][2]["score"], 0.25, places=2)

        def visitor_topics():
            r = rest("GET", "/v1/visitors/%s/interests" % visitor, shop.key)
            self.assertEqual(r.status, 200, r)
            return topics(r.json())
        wait_for("the visitor's interest", lambda: visitor_topics() == ["Home", "Home/Garden"])
        # The customer's own choices win; a declined topic hides its subtree.
        body = {"requestId": stack.unique("i"), "changes": [
            {"topic": " Garden / Tools ", "preference": "TOPIC_PREFERENCE_INTERESTED"},
            {"topic": "Home", "preference": "TOPIC_PREFERENCE_NOT_INTERESTED"}]}
        r = rest("PATCH", "/v1/customers/%s/interests" % cid, shop.key, body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(topics(r.json()), ["Garden/Tools", "Books", "Books/Fiction"])
        self.assertEqual(r.json()["interests"][0]["source"], "INTEREST_SOURCE_CHOSEN")
        self.assertEqual(r.json()["declinedTopics"], ["Home"])
        self.assertEqual(rest("PATCH", "/v1/customers/%s/interests" % cid, shop.key, body).json(),
                         r.json())  # the same request id: the same answer
        body["changes"] = body["changes"][:1]
        self.assertError(rest("PATCH", "/v1/customers/%s/interests" % cid, shop.key, body),
                         422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        self.assertEqual(topics(interests(query="?count=1")), ["Garden/Tools"])
        rows = stack.query_db("SELECT topics::text FROM personalization.chosen_topics "
                              "WHERE customer_id = '%s'" % cid)
        self.assertEqual(rows, [['{"Home": false, "Garden/Tools": true}']])
        # Cleared: inferred again.
        r = rest("PATCH", "/v1/customers/%s/interests" % cid, shop.key, {"changes": [
            {"topic": "Home", "preference": "TOPIC_PREFERENCE_NO_PREFERENCE"}]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(topics(r.json())[:3], ["Garden/Tools", "Home", "Home/Kitchen"])
        self.assertNotIn("declinedTopics", r.json())
        # Refused clearly, nothing written.
        for changes, status, reason in (
                ([], 400, "INVALID_FIELD"),
                ([{"topic": "a//b", "preference": "TOPIC_PREFERENCE_INTERESTED"}], 400,
                 "INVALID_FIELD"),
                ([{"topic": "Toys"}], 400, "INVALID_FIELD"),
                ([{"topic": "Toys", "preference": "TOPIC_PREFERENCE_INTERESTED"},
                  {"topic": "Toys ", "preference": "TOPIC_PREFERENCE_NO_PREFERENCE"}], 400,
                 "INVALID_FIELD"),
                ([{"topic": "T%d" % i, "preference": "TOPIC_PREFERENCE_NOT_INTERESTED"}
                  for i in range(100)], 400, "TOO_MANY_TOPICS")):
            r = rest("PATCH", "/v1/customers/%s/interests" % cid, shop.key, {"changes": changes})
            self.assertError(r, status, reason)
        self.assertEqual(topics(interests())[0], "Garden/Tools")
        self.assertError(rest("GET", "/v1/customers/%s/interests?count=101" % cid, shop.key),
                         400, "INVALID_FIELD", "count")
        # Objected to profiling: only the choices.
        r = rest("POST", "/v1/customers/%s/consents" % cid, shop.key,
                 {"channel": "CONSENT_CHANNEL_WEB", "purpose": "CONSENT_PURPOSE_PROFILING",
                  "status": "CONSENT_STATUS_OPTED_OUT"})
        self.assertEqual(r.status, 200, r)
        # (false is proto3 JSON's default: left out of the answer)
        wait_for("the objection", lambda: "personalized" not in interests() and topics(
            interests()) == ["Garden/Tools"])
        self.assertEqual(topics(interests()), ["Garden/Tools"])
        # Erased: gone with the choices.
        self.assertEqual(rest("DELETE", "/v1/customers/%s" % cid, shop.key).status, 200)
        wait_for("the erasure", lambda: rest(
            "GET", "/v1/customers/%s/interests" % cid, shop.key).status == 404)
        self.assertError(rest("PATCH", "/v1/customers/%s/interests" % cid, shop.key, {
            "changes": [{"topic": "Home", "preference": "TOPIC_PREFERENCE_INTERESTED"}]}),
            404, "CUSTOMER_NOT_FOUND")
        self.assertEqual(stack.query_db("SELECT count(*) FROM personalization.chosen_topics "
                                        "WHERE customer_id = '%s'" % cid), [["0"]])

    def test_content_slots_decide_per_customer_and_visitor(self):
        shop = Shop()
        buyer = shop.t  # bought A (Home/Kitchen)
        browser = stack.new_customer(shop.key, givenName="Browser")
        slot = {"slotId": "home-banner", "displayName": "Home banner",
                "fallbackContent": "Welcome",
                "variants": [
                    {"variantId": "buyers", "rule": "orders(365d) >= 1",
                     "content": "<b>Thanks</b> for buying"},
                    {"variantId": "garden", "topics": ["Home / Garden"], "content": "Garden week"},
                    {"variantId": "everyone", "arms": [
                        {"armId": "blue", "content": "Hello (blue)"},
                        {"armId": "red", "content": "Hello (red)", "weight": 3}]}]}

        def create(body, rid=None):
            return rest("POST", "/v1/slots?requestId=" + q(rid or stack.unique("slot")), shop.key,
                        body)
        # Checked at save time: the rule's line and column, each field named.
        bad = dict(slot, variants=[dict(slot["variants"][0], rule="orders(365d) >=")])
        r = create(bad)
        self.assertError(r, 400, "INVALID_FIELD", "variants.rule")
        self.assertIn('variant "buyers": ', r.json()["error"]["message"])
        self.assertIn("column", r.json()["error"]["message"])
        self.assertError(create(dict(slot, slotId="Home Banner")), 400, "INVALID_FIELD", "slot_id")
        self.assertError(create(dict(slot, holdoutBasisPoints=10001)), 400, "INVALID_FIELD",
                         "holdout_basis_points")
        self.assertError(create(dict(slot, colour="red")), 400, "UNKNOWN_FIELD", "colour")
        self.assertError(rest("POST", "/v1/slots", shop.key, slot), 400, "INVALID_FIELD",
                         "request_id")
        rid = stack.unique("slot")
        r = create(slot, rid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], "1")
        self.assertEqual(r.json()["variants"][1]["topics"], ["Home/Garden"])
        self.assertEqual(create(slot, rid).json(), r.json())  # replayed
        self.assertError(create(slot), 409, "SLOT_EXISTS")

        def decide(who, path="customers"):
            r = rest("GET", "/v1/%s/%s/slots/home-banner" % (path, who), shop.key)
            self.assertEqual(r.status, 200, r)
            return r.json()
        # The buyer matches the rule once segmentation has learnt the order.
        d = wait_for("the buyer's variant", lambda: decide(buyer).get("variantId") == "buyers"
                     and decide(buyer))
        self.assertEqual(d["content"], "<b>Thanks</b> for buying")
        self.assertEqual(d["reason"], "SLOT_DECISION_REASON_RULE")
        self.assertTrue(d["rulesEvaluated"])
        self.assertEqual(d["slotVersion"], "1")
        # The browser: no order; a view of C (Home/Garden) makes the garden variant theirs.
        d = wait_for("the browser's known", lambda: rest(
            "GET", "/v1/customers/%s/slots/home-banner" % browser, shop.key).status == 200
            and decide(browser))
        self.assertEqual(d["variantId"], "everyone")
        self.assertIn(d["armId"], ("blue", "red"))
        self.assertEqual(d["content"], "Hello (%s)" % d["armId"])
        self.assertEqual(decide(browser), d)  # the same arm on every call
        r = rest("POST", "/v1/events:track", shop.key, {"events": [
            {"type": "product.viewed", "customerId": browser, "properties": {"sku": shop.C}}]})
        self.assertEqual(r.status, 200, r)
        d = wait_for("the browser's interest", lambda: decide(browser).get("variantId") ==
                     "garden" and decide(browser))
        self.assertEqual(d["interest"], 1)
        # A visitor: the rule's variant is left out.
        self.assertEqual(decide(stack.unique("vis"), "visitors")["variantId"], "everyone")
        # Replace it: a holdout of everyone shows the fallback; a stale etag is refused.
        current = rest("GET", "/v1/slots/home-banner", shop.key).json()
        edit = dict(slot, holdoutBasisPoints=10000, etag=current["etag"])
        r = rest("PUT", "/v1/slots/home-banner?requestId=" + stack.unique("u"), shop.key, edit)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], "2")
        self.assertError(rest("PUT", "/v1/slots/home-banner?requestId=" + stack.unique("u"),
                              shop.key, edit), 412, "ETAG_MISMATCH")
        d = decide(buyer)
        self.assertEqual((d["reason"], d["content"]), ("SLOT_DECISION_REASON_HOLDOUT", "Welcome"))
        self.assertNotIn("variantId", d)
        self.assertEqual([x["slotId"] for x in rest("GET", "/v1/slots", shop.key).json()["slots"]],
                         ["home-banner"])
        # Other tenants see none of it.
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/slots/home-banner", other), 404, "SLOT_NOT_FOUND")
        self.assertError(rest("GET", "/v1/customers/%s/slots/home-banner" % buyer, other), 404,
                         "CUSTOMER_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/slots", other).json().get("slots", []), [])
        self.assertError(rest("DELETE", "/v1/slots/home-banner?requestId=x", other), 404,
                         "SLOT_NOT_FOUND")
        # An objection to profiling: the fallback, not personalized.
        r = rest("POST", "/v1/customers/%s/consents" % browser, shop.key,
                 {"channel": "CONSENT_CHANNEL_WEB", "purpose": "CONSENT_PURPOSE_PROFILING",
                  "status": "CONSENT_STATUS_OPTED_OUT"})
        self.assertEqual(r.status, 200, r)
        wait_for("the objection", lambda: decide(browser)["reason"] ==
                 "SLOT_DECISION_REASON_NOT_PERSONALIZED")
        # Deleted: gone.
        r = rest("DELETE", "/v1/slots/home-banner?requestId=" + stack.unique("d"), shop.key)
        self.assertEqual(r.status, 200, r)
        self.assertError(rest("GET", "/v1/customers/%s/slots/home-banner" % buyer, shop.key),
                         404, "SLOT_NOT_FOUND")

    def test_offers_and_next_best_offers_with_caps_and_a_decision_log(self):
        shop = Shop()
        buyer = shop.t  # bought A; B and C go with A

        def create(offer, rid=None):
            return rest("POST", "/v1/offers?requestId=" + q(rid or stack.unique("offer")),
                        shop.key, offer)
        self.assertError(create({"offerId": "x", "displayName": "X", "kind": "OFFER_KIND_CONTENT",
                                 "rule": "orders(30d) >="}), 400, "INVALID_FIELD", "rule")
        self.assertError(create({"offerId": "x", "displayName": "X",
                                 "kind": "OFFER_KIND_CROSS_SELL"}), 400, "INVALID_FIELD", "skus")
        self.assertError(create({"offerId": "x", "displayName": "X",
                                 "kind": "OFFER_KIND_DISCOUNT"}), 400, "INVALID_FIELD",
                         "discount_basis_points")
        self.assertError(create({"offerId": "x", "displayName": "X", "kind": "OFFER_KIND_CONTENT",
                                 "startTime": "2030-01-01T00:00:00Z",
                                 "endTime": "2029-01-01T00:00:00Z"}), 400, "INVALID_FIELD",
                         "end_time")
        offers = [
            {"offerId": "buyers-10", "displayName": "10 % for buyers", "kind": "OFFER_KIND_DISCOUNT",
             "discountBasisPoints": 1000, "rule": "orders(365d) >= 1", "valueMinor": "500",
             "perCustomerCap": "1"},
            {"offerId": "with-b", "displayName": "B goes with A", "kind": "OFFER_KIND_CROSS_SELL",
             "skus": [shop.B], "valueMinor": "300"},
            {"offerId": "scarce", "displayName": "Three only", "kind": "OFFER_KIND_CONTENT",
             "content": "<p>gift</p>", "valueMinor": "1", "globalCap": "3"},
        ]
        for o in offers:
            r = create(o)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["version"], "1")
        self.assertError(create(offers[0]), 409, "OFFER_EXISTS")

        def nbo(customer, body=None):
            return rest("POST", "/v1/customers/%s:nextBestOffers" % customer, shop.key, body or {})
        # The buyer matches the rule once segmentation has learnt the order
        # (asked with a check that claims nothing: the offer's rule alone).
        wait_for("segmentation's view of the buyer", lambda: rest(
            "POST", "/v1/segments:preview", shop.key,
            {"expression": "orders(365d) >= 1"}).json().get("count") == "5")
        first = nbo(buyer, {"count": 3, "requestId": "nbo-1"}).json()
        ids = [d["offer"]["offerId"] for d in first["decisions"]]
        self.assertEqual(ids[0], "buyers-10")
        self.assertIn("with-b", ids)
        self.assertTrue(all(d["decisionId"] for d in first["decisions"]))
        self.assertEqual(first["decisions"][0]["reason"], "OFFER_DECISION_REASON_RANKED")
        self.assertEqual(first["decisions"][0]["rank"], 1)
        # Replayed with its request id: the same decisions, nothing claimed again.
        again = nbo(buyer, {"count": 3, "requestId": "nbo-1"}).json()
        self.assertEqual([d["decisionId"] for d in again["decisions"]],
                         [d["decisionId"] for d in first["decisions"]])
        # Per-customer cap 1: the next call goes without it.
        nxt = [d["offer"]["offerId"] for d in nbo(buyer, {"count": 3}).json()["decisions"]]
        self.assertNotIn("buyers-10", nxt)
        # The decision log, and offer.presented events.
        rows = stack.query_db("SELECT offer_id, rank::text, reason FROM personalization."
                              "offer_decisions WHERE decision_id = '%s'"
                              % first["decisions"][0]["decisionId"])
        self.assertEqual(rows, [["buyers-10", "1", "ranked"]])
        rows = stack.query_db("SELECT count(*) FROM personalization.outbox WHERE event_type = "
                              "'offers.presented' AND payload->'decisions' @> "
                              "'[{\"decision_id\": \"%s\"}]'" % first["decisions"][0]["decisionId"])
        self.assertEqual(rows, [["1"]])
        # The global cap holds under concurrent calls (20 customers at once).
        import concurrent.futures
        customers = [stack.new_customer(shop.key) for _ in range(20)]
        wait_for("the new customers", lambda: all(rest(
            "GET", "/v1/customers/%s/interests" % c, shop.key).status == 200 for c in customers))
        already = int(rest("GET", "/v1/offers/scarce", shop.key).json().get("presentedCount", "0"))
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lambda c: nbo(c, {"count": 3}), customers))
        got = sum(1 for a in answers for d in a.json().get("decisions", [])
                  if d["offer"]["offerId"] == "scarce")
        self.assertEqual(got, max(0, 3 - already))
        self.assertEqual(rest("GET", "/v1/offers/scarce", shop.key).json()["presentedCount"], "3")
        # Retired: never offered again; the list still shows it.
        r = rest("POST", "/v1/offers/with-b:retire", shop.key, {"requestId": stack.unique("r")})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["retired"])
        self.assertNotIn("with-b", [d["offer"]["offerId"] for d in nbo(buyer).json()
                                    .get("decisions", [])])
        listed = rest("GET", "/v1/offers", shop.key).json()["offers"]
        self.assertEqual([o["offerId"] for o in listed], ["buyers-10", "scarce", "with-b"])
        # Bad input, other tenants.
        self.assertError(nbo(buyer, {"count": 11}), 400, "INVALID_FIELD", "count")
        self.assertError(nbo("not-a-uuid"), 400, "INVALID_FIELD", "customer_id")
        _, other = stack.create_tenant()
        self.assertError(rest("POST", "/v1/customers/%s:nextBestOffers" % buyer, other, {}), 404,
                         "CUSTOMER_NOT_FOUND")
        self.assertError(rest("GET", "/v1/offers/scarce", other), 404, "OFFER_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/offers", other).json().get("offers", []), [])

    def test_personal_price_quoted_signed_and_honoured_by_an_order(self):
        shop = Shop()
        buyer = shop.t
        pan = stack.unique("PAN")
        r = rest("POST", "/v1/products", shop.key,
                 {"sku": pan, "name": "Pan", "categoryPath": ["Home", "Kitchen"], "active": True,
                  "price": {"amountMinor": "10000", "currencyCode": "CHF"},
                  "cost": {"amountMinor": "7000"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["cost"], {"amountMinor": "7000", "currencyCode": "CHF"})
        self.assertError(rest("POST", "/v1/products", shop.key,
                              {"sku": stack.unique("X"), "name": "X",
                               "categoryPath": ["Home", "Kitchen"],
                               "price": {"amountMinor": "100", "currencyCode": "CHF"},
                               "cost": {"amountMinor": "50", "currencyCode": "EUR"}}),
                         400, "INVALID_FIELD", "cost.currency_code")
        # A policy never written: no tiers, no discount.
        policy = rest("GET", "/v1/pricePolicy", shop.key).json()
        self.assertNotIn("tiers", policy)
        self.assertEqual(policy.get("version", "0"), "0")

        def put(body, rid=None):
            return rest("PUT", "/v1/pricePolicy?requestId=" + q(rid or stack.unique("pp")),
                        shop.key, body)
        tiers = [{"name": "buyers", "rule": "orders(365d) >= 1", "discountBasisPoints": 1500},
                 {"name": "everyone", "discountBasisPoints": 500}]
        bad = put({"maxDiscountBasisPoints": 1000, "tiers": [{"name": "b", "rule": "orders(30d) >="}]})
        self.assertError(bad, 400, "INVALID_FIELD", "tiers.rule")
        self.assertIn('tier "b"', bad.json()["error"]["message"])
        self.assertError(put({"minMarginBasisPoints": 10000}), 400, "INVALID_FIELD",
                         "min_margin_basis_points")
        r = put({"maxDiscountBasisPoints": 1000, "minMarginBasisPoints": 2000, "tiers": tiers})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], "1")
        self.assertEqual(r.json()["quoteTtlSeconds"], 900)
        self.assertError(put({"etag": "7", "tiers": tiers}), 412, "ETAG_MISMATCH")

        def quote(customer, sku=pan, key=shop.key, body=None):
            return rest("POST", "/v1/customers/%s:quotePrice" % customer, key,
                        body if body is not None else {"sku": sku, "currencyCode": "CHF"})
        wait_for("segmentation's view of the buyer", lambda: rest(
            "POST", "/v1/segments:preview", shop.key,
            {"expression": "orders(365d) >= 1"}).json().get("count") == "5")
        wait_for("the pan's price learnt", lambda: quote(buyer).status == 200)
        qt = quote(buyer).json()
        # 15 % asked, capped at 10 %: 9000 (the 20 % margin floor over 7000 is 8750).
        self.assertEqual(qt["tier"], "buyers")
        self.assertEqual(qt["reason"], "PRICE_QUOTE_REASON_TIER")
        self.assertEqual(qt["listPriceMinor"], "10000")
        self.assertEqual(qt["unitPriceMinor"], "9000")
        self.assertEqual(qt["discountBasisPoints"], 1000)
        self.assertEqual(qt["limit"], "PRICE_LIMIT_MAX_DISCOUNT")
        self.assertIn("capped at the maximum discount of 10 %", qt["explanation"])
        self.assertTrue(qt["token"].startswith("pq1."))
        rows = stack.query_db("SELECT unit_price_minor::text, tier, reason, price_limit FROM "
                              "personalization.price_quotes WHERE quote_id = '%s'" % qt["quoteId"])
        self.assertEqual(rows, [["9000", "buyers", "tier", "max_discount"]])
        # A product without a cost gets no discount; a currency it is not priced in is refused.
        nocost = quote(buyer, shop.A).json()
        self.assertEqual(nocost["unitPriceMinor"], "1000")
        self.assertEqual(nocost["limit"], "PRICE_LIMIT_NO_COST")
        self.assertError(quote(buyer, body={"sku": pan, "currencyCode": "EUR"}), 400,
                         "PRODUCT_NOT_QUOTABLE", "currency_code")
        self.assertError(quote(buyer, stack.unique("NOPE")), 400, "PRODUCT_NOT_QUOTABLE", "sku")
        self.assertError(quote("not-a-uuid"), 400, "INVALID_FIELD", "customer_id")

        def order(customer, line):
            return rest("POST", "/v1/orders?requestId=" + q(stack.unique("qo")), shop.key,
                        {"customerId": customer, "currencyCode": "CHF",
                         "lines": [dict({"sku": pan, "quantity": "2"}, **line)]})
        # The order citing the quote is charged the quoted price.
        placed = order(buyer, {"priceQuote": qt["token"]})
        self.assertEqual(placed.status, 200, placed)
        line = placed.json()["lines"][0]
        self.assertEqual(line["unitPriceMinor"], "9000")
        self.assertEqual(line["priceQuoteId"], qt["quoteId"])
        self.assertEqual(placed.json()["totalMinor"], "18000")
        got = rest("GET", "/v1/orders/" + placed.json()["id"], shop.key).json()
        self.assertEqual(got["lines"][0]["priceQuoteId"], qt["quoteId"])
        # Forged, altered, misused quotes are refused, and nothing is written.
        before = stack.query_db("SELECT count(*) FROM txn.orders WHERE customer_id = '%s'" % buyer)
        self.assertError(order(buyer, {"priceQuote": qt["token"], "unitPriceMinor": "1"}), 400,
                         "INVALID_FIELD", "lines[0].unit_price_minor")
        head, body, mac = qt["token"].split(".")
        altered = head + "." + body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
        self.assertError(order(buyer, {"priceQuote": altered}), 400, "PRICE_QUOTE_INVALID",
                         "lines[0].price_quote")
        self.assertError(order(shop.buyers["c1"], {"priceQuote": qt["token"]}), 400,
                         "PRICE_QUOTE_INVALID", "lines[0].price_quote")
        self.assertEqual(stack.query_db("SELECT count(*) FROM txn.orders WHERE customer_id = '%s'"
                                        % buyer), before)
        # Another tenant: the customer is not found, its policy is its own,
        # and this tenant's quote is no good there.
        other_tenant, other = stack.create_tenant()
        self.assertError(quote(buyer, key=other), 404, "CUSTOMER_NOT_FOUND")
        self.assertNotIn("tiers", rest("GET", "/v1/pricePolicy", other).json())
        stranger = stack.new_customer(other)
        r = rest("POST", "/v1/products", other,
                 {"sku": pan, "name": "Pan", "categoryPath": ["Home", "Kitchen"],
                  "price": {"amountMinor": "10000", "currencyCode": "CHF"}})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/orders?requestId=" + q(stack.unique("xo")), other,
                 {"customerId": stranger, "currencyCode": "CHF",
                  "lines": [{"sku": pan, "quantity": "1", "priceQuote": qt["token"]}]})
        self.assertError(r, 400, "PRICE_QUOTE_INVALID", "lines[0].price_quote")

    def test_message_templates_checked_at_save_and_previewed(self):
        shop = Shop()

        def create(body, rid=None):
            return rest("POST", "/v1/templates?requestId=" + q(rid or stack.unique("tpl")),
                        shop.key, body)
        welcome = {"templateId": "welcome", "displayName": "Welcome",
                   "channel": "TEMPLATE_CHANNEL_EMAIL", "defaultLocale": "en",
                   "locales": [{"locale": "en", "parts": {
                       "subject": "Hi {{customer.given_name}}",
                       "html": "<p>Hi {{customer.given_name}}</p>\n"
                               "{{#recommendations}}<li>{{sku}}</li>{{/recommendations}}"
                               "{{> footer}}"}},
                               {"locale": "de-ch", "parts": {
                                   "subject": "Hallo {{customer.given_name}}",
                                   "text": "Hallo {{{customer.given_name}}}"}}],
                   "partials": {"footer": "<footer>{{customer.email}}</footer>"}}
        # Refused at save time with the part, line and column.
        bad = dict(welcome, locales=[{"locale": "en", "parts": {
            "subject": "Hi", "html": "<p>\n  {{customer.nickname}}</p>"}}])
        r = create(bad)
        self.assertError(r, 400, "INVALID_FIELD", "locales.parts")
        self.assertIn('en html: unknown name "customer.nickname" (line 2, column 3)',
                      r.json()["error"]["message"])
        r = create(dict(welcome, partials={"footer": "{{#offers}}"}))
        self.assertError(r, 400, "INVALID_FIELD", "partials")
        self.assertIn('partial "footer": unclosed section "offers" (line 1, column 1)',
                      r.json()["error"]["message"])
        self.assertError(create(dict(welcome, partials={})), 400, "INVALID_FIELD",
                         "locales.parts")
        self.assertError(create(dict(welcome, channel="TEMPLATE_CHANNEL_SMS")), 400,
                         "INVALID_FIELD", "locales.parts")
        r = create(welcome)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], "1")
        self.assertEqual(r.json()["locales"][1]["locale"], "de-CH")
        self.assertError(create(welcome), 409, "TEMPLATE_EXISTS")
        # Previews: the sample data, data of one's own over it, escaped per part.
        def preview(body, tid="welcome"):
            return rest("POST", "/v1/templates/%s:preview" % tid, shop.key, body)
        p = preview({"locale": "en-GB"}).json()
        self.assertEqual(p["locale"], "en")
        self.assertEqual(p["parts"]["subject"], "Hi Ada")
        self.assertIn("<li>SKU-1</li>", p["parts"]["html"])
        evil = '<script>alert(1)</script>\r\nBcc: x@example.com'
        p = preview({"locale": "de-CH", "data": {"customer": {"given_name": evil}}}).json()
        self.assertEqual(p["locale"], "de-CH")
        self.assertEqual(p["parts"]["subject"], "Hallo <script>alert(1)</script>  Bcc: x@example.com")
        self.assertEqual(p["parts"]["text"], "Hallo <script>alert(1)</script>\nBcc: x@example.com")
        p = preview({"data": {"customer": {"given_name": evil}}}).json()
        self.assertNotIn("<script>", p["parts"]["html"])
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", p["parts"]["html"])
        # A draft is checked like a save and not saved.
        d = preview({"draft": dict(welcome, templateId="")}, "draft-1").json()
        self.assertEqual(d["templateId"], "draft-1")
        self.assertNotIn("version", d)
        self.assertError(preview({"draft": bad}, "draft-1"), 400, "INVALID_FIELD",
                         "locales.parts")
        self.assertError(rest("GET", "/v1/templates/draft-1", shop.key), 404,
                         "TEMPLATE_NOT_FOUND")
        # Update with its etag, list, delete; other tenants see none of it.
        r = rest("PUT", "/v1/templates/welcome?requestId=" + q(stack.unique("u")), shop.key,
                 dict(welcome, etag="1", displayName="Welcome 2"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], "2")
        self.assertError(rest("PUT", "/v1/templates/welcome?requestId=" + q(stack.unique("u")),
                              shop.key, dict(welcome, etag="1")), 412, "ETAG_MISMATCH")
        self.assertEqual([t["templateId"] for t in
                          rest("GET", "/v1/templates", shop.key).json()["templates"]], ["welcome"])
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/templates/welcome", other), 404, "TEMPLATE_NOT_FOUND")
        self.assertError(rest("POST", "/v1/templates/welcome:preview", other, {}), 404,
                         "TEMPLATE_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/templates", other).json().get("templates", []), [])
        r = rest("DELETE", "/v1/templates/welcome?requestId=" + q(stack.unique("d")), shop.key)
        self.assertEqual(r.status, 200, r)
        self.assertError(rest("GET", "/v1/templates/welcome", shop.key), 404,
                         "TEMPLATE_NOT_FOUND")

    def test_a_template_rendered_for_a_real_customer(self):
        import datetime
        shop = Shop()
        buyer = shop.t  # bought A: B and C are its recommendations
        zone = "Pacific/Auckland"
        try:
            import zoneinfo
            today = datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()
        except Exception:  # no zoneinfo: UTC rules
            zone, today = "UTC", datetime.datetime.utcnow().date()
        r = rest("PATCH", "/v1/customers/%s" % buyer, shop.key,
                 {"givenName": "<img src=x onerror=alert(1)>", "locale": "de-CH",
                  "timeZone": zone,
                  "birthday": {"month": today.month, "day": today.day},
                  "attributes": {"tier": {"stringValue": "gold"}}})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/offers?requestId=" + q(stack.unique("offer")), shop.key,
                 {"offerId": "tpl-offer", "displayName": "Ten off",
                  "kind": "OFFER_KIND_DISCOUNT", "discountBasisPoints": 1000,
                  "valueMinor": "100"})
        self.assertEqual(r.status, 200, r)
        tpl = {"templateId": "bday", "displayName": "Birthday",
               "channel": "TEMPLATE_CHANNEL_EMAIL",
               "locales": [{"locale": "en", "parts": {"subject": "Hi", "text": "en"}},
                           {"locale": "de", "parts": {
                               "subject": "Hallo {{customer.given_name}}",
                               "html": "<p>{{customer.given_name}} ({{customer.attributes.tier}})"
                                       "</p>{{#birthday.today}}<b>Alles Gute!</b>"
                                       "{{/birthday.today}}{{#recommendations}}<li>{{sku}}</li>"
                                       "{{/recommendations}}{{#offers}}<em>{{display_name}} "
                                       "-{{discount_percent}} %</em>{{/offers}}"}}]}
        r = rest("POST", "/v1/templates?requestId=" + q(stack.unique("t")), shop.key, tpl)
        self.assertEqual(r.status, 200, r)

        def render(body, customer=buyer, key=shop.key):
            return rest("POST", "/v1/templates/bday:render", key,
                        dict({"customerId": customer}, **body))
        m = render({"offerCount": 1, "requestId": "render-1"})
        self.assertEqual(m.status, 200, m)
        m = m.json()
        self.assertEqual(m["locale"], "de")
        self.assertTrue(m["personalized"])
        html = m["parts"]["html"]
        self.assertNotIn("<img", html)
        self.assertIn("&lt;img src&#61;x onerror&#61;alert(1)&gt; (gold)", html)
        self.assertIn("<b>Alles Gute!</b>", html)
        self.assertIn("<li>%s</li>" % shop.C, html)
        self.assertIn("<em>Ten off -10 %</em>", html)
        self.assertEqual(len(m["decisionIds"]), 1)
        # A retry with its request id: the same decision.
        again = render({"offerCount": 1, "requestId": "render-1"}).json()
        self.assertEqual(again["decisionIds"], m["decisionIds"])
        self.assertEqual(render({"locale": "en"}).json()["locale"], "en")
        # The profile is read at render time.
        rest("PATCH", "/v1/customers/%s" % buyer, shop.key, {"givenName": "Zoë"})
        self.assertIn("Zoë", render({}).json()["parts"]["subject"])
        # Refusals.
        self.assertError(render({}, customer=str(uuid.uuid4())), 404, "CUSTOMER_NOT_FOUND")
        self.assertError(render({}, customer="nope"), 400, "INVALID_FIELD", "customer_id")
        self.assertError(render({"offerCount": 11}), 400, "INVALID_FIELD", "offer_count")
        _, other = stack.create_tenant()
        self.assertError(render({}, key=other), 404, "TEMPLATE_NOT_FOUND")

    def test_popular_in_segment_for_new_customers_and_visitors(self):
        shop = Shop()
        # c4 (bought B, D and the inactive E) is the book club's one buyer.
        club = stack.unique("club").lower().replace("_", "-")
        seg = "club-" + club[-12:]
        r = rest("PATCH", "/v1/customers/%s" % shop.buyers["c4"], shop.key,
                 {"attributes": {"club": {"stringValue": club}}})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/segments?requestId=" + q(stack.unique("s")), shop.key,
                 {"segmentId": seg, "displayName": "Book club",
                  "expression": 'attr.club = "%s"' % club})
        self.assertEqual(r.status, 200, r)
        newbie = stack.new_customer(shop.key, attributes={"club": {"stringValue": club}})

        def answer():
            return shop.recs(newbie, "?count=3")
        wait_for("the newcomer's segment's favourites", lambda: answer().get("strategy") ==
                 "RECOMMENDATION_STRATEGY_SEGMENT_POPULAR")
        a = answer()
        self.assertEqual(a["segmentId"], seg)
        self.assertEqual(skus(a)[:2], sorted([shop.B, shop.D]))
        self.assertEqual([p["reason"] for p in a["products"][:2]],
                         ["RECOMMENDATION_REASON_POPULAR_IN_SEGMENT"] * 2)
        self.assertEqual(a["products"][2]["reason"], "RECOMMENDATION_REASON_POPULAR")
        self.assertEqual(skus(a)[2], shop.A)  # then the tenant's favourite
        # A visitor with the segment named; the tenant's favourites without.
        v = rest("GET", "/v1/visitors/%s/recommendations?count=2&segmentId=%s"
                 % (stack.unique("v"), seg), shop.key).json()
        self.assertEqual(v["strategy"], "RECOMMENDATION_STRATEGY_SEGMENT_POPULAR")
        self.assertEqual(skus(v), sorted([shop.B, shop.D]))
        v = rest("GET", "/v1/visitors/%s/recommendations?count=1" % stack.unique("v"),
                 shop.key).json()
        self.assertEqual(v["strategy"], "RECOMMENDATION_STRATEGY_POPULAR_FALLBACK")
        # Unknown and malformed segments; another tenant does not see this one.
        self.assertError(rest("GET", "/v1/visitors/x/recommendations?segmentId=nope-nope",
                              shop.key), 404, "SEGMENT_NOT_FOUND")
        self.assertError(rest("GET", "/v1/visitors/x/recommendations?segmentId=Bad%20Id",
                              shop.key), 400, "INVALID_FIELD", "segment_id")
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/visitors/x/recommendations?segmentId=" + seg, other),
                         404, "SEGMENT_NOT_FOUND")

    def test_grpc_through_the_gateway(self):
        stack.grpc_modules()  # generates the stubs
        pb = importlib.import_module("crm.personalization.v1.personalization_pb2")
        pb_grpc = importlib.import_module("crm.personalization.v1.personalization_pb2_grpc")
        stub = pb_grpc.PersonalizationServiceStub(stack.grpc_channel())
        a = stub.GetRecommendations(pb.GetRecommendationsRequest(customer_id=self.t),
                                    metadata=stack.auth(self.key))
        self.assertEqual([p.sku for p in a.products], [self.C, self.B, self.D])
        self.assertEqual(a.strategy, pb.RECOMMENDATION_STRATEGY_PERSONALIZED)
        c = stub.RecommendForCart(pb.RecommendForCartRequest(skus=[self.B], count=1),
                                  metadata=stack.auth(self.key))
        self.assertEqual([p.sku for p in c.products], [self.A])

    def test_z_restart_rebuilds_identical_answers(self):
        queries = [("GET", "/v1/customers/%s/recommendations" % self.t, None),
                   ("GET", "/v1/customers/%s/recommendations?includeOwned=true" % self.t, None),
                   ("GET", "/v1/products/%s/similar" % q(self.B), None),
                   ("GET", "/v1/customers/%s/interests" % self.t, None),
                   ("GET", "/v1/customers/%s/slots/restart-slot" % self.t, None),
                   ("GET", "/v1/slots/restart-slot", None),
                   ("GET", "/v1/pricePolicy", None),
                   ("POST", "/v1/recommendations:forCart", {"skus": [self.A, self.D]})]

        def answers():
            out = []
            for method, path, body in queries:
                r = rest(method, path, self.key, body)
                self.assertEqual(r.status, 200, r)
                out.append(r.json())
            return out
        r = rest("POST", "/v1/slots?requestId=" + stack.unique("rs"), self.key, {
            "slotId": "restart-slot", "displayName": "Restart", "fallbackContent": "F",
            "selection": "SLOT_SELECTION_BEST_INTEREST", "holdoutBasisPoints": 100,
            "variants": [{"variantId": "books", "topics": ["Books"], "content": "B"},
                         {"variantId": "kitchen", "topics": ["Home/Kitchen"],
                          "arms": [{"armId": "x", "content": "X"}, {"armId": "y", "content": "Y"}]},
                         {"variantId": "buyers", "rule": "orders(3650d) >= 1", "content": "O"}]})
        self.assertEqual(r.status, 200, r)
        r = rest("PUT", "/v1/pricePolicy?requestId=" + stack.unique("rp"), self.key, {
            "maxDiscountBasisPoints": 500, "minMarginBasisPoints": 1000, "quoteTtlSeconds": 120,
            "tiers": [{"name": "buyers", "rule": "orders(3650d) >= 1", "discountBasisPoints": 300},
                      {"name": "all", "discountBasisPoints": 100}]})
        self.assertEqual(r.status, 200, r)
        before = answers()
        self.assertEqual(before[4]["variantId"], "kitchen")  # t bought A (Home/Kitchen)
        self.assertEqual(before[6]["tiers"][1], {"name": "all", "discountBasisPoints": 100})
        stack.stop_service("personalization")
        stack.start_service("personalization")
        wait_for("the gateway with personalization back", lambda: rest(
            "GET", "/v1/products/%s/similar" % q(self.B), self.key).status == 200)
        self.assertEqual(answers(), before)


if __name__ == "__main__":
    unittest.main()
