"""SMS and push end to end: the tenant configures its providers through the
gateway's REST API, messages are rendered by personalization and sent by
the delivery engine over HTTP to a local server that speaks the providers'
APIs (provider_server.py) — with consent per channel, the providers' errors
and rate limits, campaigns on the channels, secrets never answered and
tenant isolation."""
import base64
import json
import os
import unittest

import stack
from stack import rest
from provider_server import ProviderServer


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


SMS_TEMPLATE = {"templateId": "sms-code", "displayName": "Pickup code",
                "channel": "TEMPLATE_CHANNEL_SMS", "defaultLocale": "en",
                "locales": [{"locale": "en", "parts": {
                    "text": "Hi {{customer.given_name}}, your order is ready & waiting."}}]}
PUSH_TEMPLATE = {"templateId": "push-sale", "displayName": "Sale",
                 "channel": "TEMPLATE_CHANNEL_PUSH", "defaultLocale": "en",
                 "locales": [{"locale": "en", "parts": {
                     "title": "For you, {{customer.given_name}}",
                     "body": "20% off today"}}]}


class Channels(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.provider = ProviderServer()
        for t in (SMS_TEMPLATE, PUSH_TEMPLATE):
            r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), cls.key, t)
            assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.provider.close()

    def put_provider(self, channel, body, key=None):
        return rest("PUT", "/v1/channelProviders/%s?requestId=%s" % (channel, stack.unique("p")),
                    key or self.key, body)

    def twilio(self, **fields):
        body = {"kind": "PROVIDER_KIND_TWILIO", "baseUrl": self.provider.url(),
                "accountId": self.provider.sid, "sender": "+41445550000",
                "secret": self.provider.token}
        body.update(fields)
        return body

    def onesignal(self, **fields):
        body = {"kind": "PROVIDER_KIND_ONESIGNAL", "baseUrl": self.provider.url(),
                "accountId": self.provider.app_id, "secret": self.provider.key}
        body.update(fields)
        return body

    def configure(self):
        r = self.put_provider("sms", self.twilio())
        self.assertEqual(r.status, 200, r)
        r = self.put_provider("push", self.onesignal())
        self.assertEqual(r.status, 200, r)

    def send(self, customer, channel, template, key=None, **fields):
        body = {"customerId": customer, "channel": channel, "templateId": template,
                "requestId": stack.unique("m")}
        body.update(fields)
        return rest("POST", "/v1/messages:send", key or self.key, body)

    def wait_state(self, message_id, states):
        def done():
            r = rest("GET", "/v1/messages/" + message_id, self.key)
            self.assertEqual(r.status, 200, r)
            return r.json() if r.json()["state"] in states else None
        return stack.wait_for("message %s in %s" % (message_id, states), done)

    def consent(self, customer, channel, purpose, status):
        r = rest("POST", "/v1/customers/%s/consents" % customer, self.key,
                 {"channel": channel, "purpose": purpose, "status": status, "source": "e2e"})
        self.assertEqual(r.status, 200, r)

    def receipt(self, message_id):
        return rest("GET", "/v1/messages/" + message_id, self.key).json().get("receipt")

    def sms_to(self, number):
        return [s for s in self.provider.sms if s["To"] == number]

    def test_providers_are_configured_checked_and_their_secrets_never_answered(self):
        _, key = stack.create_tenant()
        cid = stack.new_customer(key, givenName="Early", phones=["+41791110000"])
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), key, SMS_TEMPLATE)
        self.assertEqual(r.status, 200, r)
        # No provider yet: refused before anything is queued.
        self.assertError(self.send(cid, "CHANNEL_SMS", "sms-code", key=key), 400,
                         "CHANNEL_PROVIDER_NOT_CONFIGURED", "channel")
        self.assertError(rest("GET", "/v1/channelProviders/sms", key), 404,
                         "CHANNEL_PROVIDER_NOT_FOUND")
        # Settings that cannot work, each naming its field.
        for channel, body, status, reason, field in (
                ("sms", self.onesignal(), 400, "INVALID_FIELD", "kind"),
                ("sms", self.twilio(sender="CRM"), 400, "INVALID_FIELD", "sender"),
                ("sms", self.twilio(secret=""), 400, "INVALID_FIELD", "secret"),
                ("sms", self.twilio(accountId="../x"), 400, "INVALID_FIELD", "account_id"),
                ("sms", self.twilio(baseUrl="http://10.0.0.7"), 400, "WEBHOOK_URL_FORBIDDEN",
                 "base_url"),
                ("sms", self.twilio(baseUrl="http://169.254.169.254"), 400,
                 "WEBHOOK_URL_FORBIDDEN", "base_url"),
                ("fax", self.twilio(), 400, "INVALID_FIELD", "channel"),
                ("push", dict(self.onesignal(), kind="PROVIDER_KIND_UNSPECIFIED"), 400,
                 "INVALID_FIELD", "kind")):
            self.assertError(self.put_provider(channel, body, key=key), status, reason, field)
        r = self.put_provider("sms", self.twilio(), key=key)
        self.assertEqual(r.status, 200, r)
        p = r.json()
        self.assertNotIn("secret", p)
        self.assertTrue(p["secretSet"])
        self.assertEqual(p["channel"], "CHANNEL_SMS")
        self.assertEqual(p["version"], "1")
        got = rest("GET", "/v1/channelProviders/sms", key).json()
        self.assertNotIn("secret", got)
        self.assertEqual(got["accountId"], self.provider.sid)
        # An update without a secret keeps the stored one; a stale etag is refused.
        r = self.put_provider("sms", dict(self.twilio(secret="", sender="+41445550001"),
                                          etag=p["etag"]), key=key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["sender"], "+41445550001")
        self.assertError(self.put_provider("sms", dict(self.twilio(), etag=p["etag"]), key=key),
                         412, "ETAG_MISMATCH")
        listed = rest("GET", "/v1/channelProviders", key).json()["channelProviders"]
        self.assertEqual([x["channel"] for x in listed], ["CHANNEL_SMS"])
        r = self.send(cid, "CHANNEL_SMS", "sms-code", key=key)
        self.assertEqual(r.status, 200, r)
        mid = r.json()["messageId"]
        stack.wait_for("the sms", lambda: self.sms_to("+41791110000"))
        self.assertEqual(self.sms_to("+41791110000")[0]["From"], "+41445550001")
        # The secret is in no answer, no log and not in the clear in the database.
        for path in ("/v1/channelProviders/sms", "/v1/channelProviders", "/v1/messages/" + mid):
            self.assertNotIn(self.provider.token, rest("GET", path, key).body.decode())
        for name in os.listdir(stack.LOG_DIR):
            with open(os.path.join(stack.LOG_DIR, name), "rb") as f:
                data = f.read()
            self.assertNotIn(self.provider.token.encode(), data, name)
            self.assertNotIn(base64.b64encode(
                ("%s:%s" % (self.provider.sid, self.provider.token)).encode()), data, name)
        rows = stack.query_db("SELECT count(*) FROM delivery.channel_providers WHERE "
                              "position(convert_to('%s', 'UTF8') in secret_sealed) > 0"
                              % self.provider.token)
        self.assertEqual(rows, [["0"]])
        # Deleted: new messages are refused again; another tenant never sees it.
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/channelProviders/sms", other), 404,
                         "CHANNEL_PROVIDER_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/channelProviders", other).json(), {})
        self.assertError(rest("DELETE", "/v1/channelProviders/sms?requestId=x1", other), 404,
                         "CHANNEL_PROVIDER_NOT_FOUND")
        r = rest("DELETE", "/v1/channelProviders/sms?requestId=" + stack.unique("d"), key)
        self.assertEqual(r.status, 200, r)
        self.assertError(self.send(cid, "CHANNEL_SMS", "sms-code", key=key), 400,
                         "CHANNEL_PROVIDER_NOT_CONFIGURED")

    def test_sms_goes_to_the_first_valid_number_with_consent_and_provider_errors(self):
        self.configure()
        cid = stack.new_customer(self.key, givenName="Ada", phones=["+41791234567"])
        r = self.send(cid, "CHANNEL_SMS", "sms-code")
        self.assertEqual(r.status, 200, r)
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(m["channel"], "CHANNEL_SMS")
        self.assertEqual(m["recipient"], "+41791234567")
        self.assertTrue(m["providerId"].startswith("SM"))
        sent = self.sms_to("+41791234567")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["Body"], "Hi Ada, your order is ready & waiting.")
        self.assertEqual(sent[0]["From"], "+41445550000")
        self.assertEqual(sent[0]["sid"], m["providerId"])
        # The customer's timeline shows the SMS (ids only, not the number).
        def sms_entries():
            es = rest("GET", "/v1/customers/%s/interactions?kind=INTERACTION_KIND_SMS" % cid,
                      self.key).json().get("interactions", [])
            return es or None
        entries = stack.wait_for("the SMS on the timeline", sms_entries, timeout=30)
        self.assertEqual([(e["summary"], e["channel"], e["source"]) for e in entries],
                         [('Sent transactional SMS "sms-code"', "sms", "delivery")])
        self.assertNotIn("+41791234567", json.dumps(entries))
        # The delivery receipt: Twilio's signed status callback to the URL
        # sent with the message, through the gateway without an API key.
        callback = sent[0]["StatusCallback"]
        self.assertTrue(callback.startswith("http://%s:%d/t/s/" % (stack.HOST, stack.HTTP_PORT)))
        done = stack.wait_for("the receipt", lambda: self.receipt(m["messageId"]))
        self.assertEqual(done["status"], "RECEIPT_STATUS_DELIVERED")
        self.assertIn("time", done)
        self.assertEqual([c[2] for c in self.provider.callbacks if c[0] == callback], [204, 204])
        rows = stack.query_db("SELECT count(*) FROM delivery.outbox WHERE event_type = "
                              "'message.delivered' AND payload->>'messageId' = '%s'"
                              % m["messageId"])
        self.assertEqual(rows, [["1"]])
        # Forged, altered or repeated reports change nothing.
        form = {"MessageSid": m["providerId"], "MessageStatus": "undelivered",
                "ErrorCode": "30005"}
        self.assertEqual(self.provider.post_status(callback, form, signature="AAAA"), 404)
        self.assertEqual(self.provider.post_status(callback[:-3] + "xyz", form), 404)
        self.assertEqual(self.provider.post_status(callback, form), 204)  # signed, but late
        self.assertEqual(self.receipt(m["messageId"])["status"], "RECEIPT_STATUS_DELIVERED")
        self.assertEqual(rest("GET", callback[len("http://%s:%d" % (stack.HOST, stack.HTTP_PORT)):]
                              ).status, 405)
        # An unreachable handset: the receipt says bounced, with the code.
        self.provider.unreachable.add("+41790000099")
        gone = stack.new_customer(self.key, givenName="Gone", phones=["+41790000099"])
        r = self.send(gone, "CHANNEL_SMS", "sms-code")
        stack.wait_for("the bounce", lambda: self.receipt(r.json()["messageId"]))
        bounce = self.receipt(r.json()["messageId"])
        self.assertEqual(bounce["status"], "RECEIPT_STATUS_BOUNCED")
        self.assertEqual(bounce["detail"], "30003: Unreachable destination handset")
        # Marketing needs an SMS opt-in (an email opt-in is not one).
        self.consent(cid, "CONSENT_CHANNEL_EMAIL", "CONSENT_PURPOSE_MARKETING",
                     "CONSENT_STATUS_OPTED_IN")
        r = self.send(cid, "CHANNEL_SMS", "sms-code", purpose="PURPOSE_MARKETING")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_CONSENT")
        self.consent(cid, "CONSENT_CHANNEL_SMS", "CONSENT_PURPOSE_MARKETING",
                     "CONSENT_STATUS_OPTED_IN")
        r = self.send(cid, "CHANNEL_SMS", "sms-code", purpose="PURPOSE_MARKETING")
        self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(len(self.sms_to("+41791234567")), 2)
        # Rate limited twice (429 + Retry-After): retried, then sent once.
        self.provider.throttle = 2
        r = self.send(cid, "CHANNEL_SMS", "sms-code")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(m["attempts"], 3)
        self.assertEqual(len(self.sms_to("+41791234567")), 3)
        # A number that replied STOP: suppressed for consent, not retried.
        stop = stack.new_customer(self.key, givenName="Stop", phones=["+41797654321"])
        self.provider.stopped.add("+41797654321")
        r = self.send(stop, "CHANNEL_SMS", "sms-code")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_CONSENT")
        self.assertIn("21610", m["lastError"])
        self.assertEqual(m["attempts"], 1)
        # The STOP is now the customer's opt-out of SMS (both purposes): the
        # next message stops at the consent check, the provider not asked.
        consents = rest("GET", "/v1/customers/%s/consents" % stop, self.key).json()["consents"]
        stops = {(c["purpose"], c["status"]) for c in consents
                 if c["channel"] == "CONSENT_CHANNEL_SMS" and c["source"] == "sms-stop"}
        self.assertEqual(stops, {("CONSENT_PURPOSE_MARKETING", "CONSENT_STATUS_OPTED_OUT"),
                                 ("CONSENT_PURPOSE_TRANSACTIONAL", "CONSENT_STATUS_OPTED_OUT")})
        before = len(self.provider.requests)
        r = self.send(stop, "CHANNEL_SMS", "sms-code")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_CONSENT")
        self.assertEqual(len(self.provider.requests), before)
        # No phone number: suppressed as invalid, the provider never asked.
        before = len(self.provider.requests)
        nophone = stack.new_customer(self.key, givenName="Nophone", emails=["np@example.com"])
        r = self.send(nophone, "CHANNEL_SMS", "sms-code")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_INVALID_ADDRESS")
        self.assertEqual(len(self.provider.requests), before)
        # Wrong credentials: retried (the operator's to fix), then a dead
        # letter that replays once they are right.
        r = self.put_provider("sms", self.twilio(secret="wrong-token"))
        self.assertEqual(r.status, 200, r)
        r = self.send(cid, "CHANNEL_SMS", "sms-code")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_FAILED"})
        self.assertIn("HTTP 401", m["lastError"])
        self.configure()
        r = rest("POST", "/v1/messages/%s:replay" % m["messageId"], self.key,
                 {"requestId": stack.unique("rp")})
        self.assertEqual(r.status, 200, r)
        self.wait_state(m["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(len(self.sms_to("+41791234567")), 4)

    def test_push_goes_to_the_customer_s_devices_at_the_provider(self):
        self.configure()
        cid = stack.new_customer(self.key, givenName="Grace")
        self.provider.subscribed.add(cid)
        self.consent(cid, "CONSENT_CHANNEL_PUSH", "CONSENT_PURPOSE_MARKETING",
                     "CONSENT_STATUS_OPTED_IN")
        self.provider.throttle = 1
        r = self.send(cid, "CHANNEL_PUSH", "push-sale", purpose="PURPOSE_MARKETING")
        self.assertEqual(r.status, 200, r)
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(m["recipient"], cid)
        self.assertEqual(m["attempts"], 2)
        pushes = [p for p in self.provider.pushes if p["idempotency_key"] == m["messageId"]]
        self.assertEqual(len(pushes), 1)
        self.assertEqual(pushes[0]["id"], m["providerId"])
        self.assertEqual(pushes[0]["include_aliases"], {"external_id": [cid]})
        self.assertEqual(pushes[0]["headings"], {"en": "For you, Grace"})
        self.assertEqual(pushes[0]["contents"], {"en": "20% off today"})
        # No device at the provider: suppressed as an invalid address.
        nodevice = stack.new_customer(self.key, givenName="Nodevice")
        r = self.send(nodevice, "CHANNEL_PUSH", "push-sale")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_INVALID_ADDRESS")
        # Opted out of transactional push: suppressed for consent.
        self.consent(cid, "CONSENT_CHANNEL_PUSH", "CONSENT_PURPOSE_TRANSACTIONAL",
                     "CONSENT_STATUS_OPTED_OUT")
        r = self.send(cid, "CHANNEL_PUSH", "push-sale")
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_CONSENT")
        # A template of another channel is refused.
        self.assertError(self.send(cid, "CHANNEL_PUSH", "sms-code"), 400,
                         "TEMPLATE_CHANNEL_MISMATCH")

    def test_an_sms_campaign_reaches_every_customer_once(self):
        self.configure()
        numbers = ["+4179%07d" % (3000000 + i) for i in range(12)]
        customers = []
        for i, n in enumerate(numbers):
            cid = stack.new_customer(self.key, givenName="C%d" % i, phones=[n])
            self.consent(cid, "CONSENT_CHANNEL_SMS", "CONSENT_PURPOSE_MARKETING",
                         "CONSENT_STATUS_OPTED_IN")
            customers.append(cid)
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), self.key,
                 {"name": "SMS sale", "channel": "CHANNEL_SMS",
                  "audience": {"customerIds": customers},
                  "variants": [{"variantId": "a", "templateId": "sms-code"}]})
        self.assertEqual(r.status, 200, r)
        camp = r.json()["campaignId"]
        r = rest("POST", "/v1/campaigns/%s:schedule" % camp, self.key,
                 {"requestId": stack.unique("s")})
        self.assertEqual(r.status, 200, r)

        def finished():
            res = rest("GET", "/v1/campaigns/%s/results" % camp, self.key).json()
            return res if res.get("state") == "CAMPAIGN_STATE_COMPLETED" else None
        res = stack.wait_for("the campaign", finished, timeout=60)
        self.assertEqual(res["variants"][0]["sent"], "12")

        def receipts():
            res = rest("GET", "/v1/campaigns/%s/results" % camp, self.key).json()
            return res if res["variants"][0].get("delivered") == "12" else None
        stack.wait_for("12 delivery receipts", receipts)
        for n in numbers:
            self.assertEqual(len(self.sms_to(n)), 1, n)
        # A push campaign needs the push template's channel.
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), self.key,
                 {"name": "wrong", "channel": "CHANNEL_PUSH",
                  "audience": {"customerIds": customers[:1]},
                  "variants": [{"variantId": "a", "templateId": "sms-code"}]})
        self.assertError(r, 400, "TEMPLATE_CHANNEL_MISMATCH")


if __name__ == "__main__":
    unittest.main()
