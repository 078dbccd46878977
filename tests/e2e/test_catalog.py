"""Product catalog (transaction service) through the gateway: REST and gRPC."""

import importlib
import unittest
import urllib.parse

import grpc

import stack
from stack import rest

DEADLINE = 10  # seconds, on every gRPC call

txn = txn_grpc = None
channel = None


def setUpModule():
    global txn, txn_grpc, channel
    stack.start()
    txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
    txn_grpc = importlib.import_module("crm.transaction.v1.transaction_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


def product(sku, name="Kind of Blue", category=("Music", "Jazz"), amount=1990, currency="CHF",
            attributes=None, active=True):
    body = {"sku": sku, "name": name, "categoryPath": list(category),
            "price": {"amountMinor": str(amount), "currencyCode": currency}, "active": active}
    if attributes is not None:
        body["attributes"] = attributes
    return body


class CatalogRest(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()

    def create(self, body, key=None, expect=200):
        r = rest("POST", "/v1/products", key or self.key, body)
        self.assertEqual(r.status, expect, r)
        return r.json()

    def assertError(self, r, status, reason, field=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.reason(), reason, r)
        if field is not None:
            self.assertEqual(r.error_field(), field, r)

    def list_all(self, query, key=None, page_size=2, max_pages=20):
        """Every sku of a filtered listing, following page tokens (bounded)."""
        seen = []
        token = ""
        for _ in range(max_pages):
            path = "/v1/products?pageSize=%d&%s" % (page_size, query)
            if token:
                path += "&pageToken=" + q(token)
            r = rest("GET", path, key or self.key)
            self.assertEqual(r.status, 200, (path, r))
            page = r.json().get("products", [])
            self.assertLessEqual(len(page), page_size)
            seen += [p["sku"] for p in page]
            token = r.json().get("nextPageToken", "")
            if not token:
                return seen
        self.fail("paging did not end within %d pages" % max_pages)

    # --------------------------------------------------------------- create/get

    def test_create_normalizes_and_get_returns_etag(self):
        sku = stack.unique("CR")
        p = self.create(product(sku, name="  Kind of Blue  ", category=(" Music", "Jazz "),
                                currency="chf", attributes={"format": "vinyl"}))
        self.assertEqual(p["sku"], sku)
        self.assertEqual(p["name"], "Kind of Blue")
        self.assertEqual(p["categoryPath"], ["Music", "Jazz"])
        self.assertEqual(p["price"]["currencyCode"], "CHF")
        self.assertEqual(int(p["price"]["amountMinor"]), 1990)
        self.assertEqual(p["attributes"], {"format": "vinyl"})
        self.assertTrue(p["active"])
        self.assertTrue(p["etag"] and p["createTime"] and p["updateTime"])
        r = rest("GET", "/v1/products/" + sku, self.key)
        self.assertEqual(r.status, 200, r)
        g = r.json()
        self.assertEqual(g["sku"], sku)
        self.assertEqual(g["price"]["currencyCode"], "CHF")
        self.assertEqual(g["etag"], p["etag"])
        self.assertEqual(r.header("etag"), '"%s"' % g["etag"])

    def test_create_with_request_id_replays_strictly(self):
        sku = stack.unique("RID")
        rid = stack.unique("rid")
        path = "/v1/products?requestId=" + rid
        first = rest("POST", path, self.key, product(sku))
        self.assertEqual(first.status, 200, first)
        # The product changes; a retry still answers the first call's bytes.
        r = rest("PATCH", "/v1/products/%s?updateMask=name" % sku, self.key, {"name": "Renamed"})
        self.assertEqual(r.status, 200, r)
        again = rest("POST", path, self.key, product(sku))
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, first.body)
        # Another body under the same request_id: 422, nothing created.
        other = rest("POST", path, self.key, product(sku + "-2", name="Other"))
        self.assertError(other, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        self.assertEqual(rest("GET", "/v1/products/%s-2" % sku, self.key).status, 404)
        # The same request_id in another tenant is another key.
        _, other_tenant = stack.create_tenant()
        theirs = rest("POST", path, other_tenant, product(sku + "-2", name="Theirs"))
        self.assertEqual(theirs.status, 200, theirs)
        self.assertEqual(theirs.json()["name"], "Theirs")

    def test_refused_create_with_request_id_replays_its_refusal(self):
        sku = stack.unique("RIDX")
        self.create(product(sku))
        path = "/v1/products?requestId=" + stack.unique("rid")
        first = rest("POST", path, self.key, product(sku, name="Dup"))
        self.assertError(first, 409, "PRODUCT_EXISTS", "sku")
        again = rest("POST", path, self.key, product(sku, name="Dup"))
        self.assertEqual(again.status, 409, again)
        self.assertEqual(again.body, first.body)

    def test_get_missing_is_404(self):
        r = rest("GET", "/v1/products/" + stack.unique("NONE"), self.key)
        self.assertError(r, 404, "PRODUCT_NOT_FOUND")

    # -------------------------------------------------------------------- patch

    def test_patch_with_update_mask_and_if_match(self):
        sku = stack.unique("PA")
        p = self.create(product(sku, attributes={"format": "vinyl", "color": "black"}))
        r = rest("PATCH", "/v1/products/%s?updateMask=name,price,attributes.color" % sku, self.key,
                 {"name": " New name ", "categoryPath": ["Ignored", "Path"],
                  "price": {"amountMinor": "2500", "currencyCode": "eur"},
                  "attributes": {"color": "blue", "format": "ignored"}},
                 headers={"If-Match": '"%s"' % p["etag"]})
        self.assertEqual(r.status, 200, r)
        u = r.json()
        self.assertEqual(u["name"], "New name")
        self.assertEqual(u["categoryPath"], ["Music", "Jazz"], "field outside the mask changed")
        self.assertEqual(u["price"]["currencyCode"], "EUR")
        self.assertEqual(int(u["price"]["amountMinor"]), 2500)
        self.assertEqual(u["attributes"], {"format": "vinyl", "color": "blue"})
        self.assertNotEqual(u["etag"], p["etag"])
        self.assertEqual(r.header("etag"), '"%s"' % u["etag"])
        # The old etag is stale now.
        r = rest("PATCH", "/v1/products/%s?updateMask=name" % sku, self.key, {"name": "Stale"},
                 headers={"If-Match": '"%s"' % p["etag"]})
        self.assertError(r, 412, "ETAG_MISMATCH")
        g = rest("GET", "/v1/products/" + sku, self.key)
        self.assertEqual(g.json()["name"], "New name")
        self.assertEqual(g.json()["etag"], u["etag"])
        # active can be switched off through an explicit mask.
        r = rest("PATCH", "/v1/products/%s?updateMask=active" % sku, self.key, {"active": False},
                 headers={"If-Match": '"%s"' % u["etag"]})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json().get("active", False))

    def test_patch_refuses_output_only_and_unknown_mask_paths(self):
        sku = stack.unique("PM")
        p = self.create(product(sku))
        for mask in ("sku", "etag", "createTime", "nope"):
            r = rest("PATCH", "/v1/products/%s?updateMask=%s" % (sku, mask), self.key,
                     {"name": "X"})
            self.assertError(r, 400, "INVALID_UPDATE_MASK", "update_mask")
        g = rest("GET", "/v1/products/" + sku, self.key)
        self.assertEqual(g.json()["etag"], p["etag"])

    def test_patch_that_breaks_the_rules_is_400(self):
        sku = stack.unique("PB")
        self.create(product(sku))
        r = rest("PATCH", "/v1/products/%s?updateMask=categoryPath" % sku, self.key,
                 {"categoryPath": ["Music"]})
        self.assertError(r, 400, "INVALID_FIELD", "category_path")

    # --------------------------------------------------------------------- list

    def test_list_filters_and_paging(self):
        _, key = stack.create_tenant()
        mk = lambda sku, **kw: self.create(product(sku, **kw), key=key)  # noqa: E731
        mk("L-01", name="Blue Train", category=("Music", "Jazz"))
        mk("L-02", name="Bluesette", category=("Music", "Jazz", "Bebop"))
        mk("L-03", name="Back in Black", category=("Music", "Rock"))
        mk("L-04", name="Blue Note Mug", category=("Musical", "Instruments"))
        mk("L-05", name="Blue Moon", category=("Music", "Jazz"), active=False)
        mk("L-06", name="100% Jazz", category=("Music", "Jazz"))
        mk("L-07", name="100X Jazz", category=("Music", "Jazz"))
        self.assertEqual(self.list_all("", key=key),
                         ["L-01", "L-02", "L-03", "L-04", "L-05", "L-06", "L-07"])
        self.assertEqual(self.list_all("categoryPrefix=Music", key=key),
                         ["L-01", "L-02", "L-03", "L-05", "L-06", "L-07"])
        self.assertEqual(self.list_all("categoryPrefix=" + q("Music/Jazz"), key=key),
                         ["L-01", "L-02", "L-05", "L-06", "L-07"])
        self.assertEqual(self.list_all("categoryPrefix=" + q("Music/Jazz") + "&activeOnly=true",
                                       key=key), ["L-01", "L-02", "L-06", "L-07"])
        self.assertEqual(self.list_all("namePrefix=BLUE", key=key),
                         ["L-01", "L-02", "L-04", "L-05"])
        self.assertEqual(self.list_all("namePrefix=" + q(" Blue M"), key=key), ["L-05"])
        self.assertEqual(self.list_all("namePrefix=" + q("blue m") + "&activeOnly=true", key=key),
                         [])
        self.assertEqual(self.list_all("namePrefix=blue&activeOnly=true", key=key),
                         ["L-01", "L-02", "L-04"])
        self.assertEqual(self.list_all("namePrefix=" + q("100%"), key=key), ["L-06"])
        self.assertEqual(self.list_all("categoryPrefix=Music&namePrefix=blue&activeOnly=true",
                                       key=key, page_size=1), ["L-01", "L-02"])

    def test_page_token_is_bound_to_the_filters(self):
        _, key = stack.create_tenant()
        for i in range(3):
            self.create(product("T-%d" % i), key=key)
        r = rest("GET", "/v1/products?pageSize=1&categoryPrefix=Music", key)
        self.assertEqual(r.status, 200, r)
        token = r.json()["nextPageToken"]
        r = rest("GET", "/v1/products?pageSize=1&categoryPrefix=Books&pageToken=" + q(token), key)
        self.assertEqual(r.status, 400, r)

    # -------------------------------------------------------------------- batch

    def test_batch_upsert_reports_errors_and_applies_the_rest(self):
        _, key = stack.create_tenant()
        self.create(product("B-1"), key=key)
        self.create(product("B-2"), key=key)
        body = {"products": [
            product("B-1"),                                  # 0 unchanged
            product("B-2", amount=2990),                     # 1 updated
            product("B-3", currency="usd"),                  # 2 created
            product("B-4", currency="XXX"),                  # 3 bad currency
            product("B-5", category=("Music",)),             # 4 one level
            product("B-3", name="dup"),                      # 5 duplicate sku
            product("bad sku"),                              # 6 bad sku
        ]}
        r = rest("POST", "/v1/products:batchUpsert", key, body)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual(j.get("created", 0), 1, j)
        self.assertEqual(j.get("updated", 0), 1, j)
        self.assertEqual(j.get("unchanged", 0), 1, j)
        errors = [(e.get("index", 0), e.get("sku", ""), e.get("field", ""), e.get("reason", ""))
                  for e in j.get("errors", [])]
        self.assertEqual(errors, [
            (3, "B-4", "price.currency_code", "INVALID_FIELD"),
            (4, "B-5", "category_path", "INVALID_FIELD"),
            (5, "B-3", "sku", "INVALID_FIELD"),
            (6, "bad sku", "sku", "INVALID_FIELD"),
        ])
        g = rest("GET", "/v1/products/B-2", key)
        self.assertEqual(int(g.json()["price"]["amountMinor"]), 2990)
        g = rest("GET", "/v1/products/B-3", key)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["price"]["currencyCode"], "USD")
        self.assertEqual(g.json()["name"], "Kind of Blue")
        self.assertEqual(rest("GET", "/v1/products/B-4", key).status, 404)
        self.assertEqual(self.list_all("", key=key), ["B-1", "B-2", "B-3"])

    def test_batch_upsert_refuses_empty_and_oversized_batches(self):
        r = rest("POST", "/v1/products:batchUpsert", self.key, {"products": []})
        self.assertError(r, 400, "INVALID_FIELD", "products")
        big = {"products": [product("OV-%d" % i) for i in range(1001)]}
        r = rest("POST", "/v1/products:batchUpsert", self.key, big)
        self.assertEqual(r.status // 100, 4, r)  # 400 products, or 413 body too large
        self.assertEqual(rest("GET", "/v1/products/OV-0", self.key).status, 404)

    # ------------------------------------------------------------------- errors

    def test_unknown_currency_is_invalid_field(self):
        sku = stack.unique("CUR")
        for code in ("XXX", "ABC", "eu"):
            r = rest("POST", "/v1/products", self.key, product(sku, currency=code))
            self.assertError(r, 400, "INVALID_FIELD", "price.currency_code")
        self.assertEqual(rest("GET", "/v1/products/" + sku, self.key).status, 404)

    def test_one_level_category_is_invalid(self):
        r = rest("POST", "/v1/products", self.key, product(stack.unique("CAT"), category=("Music",)))
        self.assertError(r, 400, "INVALID_FIELD", "category_path")
        r = rest("POST", "/v1/products", self.key,
                 product(stack.unique("CAT"), category=("Music", "Jazz/Bebop")))
        self.assertError(r, 400, "INVALID_FIELD", "category_path")

    def test_bad_sku_in_path_is_400(self):
        for sku in ("bad%20sku", "a%2Fb", "x" * 65, "%C3%A4"):
            r = rest("GET", "/v1/products/" + sku, self.key)
            self.assertEqual(r.status, 400, (sku, r))
            r = rest("PATCH", "/v1/products/%s?updateMask=name" % sku, self.key, {"name": "X"})
            self.assertEqual(r.status, 400, (sku, r))

    def test_duplicate_sku_is_409_product_exists(self):
        sku = stack.unique("DUP")
        self.create(product(sku))
        r = rest("POST", "/v1/products", self.key, product(sku, name="Another"))
        self.assertError(r, 409, "PRODUCT_EXISTS", "sku")
        self.assertEqual(rest("GET", "/v1/products/" + sku, self.key).json()["name"],
                         "Kind of Blue")

    def test_nul_bytes_are_refused_or_stored_exactly(self):
        # A name the service acknowledges must read back unchanged; input it cannot
        # store must be a 400, never a 500.
        sku = stack.unique("NUL")
        r = rest("POST", "/v1/products", self.key, product(sku, name="a\u0000b"))
        if r.status == 200:
            self.assertEqual(r.json()["name"], "a\u0000b")
            g = rest("GET", "/v1/products/" + sku, self.key)
            self.assertEqual(g.status, 200, g)
            self.assertEqual(g.json()["name"], "a\u0000b", "stored name differs from the reply")
        else:
            self.assertEqual(r.status, 400, r)

    def test_nul_byte_in_attribute_value_is_not_a_500(self):
        r = rest("POST", "/v1/products", self.key,
                 product(stack.unique("NUL"), attributes={"note": "x\u0000y"}))
        self.assertIn(r.status, (200, 400), r)

    def test_roles(self):
        _, ro = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        _, sales = stack.create_key(self.key, ["ROLE_SALES"])
        _, marketer = stack.create_key(self.key, ["ROLE_MARKETER"])
        _, integration = stack.create_key(self.key, ["ROLE_INTEGRATION"])
        sku = stack.unique("ROLE")
        for k in (ro, sales):
            r = rest("POST", "/v1/products", k, product(sku))
            self.assertEqual(r.status, 403, r)
            r = rest("POST", "/v1/products:batchUpsert", k, {"products": [product(sku)]})
            self.assertEqual(r.status, 403, r)
        self.assertEqual(rest("GET", "/v1/products/" + sku, self.key).status, 404)
        self.create(product(sku), key=marketer)
        self.create(product(sku + "-i"), key=integration)
        for k in (ro, sales):
            r = rest("GET", "/v1/products/" + sku, k)
            self.assertEqual(r.status, 200, r)
            r = rest("GET", "/v1/products?pageSize=1", k)
            self.assertEqual(r.status, 200, r)
            r = rest("PATCH", "/v1/products/%s?updateMask=name" % sku, k, {"name": "X"})
            self.assertEqual(r.status, 403, r)


class CatalogTenantIsolation(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.a_key = stack.create_tenant()
        cls.b, cls.b_key = stack.create_tenant()

    def test_b_cannot_read_or_patch_a_but_can_reuse_the_sku(self):
        sku = stack.unique("ISO")
        r = rest("POST", "/v1/products", self.a_key, product(sku, name="A's"))
        self.assertEqual(r.status, 200, r)
        etag = r.json()["etag"]
        r = rest("GET", "/v1/products/" + sku, self.b_key)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "PRODUCT_NOT_FOUND")
        r = rest("PATCH", "/v1/products/%s?updateMask=name" % sku, self.b_key, {"name": "B's"},
                 headers={"If-Match": '"%s"' % etag})
        self.assertEqual(r.status, 404, r)
        r = rest("GET", "/v1/products?pageSize=500", self.b_key)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(sku, [p["sku"] for p in r.json().get("products", [])])
        # B may create the same sku in its own tenant; A's product is untouched.
        r = rest("POST", "/v1/products", self.b_key, product(sku, name="B's"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["name"], "B's")
        r = rest("GET", "/v1/products/" + sku, self.a_key)
        self.assertEqual(r.json()["name"], "A's")
        self.assertEqual(r.json()["etag"], etag)
        r = rest("POST", "/v1/products:batchUpsert", self.b_key,
                 {"products": [product(sku, name="B2")]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("updated", 0), 1, r)
        self.assertEqual(rest("GET", "/v1/products/" + sku, self.a_key).json()["name"], "A's")


class CatalogGrpc(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.stub = txn_grpc.TransactionServiceStub(channel)
        _, cls.key = stack.create_tenant()
        cls.md = stack.auth(cls.key)

    def call(self, method, request, md=None):
        return getattr(self.stub, method)(request, metadata=md or self.md, timeout=DEADLINE)

    def new(self, sku, **kw):
        p = txn.Product(sku=sku, name=kw.get("name", "Kind of Blue"),
                        category_path=kw.get("category", ["Music", "Jazz"]),
                        price=txn.Money(amount_minor=kw.get("amount", 1990),
                                        currency_code=kw.get("currency", "CHF")),
                        active=kw.get("active", True))
        p.attributes.update(kw.get("attributes", {}))
        return p

    def test_create_get_list(self):
        sku = stack.unique("G")
        created = self.call("CreateProduct", txn.CreateProductRequest(
            product=self.new(sku, currency="jpy", amount=500, attributes={"format": "cd"})))
        self.assertEqual(created.sku, sku)
        self.assertEqual(created.price.currency_code, "JPY")
        self.assertEqual(created.price.amount_minor, 500)
        self.assertTrue(created.etag)
        self.assertGreater(created.create_time.seconds, 0)
        got = self.call("GetProduct", txn.GetProductRequest(sku=sku))
        self.assertEqual(got, created)
        self.call("CreateProduct", txn.CreateProductRequest(
            product=self.new(sku + "-b", category=["Music", "Rock"])))
        seen = []
        token = ""
        for _ in range(10):
            resp = self.call("ListProducts", txn.ListProductsRequest(
                page_size=1, page_token=token, category_prefix="Music"))
            self.assertLessEqual(len(resp.products), 1)
            seen += [p.sku for p in resp.products]
            token = resp.next_page_token
            if not token:
                break
        self.assertIn(sku, seen)
        self.assertIn(sku + "-b", seen)
        self.assertEqual(len(seen), len(set(seen)))
        resp = self.call("ListProducts", txn.ListProductsRequest(category_prefix="Music/Jazz"))
        self.assertIn(sku, [p.sku for p in resp.products])
        self.assertNotIn(sku + "-b", [p.sku for p in resp.products])

    def test_errors_carry_reasons(self):
        sku = stack.unique("GE")
        self.call("CreateProduct", txn.CreateProductRequest(product=self.new(sku)))
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("CreateProduct", txn.CreateProductRequest(product=self.new(sku)))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.ALREADY_EXISTS)
        self.assertEqual(stack.reason_of(cm.exception), "PRODUCT_EXISTS")
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("CreateProduct", txn.CreateProductRequest(
                product=self.new(stack.unique("GX"), currency="XXX")))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(stack.reason_of(cm.exception), "INVALID_FIELD")
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("GetProduct", txn.GetProductRequest(sku=stack.unique("GN")))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(stack.reason_of(cm.exception), "PRODUCT_NOT_FOUND")
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("GetProduct", txn.GetProductRequest(sku=sku),
                      md=stack.auth("crm_not_a_real_key"))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)


if __name__ == "__main__":
    unittest.main()
