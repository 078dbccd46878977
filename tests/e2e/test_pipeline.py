"""The sales pipeline (transaction service, PipelineService) through the gateway: REST and gRPC.

Leads, their conversion (with an explicit customer and resolved through
customer-store), opportunities and their stages, won -> order, the weighted
forecast, idempotency, roles and tenant isolation.
"""

import importlib
import time
import unittest
import urllib.parse

import grpc

import stack
from stack import rest

DEADLINE = 10  # seconds, on every gRPC call

pipe = pipe_grpc = txn = txn_grpc = None
channel = None


def setUpModule():
    global pipe, pipe_grpc, txn, txn_grpc, channel
    stack.start()
    pipe = importlib.import_module("crm.transaction.v1.pipeline_pb2")
    pipe_grpc = importlib.import_module("crm.transaction.v1.pipeline_pb2_grpc")
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


def rid():
    return stack.unique("rid")


def add_product(key, sku, amount=125000):
    r = rest("POST", "/v1/products", key,
             {"sku": sku, "name": "Product " + sku, "categoryPath": ["Services", "Consulting"],
              "price": {"amountMinor": str(amount), "currencyCode": "CHF"}, "active": True})
    if r.status != 200:
        raise AssertionError("create product failed: %r" % r)


def create_customer(key, email=None):
    r = rest("POST", "/v1/customers", key,
             {"givenName": "Ada", "emails": [email or "%s@example.com" % stack.unique("c")]})
    if r.status != 200:
        raise AssertionError("create customer failed: %r" % r)
    return r.json()["id"]


def lead_body(email=None, **extra):
    body = {"givenName": "Grace", "familyName": "Hopper", "companyName": "Navy",
            "email": email or "%s@example.com" % stack.unique("lead"), "source": "web"}
    body.update(extra)
    return body


def opp_body(customer=None, amount=100000, close="2026-03-31", owner="ann", currency="CHF",
             **extra):
    body = {"name": "Fleet renewal", "amountMinor": str(amount), "currencyCode": currency,
            "expectedCloseDate": close, "owner": owner}
    if customer:
        body["customerId"] = customer
    body.update(extra)
    return body


