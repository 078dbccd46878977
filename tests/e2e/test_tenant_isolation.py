"""Tenant B never sees, changes or learns about tenant A's resources (REST and gRPC),
tickets and mailboxes included."""

import importlib
import time
import unittest
import urllib.parse

import grpc

import stack
from stack import rest

DEADLINE = 10
cs = cs_grpc = ad = ad_grpc = seg = seg_grpc = pers = pers_grpc = dlv = dlv_grpc = None
sd = sd_grpc = None
channel = None


def setUpModule():
    global cs, cs_grpc, ad, ad_grpc, seg, seg_grpc, pers, pers_grpc, dlv, dlv_grpc, channel
    global sd, sd_grpc
    stack.start()
    cs, cs_grpc, ad, ad_grpc = stack.grpc_modules()
    seg = importlib.import_module("crm.segmentation.v1.segmentation_pb2")
    seg_grpc = importlib.import_module("crm.segmentation.v1.segmentation_pb2_grpc")
    pers = importlib.import_module("crm.personalization.v1.personalization_pb2")
    pers_grpc = importlib.import_module("crm.personalization.v1.personalization_pb2_grpc")
    dlv = importlib.import_module("crm.delivery.v1.delivery_pb2")
    dlv_grpc = importlib.import_module("crm.delivery.v1.delivery_pb2_grpc")
    sd = importlib.import_module("crm.service_desk.v1.service_desk_pb2")
    sd_grpc = importlib.import_module("crm.service_desk.v1.service_desk_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def q(v):
    return urllib.parse.quote(v, safe="")


class TenantIsolation(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant_a, cls.a = stack.create_tenant("tenant-a")
        cls.tenant_b, cls.b = stack.create_tenant("tenant-b")
        cls.tag = stack.unique("iso")
        cls.email = "%s@example.com" % cls.tag
        cls.phone = "+41 31 555 77 88"
        r = rest("POST", "/v1/customers", cls.a, {
            "givenName": "Alice" + cls.tag[-6:], "familyName": "Secret", "emails": [cls.email],
            "phones": [cls.phone], "externalIds": [{"source": "erp", "value": cls.tag}]})
        assert r.status == 200, r
        cls.customer = r.json()
        cls.cid = cls.customer["id"]
        r = rest("POST", "/v1/customers/%s/consents" % cls.cid, cls.a, {
            "channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
            "status": "CONSENT_STATUS_OPTED_IN", "source": "a"})
        assert r.status == 200, r
        r = rest("POST", "/v1/customers/%s/interactions" % cls.cid, cls.a, {
            "kind": "INTERACTION_KIND_NOTE", "summary": "A's note"})
        assert r.status == 200, r
        cls.a_key, cls.a_key_secret = stack.create_key(cls.a, ["ROLE_SALES"])
        # A few customers of B, so B's lists are not trivially empty.
        cls.b_ids = set()
        for i in range(3):
            r = rest("POST", "/v1/customers", cls.b, {"givenName": "Bob%d" % i})
            assert r.status == 200, r
            cls.b_ids.add(r.json()["id"])
        # A's behaviour: an event of its customer and a visitor linked to it.
        cls.visitor = "vis-" + cls.tag
        r = rest("POST", "/v1/events:track", cls.a, {"events": [
            {"type": "page.viewed", "customerId": cls.cid, "properties": {"path": "/a"}},
            {"type": "page.viewed", "visitorId": cls.visitor}]})
        assert r.status == 200 and r.json()["accepted"] == 2, r
        r = rest("POST", "/v1/customers/%s:identify" % cls.cid, cls.a, {"visitorId": cls.visitor})
        assert r.status == 200, r
        # A's products, bought together by another customer of A (the first
        # stays outside A's segment below): the personalization engine
        # learns them, and both customers, from the events.
        cls.sku = "SKU-" + cls.tag
        cls.sku2 = "SKU2-" + cls.tag
        for sku in (cls.sku, cls.sku2):
            r = rest("POST", "/v1/products", cls.a,
                     {"sku": sku, "name": sku, "categoryPath": ["Iso", "A"], "active": True,
                      "price": {"amountMinor": "100", "currencyCode": "CHF"}})
            assert r.status == 200, r
        cls.buyer = stack.new_customer(cls.a)
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("o"), cls.a,
                 {"customerId": cls.buyer, "currencyCode": "CHF",
                  "lines": [{"sku": s, "quantity": "1", "unitPriceMinor": "100"}
                            for s in (cls.sku, cls.sku2)]})
        assert r.status == 200, r
        deadline = time.time() + 30
        while (rest("GET", "/v1/products/%s/similar" % cls.sku, cls.a).status != 200 or
               rest("GET", "/v1/customers/%s/recommendations" % cls.cid, cls.a).status != 200):
            assert time.time() < deadline, "personalization never learnt of A's order"
            time.sleep(0.2)
        # A's view is cached before B pokes at it.
        assert rest("GET", "/v1/customers/%s/view" % cls.cid, cls.a).status == 200
        # The segmentation engine knows A's customer (from customer.created).
        deadline = time.time() + 30
        while rest("GET", "/v1/customers/%s/scores" % cls.cid, cls.a).status != 200:
            assert time.time() < deadline, "segmentation never learnt of A's customer"
            time.sleep(0.2)
        # A's live segment, over A's customers only.
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("seg"), cls.a,
                 {"segmentId": "a-only", "displayName": "A only", "expression": "NOT purchased(30d)"})
        assert r.status == 200, r
        cls.segment = r.json()
        deadline = time.time() + 30
        while rest("GET", "/v1/segments/a-only", cls.a).json().get("memberCount") != "1":
            assert time.time() < deadline, "A's customer never entered A's segment"
            time.sleep(0.2)
        # A's content slot, whose rule reads A's segment.
        r = rest("POST", "/v1/slots?requestId=" + stack.unique("slot"), cls.a,
                 {"slotId": "a-slot", "displayName": "A's slot", "fallbackContent": "A default",
                  "variants": [{"variantId": "a", "rule": 'in_segment("a-only")',
                                "content": "A's secret"}]})
        assert r.status == 200, r
        r = rest("GET", "/v1/customers/%s/slots/a-slot" % cls.cid, cls.a)
        assert r.status == 200 and r.json().get("variantId") == "a", r
        # A's offer, presented to A's customer.
        r = rest("POST", "/v1/offers?requestId=" + stack.unique("offer"), cls.a,
                 {"offerId": "a-offer", "displayName": "A's offer", "kind": "OFFER_KIND_CONTENT",
                  "content": "A's secret", "valueMinor": "10"})
        assert r.status == 200, r
        r = rest("POST", "/v1/customers/%s:nextBestOffers" % cls.cid, cls.a, {})
        assert r.status == 200 and len(r.json()["decisions"]) == 1, r
        # A's message template.
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), cls.a,
                 {"templateId": "a-template", "displayName": "A's template",
                  "channel": "TEMPLATE_CHANNEL_SMS",
                  "locales": [{"locale": "en", "parts": {"text": "A's secret"}}]})
        assert r.status == 200, r
        # A's message to its customer and A's webhook endpoint.
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), cls.a,
                 {"templateId": "a-mail", "displayName": "A's mail",
                  "channel": "TEMPLATE_CHANNEL_EMAIL",
                  "locales": [{"locale": "en", "parts": {"subject": "A", "text": "A's secret"}}]})
        assert r.status == 200, r
        r = rest("POST", "/v1/messages:send", cls.a,
                 {"customerId": cls.cid, "channel": "CHANNEL_EMAIL", "templateId": "a-mail",
                  "requestId": stack.unique("msg")})
        assert r.status == 200, r
        cls.message = r.json()["messageId"]
        # Sent, it is on A's timeline: part of the data B must not change.
        stack.wait_for("A's email on A's timeline", lambda: [
            x for x in rest("GET", "/v1/customers/%s/interactions" % cls.cid, cls.a).json().get(
                "interactions", []) if x.get("source") == "delivery"], timeout=30)
        r = rest("POST", "/v1/webhookEndpoints?requestId=" + stack.unique("we"), cls.a,
                 {"url": "http://127.0.0.1:9/a-hook"})
        assert r.status == 200, r
        cls.endpoint = r.json()["endpointId"]
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), cls.a,
                 {"name": "A's campaign", "channel": "CHANNEL_EMAIL",
                  "audience": {"customerIds": [cls.cid]},
                  "variants": [{"variantId": "a", "templateId": "a-mail"}]})
        assert r.status == 200, r
        cls.campaign = r.json()["campaignId"]
        # A ticket of A's buyer (A's first customer's timeline and A's
        # segment of customers without purchases are checked exactly below).
        r = rest("POST", "/v1/tickets", cls.a,
                 {"ticket": {"subject": "A's ticket"}, "customerId": cls.buyer,
                  "description": "A's question", "requestId": stack.unique("t")})
        assert r.status == 200, r
        cls.ticket = r.json()["id"]
        # A's mailbox (the inbound webhook's target).
        cls.mailbox_address = "%s@desk.example" % stack.unique("a-support")
        r = rest("POST", "/v1/mailboxes", cls.a,
                 {"mailbox": {"address": cls.mailbox_address}, "requestId": stack.unique("mb")})
        assert r.status == 200, r
        cls.mailbox = r.json()["id"]

    def assert_not_found(self, r, what):
        self.assertEqual(r.status, 404, (what, r))
        self.assertEqual(r.json()["error"]["status"], "NOT_FOUND", what)
        self.assertIn(r.reason(), ("CUSTOMER_NOT_FOUND", "API_KEY_NOT_FOUND", "SEGMENT_NOT_FOUND",
                                   "PRODUCT_NOT_FOUND", "SLOT_NOT_FOUND", "OFFER_NOT_FOUND",
                                   "TEMPLATE_NOT_FOUND", "MESSAGE_NOT_FOUND",
                                   "WEBHOOK_ENDPOINT_NOT_FOUND", "CAMPAIGN_NOT_FOUND",
                                   "TICKET_NOT_FOUND", "MAILBOX_NOT_FOUND"), what)
        # The message gives no hint that the id exists elsewhere.
        self.assertNotIn("tenant", r.json()["error"]["message"].lower(), what)

    def test_a_test_b_gets_404_on_every_id_route_rest(self):
        cid = self.cid
        etag = '"%s"' % self.customer["etag"]
        routes = [
            ("GET", "/v1/customers/%s" % cid, None, {}),
            ("PATCH", "/v1/customers/%s?updateMask=givenName" % cid, {"givenName": "Mallory"}, {}),
            ("PATCH", "/v1/customers/%s?updateMask=givenName" % cid, {"givenName": "Mallory"},
             {"If-Match": etag}),
            ("DELETE", "/v1/customers/%s" % cid, None, {}),
            ("DELETE", "/v1/customers/%s" % cid, None, {"If-Match": etag}),
            ("GET", "/v1/customers/%s/view" % cid, None, {}),
            ("GET", "/v1/customers/%s:export" % cid, None, {}),
            ("GET", "/v1/customers/%s/consents" % cid, None, {}),
            ("GET", "/v1/customers/%s/consents?includeHistory=true" % cid, None, {}),
            ("POST", "/v1/customers/%s/consents" % cid,
             {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
              "status": "CONSENT_STATUS_OPTED_OUT", "source": "b"}, {}),
            ("GET", "/v1/customers/%s/interactions" % cid, None, {}),
            ("POST", "/v1/customers/%s/interactions" % cid,
             {"kind": "INTERACTION_KIND_NOTE", "summary": "B was here"}, {}),
            ("POST", "/v1/apiKeys/%s:revoke" % self.a_key["id"], {}, {}),
            ("GET", "/v1/customers/%s/scores" % cid, None, {}),
            ("POST", "/v1/customers/%s:identify" % cid, {"visitorId": "vis-b"}, {}),
            ("GET", "/v1/customers/%s/segments" % cid, None, {}),
            ("GET", "/v1/segments/a-only", None, {}),
            ("PATCH", "/v1/segments/a-only?requestId=" + stack.unique("p"),
             {"displayName": "Mallory"}, {}),
            ("DELETE", "/v1/segments/a-only?requestId=" + stack.unique("d"), None, {}),
            ("GET", "/v1/segments/a-only/members", None, {}),
            ("GET", "/v1/customers/%s/recommendations" % cid, None, {}),
            ("GET", "/v1/products/%s/similar" % self.sku, None, {}),
            ("GET", "/v1/customers/%s/interests" % cid, None, {}),
            ("PATCH", "/v1/customers/%s/interests" % cid,
             {"changes": [{"topic": "Iso", "preference": "TOPIC_PREFERENCE_INTERESTED"}]}, {}),
            ("GET", "/v1/slots/a-slot", None, {}),
            ("PUT", "/v1/slots/a-slot?requestId=" + stack.unique("ps"),
             {"displayName": "Mallory", "variants": [{"variantId": "m", "content": "M"}]}, {}),
            ("DELETE", "/v1/slots/a-slot?requestId=" + stack.unique("ds"), None, {}),
            ("GET", "/v1/customers/%s/slots/a-slot" % cid, None, {}),
            ("GET", "/v1/offers/a-offer", None, {}),
            ("PUT", "/v1/offers/a-offer?requestId=" + stack.unique("po"),
             {"displayName": "Mallory", "kind": "OFFER_KIND_CONTENT"}, {}),
            ("POST", "/v1/offers/a-offer:retire", {"requestId": stack.unique("ro")}, {}),
            ("POST", "/v1/customers/%s:nextBestOffers" % cid, {}, {}),
            ("POST", "/v1/customers/%s:quotePrice" % cid, {"sku": self.sku}, {}),
            ("GET", "/v1/templates/a-template", None, {}),
            ("PUT", "/v1/templates/a-template?requestId=" + stack.unique("pt"),
             {"displayName": "Mallory", "channel": "TEMPLATE_CHANNEL_SMS",
              "locales": [{"locale": "en", "parts": {"text": "M"}}]}, {}),
            ("DELETE", "/v1/templates/a-template?requestId=" + stack.unique("dt"), None, {}),
            ("POST", "/v1/templates/a-template:preview", {}, {}),
            ("POST", "/v1/templates/a-template:render", {"customerId": cid}, {}),
            ("GET", "/v1/messages/%s" % self.message, None, {}),
            ("POST", "/v1/messages/%s:replay" % self.message, {"requestId": stack.unique("r")}, {}),
            ("POST", "/v1/messages:send", {"customerId": cid, "channel": "CHANNEL_EMAIL",
                                           "templateId": "a-mail",
                                           "requestId": stack.unique("s")}, {}),
            ("GET", "/v1/webhookEndpoints/%s" % self.endpoint, None, {}),
            ("GET", "/v1/campaigns/%s" % self.campaign, None, {}),
            ("GET", "/v1/campaigns/%s/results" % self.campaign, None, {}),
            ("PATCH", "/v1/campaigns/%s?requestId=%s" % (self.campaign, stack.unique("u")),
             {"name": "M", "channel": "CHANNEL_EMAIL", "audience": {"customerIds": [cid]},
              "variants": [{"variantId": "m", "templateId": "a-mail"}]}, {}),
            ("POST", "/v1/campaigns/%s:schedule" % self.campaign,
             {"requestId": stack.unique("s")}, {}),
            ("POST", "/v1/campaigns/%s:pause" % self.campaign, {"requestId": stack.unique("p")},
             {}),
            ("POST", "/v1/campaigns/%s:resume" % self.campaign, {"requestId": stack.unique("r")},
             {}),
            ("POST", "/v1/campaigns/%s:cancel" % self.campaign, {"requestId": stack.unique("c")},
             {}),
            ("DELETE", "/v1/webhookEndpoints/%s?requestId=%s" % (self.endpoint,
                                                                  stack.unique("de")), None, {}),
            ("GET", "/v1/tickets/%s" % self.ticket, None, {}),
            ("PATCH", "/v1/tickets/%s?requestId=%s" % (self.ticket, stack.unique("ut")),
             {"priority": "TICKET_PRIORITY_LOW"}, {}),
            ("POST", "/v1/tickets/%s/messages" % self.ticket,
             {"kind": "MESSAGE_KIND_INTERNAL_NOTE", "body": "B", "requestId": stack.unique("m")},
             {}),
            ("GET", "/v1/tickets/%s/messages" % self.ticket, None, {}),
            ("GET", "/v1/tickets/%s/changes" % self.ticket, None, {}),
            ("GET", "/v1/tickets/%s/sla" % self.ticket, None, {}),
            ("GET", "/v1/mailboxes/%s" % self.mailbox, None, {}),
            ("PATCH", "/v1/mailboxes/%s?requestId=%s" % (self.mailbox, stack.unique("um")),
             {"sameSubjectWindowSeconds": "60"}, {}),
        ]
        for method, path, body, headers in routes:
            r = rest(method, path, self.b, body, headers=headers)
            self.assert_not_found(r, "%s %s" % (method, path))
        # B's mail to A's mailbox is not taken.
        r = rest("POST", "/v1/mailboxes/%s/mail" % self.mailbox, self.b,
                 raw=b"From: b@example.com\r\nSubject: B\r\nMessage-ID: <b1@example.com>\r\n"
                     b"\r\nB was here\r\n", headers={"Content-Type": "message/rfc822"})
        self.assert_not_found(r, "POST mail to A's mailbox")

    def test_a_test_b_gets_not_found_on_every_id_rpc_grpc(self):
        store = cs_grpc.CustomerStoreServiceStub(channel)
        admin = ad_grpc.AdminServiceStub(channel)
        md = stack.auth(self.b)
        cid = self.cid
        calls = [
            (store.GetCustomer, cs.GetCustomerRequest(customer_id=cid)),
            (store.UpdateCustomer, cs.UpdateCustomerRequest(
                customer_id=cid, customer=cs.Customer(given_name="Mallory"),
                update_mask={"paths": ["given_name"]})),
            (store.UpdateCustomer, cs.UpdateCustomerRequest(
                customer_id=cid, customer=cs.Customer(given_name="Mallory"),
                update_mask={"paths": ["given_name"]}, etag=self.customer["etag"])),
            (store.DeleteCustomer, cs.DeleteCustomerRequest(customer_id=cid)),
            (store.GetCustomerView, cs.GetCustomerViewRequest(customer_id=cid)),
            (store.ExportCustomer, cs.ExportCustomerRequest(customer_id=cid)),
            (store.ListConsents, cs.ListConsentsRequest(customer_id=cid)),
            (store.ListConsents, cs.ListConsentsRequest(customer_id=cid, include_history=True)),
            (store.RecordConsent, cs.RecordConsentRequest(customer_id=cid, consent=cs.Consent(
                channel=cs.CONSENT_CHANNEL_EMAIL, purpose=cs.CONSENT_PURPOSE_MARKETING,
                status=cs.CONSENT_STATUS_OPTED_OUT, source="b"))),
            (store.ListInteractions, cs.ListInteractionsRequest(customer_id=cid)),
            (store.CreateInteraction, cs.CreateInteractionRequest(
                customer_id=cid, interaction=cs.Interaction(kind=cs.INTERACTION_KIND_NOTE,
                                                            summary="B was here"))),
            (admin.RevokeApiKey, ad.RevokeApiKeyRequest(key_id=self.a_key["id"])),
            (seg_grpc.SegmentationServiceStub(channel).GetCustomerScores,
             seg.GetCustomerScoresRequest(customer_id=cid)),
            (store.IdentifyCustomer, cs.IdentifyCustomerRequest(customer_id=cid,
                                                                visitor_id="vis-b")),
            (seg_grpc.SegmentationServiceStub(channel).GetCustomerSegments,
             seg.GetCustomerSegmentsRequest(customer_id=cid)),
            (seg_grpc.SegmentationServiceStub(channel).GetSegment,
             seg.GetSegmentRequest(segment_id="a-only")),
            (seg_grpc.SegmentationServiceStub(channel).UpdateSegment,
             seg.UpdateSegmentRequest(segment_id="a-only", segment=seg.Segment(display_name="M"),
                                      request_id=stack.unique("u"))),
            (seg_grpc.SegmentationServiceStub(channel).DeleteSegment,
             seg.DeleteSegmentRequest(segment_id="a-only", request_id=stack.unique("d"))),
            (seg_grpc.SegmentationServiceStub(channel).ListSegmentMembers,
             seg.ListSegmentMembersRequest(segment_id="a-only")),
            (pers_grpc.PersonalizationServiceStub(channel).GetRecommendations,
             pers.GetRecommendationsRequest(customer_id=cid)),
            (pers_grpc.PersonalizationServiceStub(channel).GetSimilarProducts,
             pers.GetSimilarProductsRequest(sku=self.sku)),
            (pers_grpc.PersonalizationServiceStub(channel).GetInterests,
             pers.GetInterestsRequest(customer_id=cid)),
            (pers_grpc.PersonalizationServiceStub(channel).UpdateInterests,
             pers.UpdateInterestsRequest(customer_id=cid, changes=[pers.TopicChange(
                 topic="Iso", preference=pers.TOPIC_PREFERENCE_INTERESTED)])),
            (pers_grpc.PersonalizationServiceStub(channel).GetSlot,
             pers.GetSlotRequest(slot_id="a-slot")),
            (pers_grpc.PersonalizationServiceStub(channel).DeleteSlot,
             pers.DeleteSlotRequest(slot_id="a-slot", request_id=stack.unique("ds"))),
            (pers_grpc.PersonalizationServiceStub(channel).ResolveSlot,
             pers.ResolveSlotRequest(customer_id=cid, slot_id="a-slot")),
            (pers_grpc.PersonalizationServiceStub(channel).GetOffer,
             pers.GetOfferRequest(offer_id="a-offer")),
            (pers_grpc.PersonalizationServiceStub(channel).NextBestOffers,
             pers.NextBestOffersRequest(customer_id=cid)),
            (pers_grpc.PersonalizationServiceStub(channel).QuotePrice,
             pers.QuotePriceRequest(customer_id=cid, sku=self.sku)),
            (pers_grpc.PersonalizationServiceStub(channel).GetTemplate,
             pers.GetTemplateRequest(template_id="a-template")),
            (pers_grpc.PersonalizationServiceStub(channel).PreviewTemplate,
             pers.PreviewTemplateRequest(template_id="a-template")),
            (pers_grpc.PersonalizationServiceStub(channel).DeleteTemplate,
             pers.DeleteTemplateRequest(template_id="a-template", request_id=stack.unique("dt"))),
            (dlv_grpc.DeliveryServiceStub(channel).GetMessage,
             dlv.GetMessageRequest(message_id=self.message)),
            (dlv_grpc.DeliveryServiceStub(channel).ReplayMessage,
             dlv.ReplayMessageRequest(message_id=self.message, request_id=stack.unique("r"))),
            (dlv_grpc.DeliveryServiceStub(channel).GetCampaign,
             dlv.GetCampaignRequest(campaign_id=self.campaign)),
            (dlv_grpc.DeliveryServiceStub(channel).CancelCampaign,
             dlv.CampaignActionRequest(campaign_id=self.campaign, request_id=stack.unique("c"))),
            (dlv_grpc.DeliveryServiceStub(channel).GetCampaignResults,
             dlv.GetCampaignResultsRequest(campaign_id=self.campaign)),
            (dlv_grpc.DeliveryServiceStub(channel).GetWebhookEndpoint,
             dlv.GetWebhookEndpointRequest(endpoint_id=self.endpoint)),
            (dlv_grpc.DeliveryServiceStub(channel).DeleteWebhookEndpoint,
             dlv.DeleteWebhookEndpointRequest(endpoint_id=self.endpoint,
                                              request_id=stack.unique("de"))),
            (sd_grpc.ServiceDeskServiceStub(channel).GetTicket,
             sd.GetTicketRequest(ticket_id=self.ticket)),
            (sd_grpc.ServiceDeskServiceStub(channel).UpdateTicket,
             sd.UpdateTicketRequest(ticket_id=self.ticket,
                                    ticket=sd.Ticket(priority=sd.TICKET_PRIORITY_LOW),
                                    request_id=stack.unique("ut"))),
            (sd_grpc.ServiceDeskServiceStub(channel).AddTicketMessage,
             sd.AddTicketMessageRequest(ticket_id=self.ticket, kind=sd.MESSAGE_KIND_CUSTOMER,
                                        body="B", request_id=stack.unique("m"))),
            (sd_grpc.ServiceDeskServiceStub(channel).GetTicketSla,
             sd.GetTicketSlaRequest(ticket_id=self.ticket)),
            (sd_grpc.ServiceDeskServiceStub(channel).GetMailbox,
             sd.GetMailboxRequest(mailbox_id=self.mailbox)),
            (sd_grpc.ServiceDeskServiceStub(channel).UpdateMailbox,
             sd.UpdateMailboxRequest(mailbox_id=self.mailbox,
                                     mailbox=sd.Mailbox(same_subject_window_seconds=60),
                                     request_id=stack.unique("um"))),
            (sd_grpc.ServiceDeskServiceStub(channel).ReceiveMail,
             sd.ReceiveMailRequest(mailbox_id=self.mailbox,
                                   raw_mime=b"From: b@example.com\r\nSubject: B\r\n\r\nB\r\n")),
        ]
        for fn, req in calls:
            what = "%s %s" % (type(req).__name__, str(req).replace("\n", " "))
            with self.assertRaises(grpc.RpcError, msg=what) as cm:
                fn(req, metadata=md, timeout=DEADLINE)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND,
                             (what, cm.exception.details()))
            self.assertIn(stack.reason_of(cm.exception),
                          ("CUSTOMER_NOT_FOUND", "API_KEY_NOT_FOUND", "SEGMENT_NOT_FOUND",
                           "PRODUCT_NOT_FOUND", "SLOT_NOT_FOUND", "OFFER_NOT_FOUND",
                           "TEMPLATE_NOT_FOUND", "MESSAGE_NOT_FOUND",
                           "WEBHOOK_ENDPOINT_NOT_FOUND", "CAMPAIGN_NOT_FOUND",
                           "TICKET_NOT_FOUND", "MAILBOX_NOT_FOUND"), what)

    def test_b_learns_nothing_from_a_purchases(self):
        # A's cart and A's visitor mean nothing in B: no product, no history.
        r = rest("POST", "/v1/recommendations:forCart", self.b, {"skus": [self.sku]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("products", []), [])
        r = rest("GET", "/v1/visitors/%s/recommendations" % self.visitor, self.b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("products", []), [])
        r = rest("GET", "/v1/visitors/%s/interests" % self.visitor, self.b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("interests", []), [])
        # A sees its own.
        r = rest("POST", "/v1/recommendations:forCart", self.a, {"skus": [self.sku]})
        self.assertEqual([p["sku"] for p in r.json()["products"]], [self.sku2])

    def test_b_sees_none_of_a_segments(self):
        r = rest("GET", "/v1/segments", self.b)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("a-only", [x["segmentId"] for x in r.json().get("segments", [])])
        r = rest("GET", "/v1/slots", self.b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("slots", []), [])
        r = rest("GET", "/v1/offers", self.b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("offers", []), [])
        r = rest("GET", "/v1/templates", self.b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("templates", []), [])
        r = rest("GET", "/v1/pricePolicy", self.b)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("tiers", r.json())
        # A segment over A's segment is an unknown reference in B.
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("s"), self.b,
                 {"segmentId": "b-over-a", "displayName": "B",
                  "expression": 'in_segment("a-only")'})
        self.assertEqual((r.status, r.reason()), (400, "SEGMENT_INVALID"), r)
        # B's dry run counts none of A's customers.
        r = rest("POST", "/v1/segments:preview", self.b, {"expression": "NOT purchased(30d)"})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(self.cid, r.json().get("sampleCustomerIds", []))
        stub = seg_grpc.SegmentationServiceStub(channel)
        with self.assertRaises(grpc.RpcError) as cm:
            list(stub.ExportSegmentMembers(seg.ExportSegmentMembersRequest(segment_id="a-only"),
                                           metadata=stack.auth(self.b), timeout=DEADLINE))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        # A still has its segment and member.
        r = rest("GET", "/v1/segments/a-only/members", self.a)
        self.assertEqual([m["customerId"] for m in r.json().get("members", [])], [self.cid])

    def test_b_settings_are_b_own(self):
        # B requires an opt-in to profiling; A's settings stay the defaults.
        r = rest("PATCH", "/v1/segmentation/settings?requestId=" + stack.unique("st"), self.b,
                 {"profilingRequiresOptIn": True})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json().get("profilingRequiresOptIn"), r)
        r = rest("GET", "/v1/segmentation/settings", self.a)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json().get("profilingRequiresOptIn", False), r)
        self.assertEqual(r.json().get("etag"), "0", r)

    def test_b_behaviour_retention_is_b_own(self):
        r = rest("PATCH", "/v1/behaviour/settings?requestId=" + stack.unique("bs"), self.b,
                 {"retentionDays": 1})
        self.assertEqual((r.status, r.json().get("retentionDays")), (200, 1), r)
        r = rest("GET", "/v1/behaviour/settings", self.a)
        self.assertEqual(r.json(), {"retentionDays": 0, "etag": "0"}, r)
        r = rest("GET", "/v1/behaviour/settings", self.b)
        self.assertEqual((r.json().get("retentionDays"), r.json().get("etag")), (1, "1"), r)

    def test_b_list_and_search_never_return_a(self):
        seen = []
        token = ""
        for _ in range(20):
            r = rest("GET", "/v1/customers?pageSize=2" + ("&pageToken=" + q(token) if token else ""),
                     self.b)
            self.assertEqual(r.status, 200, r)
            seen += [c["id"] for c in r.json().get("customers", [])]
            token = r.json().get("nextPageToken", "")
            if not token:
                break
        self.assertEqual(set(seen), self.b_ids)
        for query in ("email=" + q(self.email), "phone=" + q(self.phone),
                      "namePrefix=" + q("alice" + self.tag[-6:])):
            r = rest("GET", "/v1/customers:search?" + query, self.b)
            self.assertEqual(r.status, 200, (query, r))
            ids = [c["id"] for c in r.json().get("customers", [])]
            self.assertNotIn(self.cid, ids, query)
            self.assertLessEqual(set(ids), self.b_ids, query)
            # ... while A finds its customer with the same query.
            r = rest("GET", "/v1/customers:search?" + query, self.a)
            self.assertEqual([c["id"] for c in r.json().get("customers", [])], [self.cid], query)
        store = cs_grpc.CustomerStoreServiceStub(channel)
        resp = store.ListCustomers(cs.ListCustomersRequest(page_size=500),
                                   metadata=stack.auth(self.b), timeout=DEADLINE)
        self.assertNotIn(self.cid, [c.id for c in resp.customers])
        resp = store.SearchCustomers(cs.SearchCustomersRequest(email=self.email),
                                     metadata=stack.auth(self.b), timeout=DEADLINE)
        self.assertNotIn(self.cid, [c.id for c in resp.customers])
        # B's key list does not show A's keys.
        r = rest("GET", "/v1/apiKeys?pageSize=100", self.b)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(self.a_key["id"], [k["id"] for k in r.json().get("keys", [])])

    def test_b_can_reuse_a_identities_in_its_own_tenant(self):
        # Identities are unique per tenant: B's use of the same email neither fails with
        # IDENTITY_TAKEN (a hint that A has it) nor resolves to A's customer.
        r = rest("POST", "/v1/customers:upsert", self.b, {"customer": {"emails": [self.email]}})
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(r.json()["customer"]["id"], self.cid)
        self.assertTrue(r.json().get("created", False))
        self.b_ids.add(r.json()["customer"]["id"])

    def test_b_cannot_track_for_a(self):
        # A's customer id and identities name nobody in B's tenant (per-event
        # refusals that give no hint), and A's visitor id is B's own, unlinked.
        r = rest("POST", "/v1/events:track", self.b, {"events": [
            {"type": "page.viewed", "customerId": self.cid},
            {"type": "page.viewed", "email": self.email},
            {"type": "page.viewed", "externalIdSource": "erp", "externalId": self.tag},
            {"type": "page.viewed", "visitorId": self.visitor}]})
        self.assertEqual(r.status, 200, r)
        res = r.json()["results"]
        self.assertEqual(res[0]["reason"], "CUSTOMER_NOT_FOUND")
        self.assertEqual(res[2]["reason"], "CUSTOMER_NOT_RESOLVED")
        for x in (res[0], res[2]):
            self.assertNotIn("tenant", x["message"].lower())
        # The email: refused, or B's own customer with that email (B may have
        # one, test_b_can_reuse_a_identities_in_its_own_tenant), never A's.
        self.assertNotEqual(res[1].get("customerId"), self.cid)
        self.assertNotIn("customerId", res[3])
        store = cs_grpc.CustomerStoreServiceStub(channel)
        resp = store.TrackEvents(cs.TrackEventsRequest(events=[
            cs.BehaviourEvent(type="page.viewed", customer_id=self.cid),
            cs.BehaviourEvent(type="page.viewed", visitor_id=self.visitor)]),
            metadata=stack.auth(self.b), timeout=DEADLINE)
        self.assertEqual(resp.results[0].reason, "CUSTOMER_NOT_FOUND")
        self.assertEqual(resp.results[1].customer_id, "")

    def test_z_a_data_unchanged(self):
        r = rest("GET", "/v1/customers/" + self.cid, self.a)
        self.assertEqual(r.status, 200, r)
        c = r.json()
        self.assertEqual(c["givenName"], self.customer["givenName"])
        self.assertEqual(c["etag"], self.customer["etag"])
        self.assertEqual(c["emails"], [self.email])
        r = rest("GET", "/v1/customers/%s/consents?includeHistory=true" % self.cid, self.a)
        self.assertEqual([(x["status"], x["source"]) for x in r.json().get("consents", [])],
                         [("CONSENT_STATUS_OPTED_IN", "a")])
        r = rest("GET", "/v1/customers/%s/interactions" % self.cid, self.a)
        entries = r.json().get("interactions", [])
        self.assertEqual([x["summary"] for x in entries if x.get("source") != "behaviour"],
                         ['Sent transactional email "a-mail"', "A's note"])
        # A's visit (its customer's event and its linked visitor's), nobody else's.
        visits = [x for x in entries if x.get("source") == "behaviour"]
        self.assertEqual([v["payload"]["event_count"] for v in visits], [2], entries)
        r = rest("GET", "/v1/customers/%s/scores" % self.cid, self.a)
        self.assertEqual((r.status, r.json()["customerId"]), (200, self.cid), r)
        r = rest("GET", "/v1/customers/%s/view" % self.cid, self.a)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["customer"]["givenName"], self.customer["givenName"])
        self.assertEqual(int(r.json().get("interactionCount", "0")), 2)  # the note, the email
        # A's behaviour is A's only: its two events, one visit, its visitor.
        self.assertEqual(len(r.json().get("recentSessions", [])), 1)
        self.assertEqual(r.json()["recentSessions"][0]["eventCount"], "2")
        r = rest("GET", "/v1/customers/%s:export" % self.cid, self.a)
        self.assertEqual(len(r.json().get("behaviourEvents", [])), 2)
        self.assertIn(self.visitor, [i["value"] for i in r.json()["identities"]])
        # A's key still works and is not revoked.
        r = rest("GET", "/v1/customers?pageSize=1", self.a_key_secret)
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/v1/apiKeys?pageSize=100", self.a)
        k = [k for k in r.json().get("keys", []) if k["id"] == self.a_key["id"]]
        self.assertEqual(len(k), 1)
        self.assertNotIn("revokeTime", k[0])
        # A's message and endpoint are A's, untouched; B's lists hold none of them.
        r = rest("GET", "/v1/messages/" + self.message, self.a)
        self.assertEqual((r.status, r.json()["customerId"]), (200, self.cid), r)
        self.assertEqual(rest("GET", "/v1/webhookEndpoints/" + self.endpoint, self.a).status, 200)
        self.assertEqual(rest("GET", "/v1/webhookEndpoints", self.b).json(), {})
        self.assertEqual(rest("GET", "/v1/campaigns", self.b).json(), {})
        r = rest("GET", "/v1/campaigns/" + self.campaign, self.a)
        self.assertEqual((r.status, r.json()["state"], r.json()["name"]),
                         (200, "CAMPAIGN_STATE_DRAFT", "A's campaign"), r)
        self.assertEqual(rest("GET", "/v1/customers/%s/messages" % self.cid, self.b).json(), {})
        for state in ("MESSAGE_STATE_QUEUED", "MESSAGE_STATE_SENT"):
            r = rest("GET", "/v1/messages?state=" + state, self.b)
            self.assertEqual((r.status, r.json()), (200, {}), r)
        # A's ticket is as A wrote it (priority, one message, no change); B lists none.
        r = rest("GET", "/v1/tickets/" + self.ticket, self.a)
        self.assertEqual((r.status, r.json()["priority"], r.json()["messageCount"], r.json()["etag"]),
                         (200, "TICKET_PRIORITY_NORMAL", 1, "1"), r)
        self.assertEqual(rest("GET", "/v1/tickets", self.b).json(), {})
        # A's mailbox is unchanged and took no mail; B lists no mailbox.
        r = rest("GET", "/v1/mailboxes/" + self.mailbox, self.a)
        self.assertEqual((r.status, r.json()["etag"], r.json()["address"]),
                         (200, "1", self.mailbox_address), r)
        self.assertEqual(rest("GET", "/v1/mailboxes", self.b).json(), {})
        r = rest("GET", "/v1/tickets", self.a)
        self.assertEqual([t["id"] for t in r.json()["tickets"]], [self.ticket], r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