class PipelineRest(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        _, cls.sales = stack.create_key(cls.key, ["ROLE_SALES"])
        _, cls.ro = stack.create_key(cls.key, ["ROLE_READ_ONLY"])
        _, cls.marketer = stack.create_key(cls.key, ["ROLE_MARKETER"])
        cls.sku = stack.unique("PIPE")
        add_product(cls.key, cls.sku)
        cls.customer = create_customer(cls.key)

    def create_lead(self, body=None, key=None, request_id=None):
        r = rest("POST", "/v1/leads?requestId=" + q(request_id or rid()), key or self.sales,
                 body or lead_body())
        self.assertEqual(r.status, 200, r)
        return r.json()

    def create_opp(self, body, key=None):
        r = rest("POST", "/v1/opportunities?requestId=" + q(rid()), key or self.sales, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def move(self, opp_id, stage, request_id=None, key=None):
        return rest("POST", "/v1/opportunities/%s:moveStage" % opp_id, key or self.sales,
                    {"toStage": stage, "requestId": request_id or rid()})

    def close(self, opp_id, outcome, request_id=None, **extra):
        body = {"outcome": outcome, "requestId": request_id or rid()}
        body.update(extra)
        return rest("POST", "/v1/opportunities/%s:close" % opp_id, self.sales, body)

    def opp_ids(self, query="", key=None):
        r = rest("GET", "/v1/opportunities?pageSize=500&" + query, key or self.key)
        self.assertEqual(r.status, 200, r)
        return [o["id"] for o in r.json().get("opportunities", [])]

    # ------------------------------------------------------------------ leads

    def test_lead_lifecycle_and_conversion_with_a_customer_id(self):
        lead = self.create_lead(lead_body(phone="+41 44 668 18 00", score=12))
        self.assertEqual(lead["status"], "LEAD_STATUS_NEW")
        self.assertEqual(lead["phone"], "+41446681800")
        self.assertTrue(lead["owner"])  # the calling key
        self.assertEqual(lead["etag"], "1")
        g = rest("GET", "/v1/leads/" + lead["id"], self.ro)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json(), lead)

        bad = rest("PATCH", "/v1/leads/%s?updateMask=status&requestId=%s" % (lead["id"], rid()),
                   self.sales, {"status": "LEAD_STATUS_QUALIFIED"})
        self.assertError(bad, 400, "INVALID_LEAD_TRANSITION")
        self.assertIn("new", bad.json()["error"]["message"])
        stale = rest("PATCH", "/v1/leads/%s?updateMask=status&requestId=%s" % (lead["id"], rid()),
                     self.sales, {"status": "LEAD_STATUS_WORKING"}, headers={"If-Match": '"7"'})
        self.assertError(stale, 412, "ETAG_MISMATCH")
        for status in ("LEAD_STATUS_WORKING", "LEAD_STATUS_QUALIFIED"):
            r = rest("PATCH", "/v1/leads/%s?updateMask=status&requestId=%s" % (lead["id"], rid()),
                     self.sales, {"status": status})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["status"], status)

        conv = rest("POST", "/v1/leads/%s:convert" % lead["id"], self.sales,
                    {"customerId": self.customer, "requestId": rid(),
                     "opportunity": {"amountMinor": "250000", "currencyCode": "chf",
                                     "expectedCloseDate": "2026-06-30"}})
        self.assertEqual(conv.status, 200, conv)
        c = conv.json()
        self.assertEqual(c["lead"]["status"], "LEAD_STATUS_CONVERTED")
        self.assertEqual(c["lead"]["customerId"], self.customer)
        self.assertEqual(c["lead"]["opportunityId"], c["opportunity"]["id"])
        self.assertFalse(c.get("customerCreated", False))
        o = c["opportunity"]
        self.assertEqual(o["name"], "Navy")
        self.assertEqual(o["stage"], "OPPORTUNITY_STAGE_PROSPECTING")
        self.assertEqual(o["currencyCode"], "CHF")
        self.assertEqual(o["leadId"], lead["id"])
        g = rest("GET", "/v1/opportunities/" + o["id"], self.key)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json(), o)
        again = rest("POST", "/v1/leads/%s:convert" % lead["id"], self.sales,
                     {"customerId": self.customer, "requestId": rid(),
                      "opportunity": {"currencyCode": "CHF", "expectedCloseDate": "2026-06-30"}})
        self.assertError(again, 400, "LEAD_ALREADY_CONVERTED")
        frozen = rest("PATCH", "/v1/leads/%s?updateMask=score&requestId=%s" % (lead["id"], rid()),
                      self.sales, {"score": 99})
        self.assertError(frozen, 400, "LEAD_ALREADY_CONVERTED")

    def test_conversion_resolves_the_customer_through_customer_store(self):
        email = "%s@example.com" % stack.unique("resolve")
        lead = self.create_lead(lead_body(email=email))
        request_id = rid()
        body = {"requestId": request_id,
                "opportunity": {"currencyCode": "EUR", "expectedCloseDate": "2026-05-31"}}
        conv = rest("POST", "/v1/leads/%s:convert" % lead["id"], self.sales, body)
        self.assertEqual(conv.status, 200, conv)
        customer = conv.json()["lead"]["customerId"]
        self.assertTrue(conv.json().get("customerCreated"), conv)
        got = rest("GET", "/v1/customers/" + customer, self.key)
        self.assertEqual(got.status, 200, got)
        self.assertIn(email, [e.get("address", e) if isinstance(e, dict) else e
                              for e in got.json().get("emails", [])], got)
        replay = rest("POST", "/v1/leads/%s:convert" % lead["id"], self.sales, body)
        self.assertEqual(replay.status, 200, replay)
        self.assertEqual(replay.body, conv.body)
        # A second lead with the same email finds that customer instead of creating one.
        other = self.create_lead(lead_body(email=email))
        conv2 = rest("POST", "/v1/leads/%s:convert" % other["id"], self.sales,
                     {"requestId": rid(),
                      "opportunity": {"currencyCode": "EUR", "expectedCloseDate": "2026-05-31"}})
        self.assertEqual(conv2.status, 200, conv2)
        self.assertEqual(conv2.json()["lead"]["customerId"], customer)
        self.assertFalse(conv2.json().get("customerCreated", False))

    def test_same_request_id_replays_and_another_body_is_422(self):
        request_id = rid()
        body = lead_body()
        first = rest("POST", "/v1/leads?requestId=" + request_id, self.sales, body)
        self.assertEqual(first.status, 200, first)
        again = rest("POST", "/v1/leads?requestId=" + request_id, self.sales, body)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body, first.body)
        other = rest("POST", "/v1/leads?requestId=" + request_id, self.sales,
                     lead_body(companyName="Other"))
        self.assertError(other, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        missing = rest("POST", "/v1/leads", self.sales, lead_body())
        self.assertError(missing, 400, "INVALID_FIELD", "request_id")

    def test_bad_input_names_the_field_and_writes_nothing(self):
        before = self.opp_ids()
        cases = [
            (opp_body(self.customer, currency="XXY"), "currency_code"),
            (opp_body(self.customer, amount=-1), "amount_minor"),
            (opp_body(self.customer, close="2026-02-30"), "expected_close_date"),
            (opp_body(self.customer, close=""), "expected_close_date"),
            (opp_body("not-a-uuid"), "customer_id"),
            (opp_body(self.customer, name=""), "name"),
            (opp_body(self.customer, stage="OPPORTUNITY_STAGE_CLOSED_WON"), "stage"),
        ]
        for body, field in cases:
            r = rest("POST", "/v1/opportunities?requestId=" + rid(), self.sales, body)
            self.assertError(r, 400, "INVALID_FIELD", field)
        r = rest("POST", "/v1/leads?requestId=" + rid(), self.sales, {"email": "nope"})
        self.assertError(r, 400, "INVALID_FIELD", "email")
        r = rest("POST", "/v1/leads?requestId=" + rid(), self.sales, {"source": "web"})
        self.assertError(r, 400, "INVALID_FIELD", "family_name")
        self.assertEqual(self.opp_ids(), before)
        r = rest("PATCH", "/v1/pipeline/stages", self.key,
                 {"requestId": rid(), "stages": [{"stage": "OPPORTUNITY_STAGE_PROPOSAL",
                                                  "probabilityPercent": 101}]})
        self.assertError(r, 400, "INVALID_FIELD", "stages[0].probability_percent")
        r = rest("GET", "/v1/pipeline:forecast?fromDate=2026-02-01&toDate=2026-01-01", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "to_date")
        r = rest("GET", "/v1/leads/not-a-uuid", self.key)
        self.assertError(r, 400, "INVALID_FIELD", "lead_id")

    # ---------------------------------------------------------- opportunities

    def test_stage_moves_history_and_closed_stages_are_final(self):
        o = self.create_opp(opp_body(self.customer))
        r = self.move(o["id"], "OPPORTUNITY_STAGE_PROPOSAL")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["stage"], "OPPORTUNITY_STAGE_PROPOSAL")
        self.assertEqual(r.json()["etag"], "2")
        upd = rest("PATCH", "/v1/opportunities/%s?updateMask=amountMinor,owner&requestId=%s"
                   % (o["id"], rid()), self.sales, {"amountMinor": "90000", "owner": "bob"},
                   headers={"If-Match": '"2"'})
        self.assertEqual(upd.status, 200, upd)
        self.assertEqual(upd.json()["amountMinor"], "90000")
        self.assertEqual(upd.json()["owner"], "bob")
        lost = self.close(o["id"], "CLOSE_OUTCOME_LOST", closeReason="budget")
        self.assertEqual(lost.status, 200, lost)
        self.assertEqual(lost.json()["stage"], "OPPORTUNITY_STAGE_CLOSED_LOST")
        self.assertEqual(lost.json()["closeReason"], "budget")
        self.assertTrue(lost.json()["closeTime"])
        request_id = rid()
        r = self.move(o["id"], "OPPORTUNITY_STAGE_NEGOTIATION", request_id=request_id)
        self.assertError(r, 400, "INVALID_STAGE_TRANSITION")
        self.assertEqual(r.json()["error"]["status"], "FAILED_PRECONDITION")
        self.assertIn("closed_lost", r.json()["error"]["message"])
        again = self.move(o["id"], "OPPORTUNITY_STAGE_NEGOTIATION", request_id=request_id)
        self.assertEqual(again.body, r.body)
        h = rest("GET", "/v1/opportunities/%s/stageHistory" % o["id"], self.ro)
        self.assertEqual(h.status, 200, h)
        changes = h.json()["changes"]
        self.assertEqual([c["toStage"] for c in changes],
                         ["OPPORTUNITY_STAGE_PROSPECTING", "OPPORTUNITY_STAGE_PROPOSAL",
                          "OPPORTUNITY_STAGE_CLOSED_LOST"])
        self.assertEqual(changes[0].get("fromStage", "OPPORTUNITY_STAGE_UNSPECIFIED"),
                         "OPPORTUNITY_STAGE_UNSPECIFIED")
        self.assertEqual(changes[2]["fromStage"], "OPPORTUNITY_STAGE_PROPOSAL")
        self.assertTrue(all(c["changeTime"] and c["principal"] for c in changes))

    def test_won_with_order_lines_creates_the_order(self):
        o = self.create_opp(opp_body(self.customer, amount=250000))
        request_id = rid()
        body = {"createOrder": {"lines": [{"sku": self.sku, "quantity": "2",
                                           "unitPriceMinor": "125000"}],
                                "channel": "SALES_CHANNEL_CALL_CENTER"}}
        won = self.close(o["id"], "CLOSE_OUTCOME_WON", request_id=request_id, **body)
        self.assertEqual(won.status, 200, won)
        self.assertEqual(won.json()["stage"], "OPPORTUNITY_STAGE_CLOSED_WON")
        order_id = won.json()["orderId"]
        self.assertTrue(order_id)
        g = rest("GET", "/v1/orders/" + order_id, self.ro)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["customerId"], self.customer)
        self.assertEqual(g.json()["currencyCode"], "CHF")
        self.assertEqual(int(g.json()["totalMinor"]), 250000)
        self.assertEqual(g.json()["status"], "ORDER_STATUS_PLACED")
        retry = self.close(o["id"], "CLOSE_OUTCOME_WON", request_id=request_id, **body)
        self.assertEqual(retry.status, 200, retry)
        self.assertEqual(retry.body, won.body)
        r = rest("GET", "/v1/orders?pageSize=500&customerId=" + self.customer, self.key)
        self.assertEqual([x["id"] for x in r.json().get("orders", [])].count(order_id), 1)
        self.assertEqual(len([x for x in r.json().get("orders", []) if x["id"] == order_id]), 1)

    def test_won_with_a_bad_order_line_writes_nothing(self):
        o = self.create_opp(opp_body(self.customer))
        r = self.close(o["id"], "CLOSE_OUTCOME_WON",
                       createOrder={"lines": [{"sku": "NO-SUCH-SKU", "quantity": "1",
                                               "unitPriceMinor": "1"}]})
        self.assertError(r, 400, "UNKNOWN_SKU", "create_order.lines[0].sku")
        g = rest("GET", "/v1/opportunities/" + o["id"], self.key)
        self.assertEqual(g.json()["stage"], "OPPORTUNITY_STAGE_PROSPECTING")
        self.assertEqual(g.json()["etag"], "1")

    # --------------------------------------------------------------- forecast

    def test_forecast_weighted_by_the_tenants_probabilities(self):
        _, admin = stack.create_tenant()
        customer = create_customer(admin)

        def opp(amount, close, owner="ann", currency="CHF", stage=None):
            r = rest("POST", "/v1/opportunities?requestId=" + rid(), admin,
                     opp_body(customer, amount=amount, close=close, owner=owner,
                              currency=currency))
            self.assertEqual(r.status, 200, r)
            if stage:
                m = self.move(r.json()["id"], stage, key=admin)
                self.assertEqual(m.status, 200, m)
            return r.json()["id"]

        opp(100000, "2026-01-15")                                       # 10% -> 10000
        opp(1005, "2026-01-31", stage="OPPORTUNITY_STAGE_PROPOSAL")     # 50% -> 503
        opp(999, "2026-02-01", stage="OPPORTUNITY_STAGE_NEGOTIATION")   # 80% -> 799
        opp(2503, "2026-01-02", currency="EUR",
            stage="OPPORTUNITY_STAGE_QUALIFICATION")                    # 20% -> 501
        opp(50000, "2026-01-10", owner="bob", stage="OPPORTUNITY_STAGE_NEGOTIATION")
        opp(7777, "2027-01-10")                                         # outside the range
        r = rest("GET", "/v1/pipeline/stages", admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([s.get("probabilityPercent", 0) for s in r.json()["stages"]],
                         [10, 20, 50, 80, 100, 0])

        path = "/v1/pipeline:forecast?fromDate=2026-01-01&toDate=2026-02-28"
        f = rest("GET", path + "&period=FORECAST_PERIOD_MONTH", admin)
        self.assertEqual(f.status, 200, f)
        rows = [(x["owner"], x["period"], x["currencyCode"], int(x.get("openCount", 0)),
                 int(x.get("openAmountMinor", 0)), int(x.get("weightedAmountMinor", 0)))
                for x in f.json()["rows"]]
        self.assertEqual(rows, [("ann", "2026-01", "CHF", 2, 101005, 10503),
                                ("ann", "2026-01", "EUR", 1, 2503, 501),
                                ("ann", "2026-02", "CHF", 1, 999, 799),
                                ("bob", "2026-01", "CHF", 1, 50000, 40000)])
        self.assertEqual(f.json()["rows"][0]["periodStart"], "2026-01-01")

        upd = rest("PATCH", "/v1/pipeline/stages", admin,
                   {"requestId": rid(), "stages": [{"stage": "OPPORTUNITY_STAGE_PROSPECTING",
                                                    "probabilityPercent": 25}]})
        self.assertEqual(upd.status, 200, upd)
        self.assertEqual(upd.json()["stages"][0]["probabilityPercent"], 25)
        f = rest("GET", path + "&period=FORECAST_PERIOD_QUARTER&owner=ann&currencyCode=chf", admin)
        self.assertEqual(f.status, 200, f)
        rows = f.json()["rows"]
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0]["period"], "2026-Q1")
        self.assertEqual(int(rows[0]["weightedAmountMinor"]), 25000 + 503 + 799)
        # The sales role may not change the weighting.
        _, sales = stack.create_key(admin, ["ROLE_SALES"])
        r = rest("PATCH", "/v1/pipeline/stages", sales,
                 {"requestId": rid(), "stages": [{"stage": "OPPORTUNITY_STAGE_PROPOSAL",
                                                  "probabilityPercent": 99}]})
        self.assertError(r, 403, "PERMISSION_DENIED_FOR_ROLE")

    def test_customer_ids_must_name_a_customer_of_the_tenant(self):
        unknown = "00000000-0000-4000-8000-0000000000aa"
        r = rest("POST", "/v1/opportunities?requestId=" + q(rid()), self.sales, opp_body(unknown))
        self.assertError(r, 400, "CUSTOMER_NOT_FOUND", "customer_id")
        _, other_key = stack.create_tenant()
        theirs = create_customer(other_key)
        r = rest("POST", "/v1/opportunities?requestId=" + q(rid()), self.sales, opp_body(theirs))
        self.assertError(r, 400, "CUSTOMER_NOT_FOUND", "customer_id")
        opp = self.create_opp(opp_body())
        r = rest("PATCH", "/v1/opportunities/%s?updateMask=customer_id&requestId=%s"
                 % (opp["id"], q(rid())), self.sales, {"customerId": unknown})
        self.assertError(r, 400, "CUSTOMER_NOT_FOUND", "customer_id")
        lead = self.create_lead()
        r = rest("POST", "/v1/leads/%s:convert" % lead["id"], self.sales,
                 {"customerId": unknown, "requestId": rid(),
                  "opportunity": {"currencyCode": "CHF", "expectedCloseDate": "2026-01-31"}})
        self.assertError(r, 400, "CUSTOMER_NOT_FOUND", "customer_id")

    def test_erasing_the_customer_erases_its_leads_and_opportunities(self):
        email = "%s@example.com" % stack.unique("erase")
        customer = create_customer(self.key, email)
        lead = self.create_lead(lead_body(email=email, phone="+41 44 668 18 00"))
        conv = rest("POST", "/v1/leads/%s:convert" % lead["id"], self.sales,
                    {"customerId": customer, "requestId": rid(),
                     "opportunity": {"currencyCode": "CHF", "expectedCloseDate": "2026-01-31"}})
        self.assertEqual(conv.status, 200, conv)
        opp_id = conv.json()["opportunity"]["id"]
        own = self.create_opp(opp_body(customer, name="Grace Hopper's fleet"))
        # A lead never converted into this customer is another record: kept.
        other = self.create_lead(lead_body(email=email))

        d = rest("DELETE", "/v1/customers/" + customer, self.key)
        self.assertEqual(d.status, 200, d)
        deadline = time.time() + 10
        while True:
            g = rest("GET", "/v1/leads/" + lead["id"], self.key).json()
            if "email" not in g or time.time() > deadline:
                break
            time.sleep(0.1)
        for field in ("givenName", "familyName", "email", "phone"):
            self.assertNotIn(field, g, g)
        self.assertEqual(g["companyName"], "Navy")
        self.assertEqual(g["customerId"], customer)
        for oid in (opp_id, own["id"]):
            o = rest("GET", "/v1/opportunities/" + oid, self.key).json()
            self.assertEqual(o["name"], "[erased]", o)
        self.assertEqual(rest("GET", "/v1/leads/" + other["id"], self.key).json()["email"], email)

    def test_roles_read_only_and_marketer_read_but_cannot_write(self):
        lead = self.create_lead()
        for key in (self.ro, self.marketer):
            self.assertEqual(rest("GET", "/v1/leads/" + lead["id"], key).status, 200)
            self.assertEqual(rest("GET", "/v1/opportunities", key).status, 200)
            r = rest("POST", "/v1/leads?requestId=" + rid(), key, lead_body())
            self.assertError(r, 403, "PERMISSION_DENIED_FOR_ROLE")
            r = rest("POST", "/v1/opportunities?requestId=" + rid(), key, opp_body(self.customer))
            self.assertError(r, 403, "PERMISSION_DENIED_FOR_ROLE")


class PipelineTenantIsolation(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.a_key = stack.create_tenant()
        cls.b, cls.b_key = stack.create_tenant()

    def test_b_cannot_see_or_change_a_pipeline(self):
        lead = rest("POST", "/v1/leads?requestId=" + rid(), self.a_key, lead_body())
        self.assertEqual(lead.status, 200, lead)
        lead_id = lead.json()["id"]
        opp = rest("POST", "/v1/opportunities?requestId=" + rid(), self.a_key, opp_body())
        self.assertEqual(opp.status, 200, opp)
        opp_id = opp.json()["id"]
        for path, reason in (("/v1/leads/" + lead_id, "LEAD_NOT_FOUND"),
                             ("/v1/opportunities/" + opp_id, "OPPORTUNITY_NOT_FOUND"),
                             ("/v1/opportunities/%s/stageHistory" % opp_id,
                              "OPPORTUNITY_NOT_FOUND")):
            r = rest("GET", path, self.b_key)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.reason(), reason, r)
        r = rest("POST", "/v1/opportunities/%s:moveStage" % opp_id, self.b_key,
                 {"toStage": "OPPORTUNITY_STAGE_PROPOSAL", "requestId": rid()})
        self.assertEqual(r.status, 404, r)
        r = rest("POST", "/v1/leads/%s:convert" % lead_id, self.b_key,
                 {"customerId": "00000000-0000-4000-8000-000000000001", "requestId": rid(),
                  "opportunity": {"currencyCode": "CHF", "expectedCloseDate": "2026-01-31"}})
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "LEAD_NOT_FOUND")
        r = rest("GET", "/v1/leads?pageSize=500", self.b_key)
        self.assertNotIn(lead_id, [x["id"] for x in r.json().get("leads", [])])
        r = rest("GET", "/v1/pipeline:forecast?fromDate=2026-01-01&toDate=2026-12-31",
                 self.b_key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("rows", []), [])
        g = rest("GET", "/v1/opportunities/" + opp_id, self.a_key)
        self.assertEqual(g.json()["stage"], "OPPORTUNITY_STAGE_PROSPECTING")


class PipelineGrpc(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.stub = pipe_grpc.PipelineServiceStub(channel)
        cls.orders = txn_grpc.TransactionServiceStub(channel)
        _, cls.key = stack.create_tenant()
        _, cls.other = stack.create_tenant()
        cls.md = stack.auth(cls.key)
        cls.sku = stack.unique("GP")
        add_product(cls.key, cls.sku)
        cls.customer = create_customer(cls.key)

    def call(self, method, request, md=None, stub=None):
        return getattr(stub or self.stub, method)(request, metadata=md or self.md,
                                                  timeout=DEADLINE)

    def test_convert_move_win_with_order(self):
        lead = self.call("CreateLead", pipe.CreateLeadRequest(
            lead=pipe.Lead(company_name="ACME", email="%s@example.com" % stack.unique("g")),
            request_id=rid()))
        self.assertEqual(lead.status, pipe.LEAD_STATUS_NEW)
        conv = self.call("ConvertLead", pipe.ConvertLeadRequest(
            lead_id=lead.id, customer_id=self.customer, request_id=rid(),
            opportunity=pipe.Opportunity(amount_minor=500, currency_code="CHF",
                                         expected_close_date="2026-04-30")))
        opp = conv.opportunity
        self.assertEqual(opp.customer_id, self.customer)
        self.assertEqual(opp.name, "ACME")
        moved = self.call("MoveOpportunityStage", pipe.MoveOpportunityStageRequest(
            opportunity_id=opp.id, to_stage=pipe.OPPORTUNITY_STAGE_NEGOTIATION, etag=opp.etag,
            request_id=rid()))
        self.assertEqual(moved.stage, pipe.OPPORTUNITY_STAGE_NEGOTIATION)
        won = self.call("CloseOpportunity", pipe.CloseOpportunityRequest(
            opportunity_id=opp.id, outcome=pipe.CLOSE_OUTCOME_WON, request_id=rid(),
            create_order=pipe.OrderSpec(lines=[txn.OrderLine(sku=self.sku, quantity=1,
                                                             unit_price_minor=500)])))
        self.assertEqual(won.stage, pipe.OPPORTUNITY_STAGE_CLOSED_WON)
        order = self.call("GetOrder", txn.GetOrderRequest(order_id=won.order_id),
                          stub=self.orders)
        self.assertEqual(order.customer_id, self.customer)
        self.assertEqual(order.total_minor, 500)
        history = self.call("GetStageHistory",
                            pipe.GetStageHistoryRequest(opportunity_id=opp.id))
        self.assertEqual([c.to_stage for c in history.changes],
                         [pipe.OPPORTUNITY_STAGE_PROSPECTING, pipe.OPPORTUNITY_STAGE_NEGOTIATION,
                          pipe.OPPORTUNITY_STAGE_CLOSED_WON])
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("MoveOpportunityStage", pipe.MoveOpportunityStageRequest(
                opportunity_id=opp.id, to_stage=pipe.OPPORTUNITY_STAGE_PROPOSAL,
                request_id=rid()))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(stack.reason_of(cm.exception), "INVALID_STAGE_TRANSITION")
        self.assertIn("closed_won", cm.exception.details())
        # Another tenant: NOT_FOUND.
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("GetOpportunity", pipe.GetOpportunityRequest(opportunity_id=opp.id),
                      md=stack.auth(self.other))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(stack.reason_of(cm.exception), "OPPORTUNITY_NOT_FOUND")
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("GetLead", pipe.GetLeadRequest(lead_id=lead.id), md=stack.auth(self.other))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_missing_request_id_is_invalid_argument(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.call("CreateOpportunity", pipe.CreateOpportunityRequest(
                opportunity=pipe.Opportunity(name="x", currency_code="CHF",
                                             expected_close_date="2026-01-31")))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
