"""The delivery engine end to end: messages rendered by personalization, sent
to a real SMTP server (deploy/scripts/mail_sink.py on loopback) and to a real
HTTP receiver in this process, through the gateway's REST API; consent read
at the moment of sending; retries, dead letters and replay; the SSRF guard;
tenant isolation."""
import hashlib
import hmac
import json
import os
import time
import unittest
import uuid
from urllib.parse import quote as q

import stack
from stack import rest
from webhook_receiver import Receiver


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


EMAIL_TEMPLATE = {"templateId": "order-shipped", "displayName": "Order shipped",
                  "channel": "TEMPLATE_CHANNEL_EMAIL", "defaultLocale": "en",
                  "locales": [{"locale": "en", "parts": {
                      "subject": "Your order is on its way, {{customer.given_name}}",
                      "text": "Hi {{customer.given_name}},\nit ships today.\n",
                      "html": "<p>Hi {{customer.given_name}}, it ships today.</p>"}}]}
HOOK_TEMPLATE = {"templateId": "crm-event", "displayName": "To the shop system",
                 "channel": "TEMPLATE_CHANNEL_WEBHOOK", "defaultLocale": "en",
                 "locales": [{"locale": "en", "parts": {
                     "json": '{"name": "{{customer.given_name}}", "kind": "shipped"}'}}]}


class Delivery(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        for t in (EMAIL_TEMPLATE, HOOK_TEMPLATE):
            r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), cls.key, t)
            assert r.status == 200, r
        r = rest("PUT", "/v1/senderSettings?requestId=" + stack.unique("s"), cls.key,
                 {"fromAddress": "shop@shop.example", "fromName": "Zoë's Shop",
                  "replyToAddress": "care@shop.example"})
        assert r.status == 200, r

    def send(self, customer, key=None, **fields):
        body = {"customerId": customer, "channel": "CHANNEL_EMAIL",
                "templateId": "order-shipped", "requestId": stack.unique("m")}
        body.update(fields)
        return rest("POST", "/v1/messages:send", key or self.key, body)

    def wait_state(self, message_id, states, key=None):
        def done():
            r = rest("GET", "/v1/messages/" + message_id, key or self.key)
            self.assertEqual(r.status, 200, r)
            return r.json() if r.json()["state"] in states else None
        return stack.wait_for("message %s in %s" % (message_id, states), done)

    def mails_to(self, address):
        return [m for m in stack.mails() if m["X-Sink-Rcpt-To"] == address]

    def consent(self, customer, purpose, status):
        r = rest("POST", "/v1/customers/%s/consents" % customer, self.key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": purpose, "status": status,
                  "source": "e2e"})
        self.assertEqual(r.status, 200, r)

    def test_a_transactional_email_is_sent_once_over_smtp(self):
        address = "%s@example.com" % stack.unique("ada")
        cid = stack.new_customer(self.key, givenName="Ada", emails=[address])
        rid = stack.unique("ship")
        r = self.send(cid, requestId=rid)
        self.assertEqual(r.status, 200, r)
        m = r.json()
        self.assertEqual(m["state"], "MESSAGE_STATE_QUEUED")
        self.assertEqual(m["purpose"], "PURPOSE_TRANSACTIONAL")
        sent = self.wait_state(m["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(sent["attempts"], 1)
        self.assertEqual(sent["recipient"], address)
        self.assertIn("sendTime", sent)
        mails = stack.wait_for("the mail", lambda: self.mails_to(address))
        self.assertEqual(len(mails), 1)
        mail = mails[0]
        self.assertEqual(mail["X-Sink-Mail-From"], "shop@shop.example")
        self.assertEqual(mail["Message-ID"], sent["providerId"])
        self.assertEqual(mail["X-CRM-Message-Id"], m["messageId"])
        self.assertIn("care@shop.example", mail["Reply-To"])
        self.assertTrue(mail.is_multipart())
        import email.header
        subject = str(email.header.make_header(email.header.decode_header(mail["Subject"])))
        self.assertEqual(subject, "Your order is on its way, Ada")
        name = str(email.header.make_header(email.header.decode_header(mail["From"])))
        self.assertIn("Zoë's Shop", name)
        parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in mail.walk()
                 if not p.is_multipart()}
        self.assertIn("it ships today.", parts["text/plain"])
        self.assertIn("<p>Hi Ada, it ships today.</p>", parts["text/html"])
        # The same request again: the same message, no second mail.
        again = self.send(cid, requestId=rid)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json()["messageId"], m["messageId"])
        self.assertEqual(again.json()["state"], "MESSAGE_STATE_SENT")
        # The customer's messages; the event for the other engines.
        r = rest("GET", "/v1/customers/%s/messages" % cid, self.key)
        self.assertEqual([x["messageId"] for x in r.json()["messages"]], [m["messageId"]])
        rows = stack.query_db("SELECT count(*) FROM delivery.outbox WHERE event_type = "
                              "'message.sent' AND payload->>'messageId' = '%s'" % m["messageId"])
        self.assertEqual(rows, [["1"]])
        import time
        time.sleep(1.0)
        self.assertEqual(len(self.mails_to(address)), 1)

    def test_consent_is_read_when_the_message_is_sent(self):
        address = "%s@example.com" % stack.unique("mk")
        cid = stack.new_customer(self.key, givenName="Grace", emails=[address])
        # Marketing without an opt-in: suppressed, nothing sent.
        r = self.send(cid, purpose="PURPOSE_MARKETING")
        self.assertEqual(r.status, 200, r)
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_CONSENT")
        self.consent(cid, "CONSENT_PURPOSE_MARKETING", "CONSENT_STATUS_OPTED_IN")
        r = self.send(cid, purpose="PURPOSE_MARKETING")
        self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SENT"})
        self.consent(cid, "CONSENT_PURPOSE_MARKETING", "CONSENT_STATUS_OPTED_OUT")
        r = self.send(cid, purpose="PURPOSE_MARKETING")
        self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(len(self.mails_to(address)), 1)
        # No address: suppressed as invalid.
        nomail = stack.new_customer(self.key, givenName="Nomail", emails=[])
        r = self.send(nomail)
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_INVALID_ADDRESS")

    def test_tracking_links_count_opens_and_clicks_and_unsubscribe(self):
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), self.key, {
            "templateId": "sale", "displayName": "Sale", "channel": "TEMPLATE_CHANNEL_EMAIL",
            "defaultLocale": "en", "locales": [{"locale": "en", "parts": {
                "subject": "Our sale", "text": "Sale! {{message.unsubscribe_url}}\n",
                "html": '<p><a href="https://shop.example/sale?x=1&amp;y=2">Sale</a> '
                        '<a href="mailto:care@shop.example">Mail us</a></p>'
                        '<p><a href="{{message.unsubscribe_url}}">Unsubscribe</a></p>'}}]})
        self.assertEqual(r.status, 200, r)
        address = "%s@example.com" % stack.unique("trk")
        cid = stack.new_customer(self.key, givenName="Tim", emails=[address])
        self.consent(cid, "CONSENT_PURPOSE_MARKETING", "CONSENT_STATUS_OPTED_IN")
        r = self.send(cid, purpose="PURPOSE_MARKETING", templateId="sale")
        self.assertEqual(r.status, 200, r)
        mid = r.json()["messageId"]
        sent = self.wait_state(mid, {"MESSAGE_STATE_SENT"})
        self.assertEqual(sent["engagement"]["trackedLinks"], 1)
        mail = stack.wait_for("the mail", lambda: self.mails_to(address))[0]
        html = [p.get_payload(decode=True).decode() for p in mail.walk()
                if p.get_content_type() == "text/html"][0]
        import html as htmllib
        import re
        from urllib.parse import urlsplit
        base = "http://%s:%d/t/" % (stack.HOST, stack.HTTP_PORT)
        links = [htmllib.unescape(u) for u in re.findall(r'(?:href|src)="([^"]+)"', html)]
        click = [u for u in links if u.startswith(base + "c/")]
        pixel = [u for u in links if u.startswith(base + "o/")]
        unsub = [u for u in links if u.startswith(base + "u/")]
        self.assertEqual(len(click), 1, html)
        self.assertEqual(len(pixel), 1, html)
        self.assertEqual(len(unsub), 1, html)
        self.assertIn("mailto:care@shop.example", links)
        self.assertNotIn("https://shop.example/sale", html)
        # RFC 8058: the header's link is the body's, with the one-click POST.
        self.assertEqual(mail["List-Unsubscribe"], "<%s>" % unsub[0])
        self.assertEqual(mail["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click")

        def path(u):
            return urlsplit(u).path

        # No API key anywhere below: recipients have none.
        r = rest("GET", path(pixel[0]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "image/gif")
        self.assertTrue(r.body.startswith(b"GIF89a"))
        self.assertIn("no-store", r.headers["cache-control"])
        r = rest("GET", path(click[0]))
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.headers["location"], "https://shop.example/sale?x=1&y=2")
        rest("GET", path(click[0]))
        # Tampered, cut, moved to another action's path, unknown: 404, nothing counted.
        token = path(click[0])[len("/t/c/"):]
        for bad in ["/t/c/" + token[:-1] + ("A" if token[-1] != "A" else "B"),
                    "/t/c/" + token.replace(".0.", ".1.", 1), "/t/o/" + token,
                    "/t/u/" + token, "/t/c/" + token[:40], "/t/c/", "/t/x/" + token]:
            r = rest("GET", bad)
            self.assertEqual(r.status, 404, (bad, r))
        self.assertEqual(rest("POST", path(click[0]), raw=b"").status, 405)
        # HEAD (a link scanner, a prefetcher): the same answers, nothing counted.
        r = rest("HEAD", path(click[0]))
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.headers["location"], "https://shop.example/sale?x=1&y=2")
        self.assertEqual(rest("HEAD", path(pixel[0])).status, 200)
        m = rest("GET", "/v1/messages/" + mid, self.key).json()
        self.assertEqual(m["engagement"]["openCount"], 1)
        self.assertEqual(m["engagement"]["clickCount"], 2)
        # Segmentation sees the opens and clicks as the customer's behaviour.
        seg = stack.unique("openers")
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("seg"), self.key,
                 {"segmentId": seg, "displayName": "Openers",
                  "expression": "count(email.opened, 30d) >= 1 AND count(email.clicked, 7d) >= 1 "
                                "AND count(email.sent, 1d) >= 1"})
        self.assertEqual(r.status, 200, r)
        stack.wait_for("the customer among the openers", lambda: cid in [
            x["customerId"] for x in rest("GET", "/v1/segments/%s/members" % seg,
                                          self.key).json().get("members", [])], timeout=30)
        self.assertIn("firstOpenTime", m["engagement"])
        self.assertIn("firstClickTime", m["engagement"])

        # The unsubscribe page asks and changes nothing; the one-click POST
        # (as a mail client sends it) opts the customer out.
        r = rest("GET", path(unsub[0]))
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'<form method="post">', r.body)
        self.assertNotIn("unsubscribeTime", rest("GET", "/v1/messages/" + mid,
                                                 self.key).json()["engagement"])
        for _ in range(2):
            r = rest("POST", path(unsub[0]), raw=b"List-Unsubscribe=One-Click",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(r.status, 200, r)
            self.assertIn(b"You are unsubscribed", r.body)
        consents = rest("GET", "/v1/customers/%s/consents" % cid, self.key).json()["consents"]
        marketing = [c for c in consents if c["channel"] == "CONSENT_CHANNEL_EMAIL"
                     and c["purpose"] == "CONSENT_PURPOSE_MARKETING"]
        self.assertEqual(marketing[0]["status"], "CONSENT_STATUS_OPTED_OUT")
        self.assertEqual(marketing[0]["source"], "unsubscribe-link")
        m = rest("GET", "/v1/messages/" + mid, self.key).json()
        self.assertIn("unsubscribeTime", m["engagement"])
        # The customer's timeline (and so the 360 view) shows what happened,
        # ids only.
        def email_entries():
            es = [e for e in rest("GET", "/v1/customers/%s/interactions?kind="
                                  "INTERACTION_KIND_EMAIL" % cid, self.key).json().get(
                                      "interactions", []) if e.get("source") == "delivery"]
            return es if len(es) >= 4 else None
        entries = stack.wait_for("the email on the timeline", email_entries, timeout=30)
        self.assertEqual(sorted(e["summary"] for e in entries), [
            'Clicked a link in marketing email "sale"', 'Opened marketing email "sale"',
            'Sent marketing email "sale"',
            'Unsubscribed from marketing email through marketing email "sale"'])
        self.assertTrue(all(e["payload"]["message_id"] == mid for e in entries))
        self.assertNotIn(address, json.dumps(entries))
        r = self.send(cid, purpose="PURPOSE_MARKETING", templateId="sale")
        m2 = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SUPPRESSED"})
        self.assertEqual(m2["suppressionReason"], "SUPPRESSION_REASON_CONSENT")
        rows = stack.query_db("SELECT event_type, count(*) FROM delivery.outbox WHERE "
                              "payload->>'messageId' = '%s' AND event_type IN ('message.opened', "
                              "'message.clicked', 'message.unsubscribed') GROUP BY 1 ORDER BY 1"
                              % mid)
        self.assertEqual(rows, [["message.clicked", "1"], ["message.opened", "1"],
                                ["message.unsubscribed", "1"]])

    def test_a_refusing_relay_dead_letters_and_replay_sends_it(self):
        address = "%s@example.com" % stack.unique("dl")
        cid = stack.new_customer(self.key, givenName="Alan", emails=[address])
        stack.stop_service("mail-sink")
        stack.start_mail_sink(reply=451)
        try:
            r = self.send(cid)
            m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_FAILED"})
        finally:
            stack.stop_service("mail-sink")
            stack.start_mail_sink()
        self.assertEqual(m["attempts"], 3)  # CRM_DELIVERY_MAX_ATTEMPTS in the stack
        self.assertIn("451", m["lastError"])
        dead = rest("GET", "/v1/messages?state=MESSAGE_STATE_FAILED&pageSize=500", self.key)
        self.assertIn(m["messageId"], [x["messageId"] for x in dead.json()["messages"]])
        # Only an admin replays; the relay is back.
        r = rest("POST", "/v1/messages/%s:replay" % m["messageId"], self.key,
                 {"requestId": stack.unique("rp")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "MESSAGE_STATE_QUEUED")
        sent = self.wait_state(m["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(sent["attempts"], 4)
        self.assertEqual(len(stack.wait_for("the mail", lambda: self.mails_to(address))), 1)
        self.assertError(rest("POST", "/v1/messages/%s:replay" % m["messageId"], self.key,
                              {"requestId": stack.unique("rp")}), 400, "MESSAGE_NOT_REPLAYABLE")

    def test_webhooks_are_signed_retried_and_guarded(self):
        receiver = Receiver()
        self.addCleanup(receiver.close)
        r = rest("POST", "/v1/webhookEndpoints?requestId=" + stack.unique("we"), self.key,
                 {"url": receiver.url(), "description": "shop system", "timeoutMs": 2000})
        self.assertEqual(r.status, 200, r)
        endpoint = r.json()
        secret = endpoint["secret"]
        self.assertTrue(secret.startswith("whsec_"))
        got = rest("GET", "/v1/webhookEndpoints/" + endpoint["endpointId"], self.key).json()
        self.assertNotIn("secret", got)
        self.assertEqual(got["timeoutMs"], 2000)
        cid = stack.new_customer(self.key, givenName="Hook")
        # First answer 503: retried after the back-off, then delivered.
        receiver.script = [(503, {})]
        r = self.send(cid, channel="CHANNEL_WEBHOOK", templateId="crm-event",
                      endpointId=endpoint["endpointId"])
        self.assertEqual(r.status, 200, r)
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_SENT"})
        self.assertEqual(m["attempts"], 2)
        self.assertEqual(len(receiver.requests), 2)
        path, headers, body = receiver.requests[-1]
        self.assertEqual(headers["Idempotency-Key"], m["messageId"])
        self.assertEqual(receiver.requests[0][1]["Idempotency-Key"], m["messageId"])
        t, v1 = [kv.split("=", 1)[1] for kv in headers["X-CRM-Signature"].split(",")]
        expected = hmac.new(secret.encode(), (t + ".").encode() + body,
                            hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(v1, expected))
        payload = json.loads(body)
        self.assertEqual(payload["messageId"], m["messageId"])
        self.assertEqual(payload["customerId"], cid)
        self.assertEqual(payload["data"], {"name": "Hook", "kind": "shipped"})

        # A redirect to a metadata address is not followed.
        r = rest("POST", "/v1/webhookEndpoints?requestId=" + stack.unique("we"), self.key,
                 {"url": receiver.url("/moved")})
        moved = r.json()["endpointId"]
        receiver.script = [(307, {"Location": "http://169.254.169.254/latest/meta-data"})]
        r = self.send(cid, channel="CHANNEL_WEBHOOK", templateId="crm-event", endpointId=moved)
        m = self.wait_state(r.json()["messageId"], {"MESSAGE_STATE_FAILED"})
        self.assertIn("169.254.169.254", m["lastError"])
        self.assertEqual(m["attempts"], 1)

        # Private, link-local and credential-bearing URLs are refused at once.
        for url, reason in (("http://10.1.2.3/hook", "WEBHOOK_URL_FORBIDDEN"),
                            ("http://169.254.169.254/latest", "WEBHOOK_URL_FORBIDDEN"),
                            ("http://[::1]:8080/x", "WEBHOOK_URL_FORBIDDEN"),
                            ("http://0x7f.1/x", "INVALID_FIELD"),
                            ("http://u:p@127.0.0.1/x", "INVALID_FIELD"),
                            ("file:///etc/passwd", "INVALID_FIELD")):
            r = rest("POST", "/v1/webhookEndpoints?requestId=" + stack.unique("we"), self.key,
                     {"url": url})
            self.assertError(r, 400, reason, "url")

    def test_bad_requests_are_refused_clearly(self):
        cid = stack.new_customer(self.key)
        self.assertError(self.send(cid, requestId=""), 400, "INVALID_FIELD", "request_id")
        self.assertError(self.send("nope"), 400, "INVALID_FIELD", "customer_id")
        self.assertError(self.send(cid, templateId="missing"), 404, "TEMPLATE_NOT_FOUND")
        self.assertError(self.send(cid, templateId="crm-event"), 400,
                         "TEMPLATE_CHANNEL_MISMATCH", "template_id")
        self.assertError(self.send(cid, channel="CHANNEL_WEBHOOK", templateId="crm-event"), 400,
                         "INVALID_FIELD", "endpoint_id")
        self.assertError(self.send(cid, channel="CHANNEL_WEBHOOK", templateId="crm-event",
                                   endpointId=str(uuid.uuid4())), 404,
                         "WEBHOOK_ENDPOINT_NOT_FOUND", "endpoint_id")
        self.assertError(self.send(cid, offerCount=11), 400, "INVALID_FIELD", "offer_count")
        self.assertEqual(self.send(cid, bogus=1).status, 400)
        self.assertError(rest("GET", "/v1/messages/" + str(uuid.uuid4()), self.key), 404,
                         "MESSAGE_NOT_FOUND")
        self.assertError(rest("GET", "/v1/messages/not-an-id", self.key), 404,
                         "MESSAGE_NOT_FOUND")
        self.assertError(rest("GET", "/v1/messages", self.key), 400, "INVALID_FIELD", "state")
        self.assertError(rest("PUT", "/v1/senderSettings?requestId=x1", self.key,
                              {"fromAddress": "not an address"}), 400, "INVALID_FIELD",
                         "from_address")
        # The same request id with another body.
        rid = stack.unique("same")
        self.assertEqual(self.send(cid, requestId=rid).status, 200)
        self.assertError(self.send(cid, requestId=rid, locale="de"), 422,
                         "IDEMPOTENCY_KEY_REUSED", "request_id")

    def test_frequency_caps_and_quiet_hours_of_the_delivery_policy(self):
        _, key = stack.create_tenant()
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), key, EMAIL_TEMPLATE)
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/v1/deliveryPolicy", key)
        self.assertEqual(r.json().get("version", "0"), "0")
        policy = {"frequencyCaps": [{"channel": "CHANNEL_EMAIL", "maxMessages": 1,
                                     "windowSeconds": "86400"}]}
        r = rest("PUT", "/v1/deliveryPolicy?requestId=" + stack.unique("p"), key, policy)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], "1")
        self.assertError(rest("PUT", "/v1/deliveryPolicy?requestId=" + stack.unique("p"), key,
                              dict(policy, etag="7")), 412, "ETAG_MISMATCH")
        for bad, field in (({"frequencyCaps": [{"channel": "CHANNEL_EMAIL", "maxMessages": 1,
                                                "windowSeconds": "60"}]},
                            "frequency_caps.window_seconds"),
                           ({"quietHours": {"start": "25:00", "end": "08:00"}},
                            "quiet_hours.start"),
                           ({"quietHours": {"start": "21:00", "end": "08:00",
                                            "defaultTimeZone": "Mars/Olympus"}},
                            "quiet_hours.default_time_zone")):
            self.assertError(rest("PUT", "/v1/deliveryPolicy?requestId=" + stack.unique("p"),
                                  key, bad), 400, "INVALID_FIELD", field)
        address = "%s@example.com" % stack.unique("cap")
        cid = stack.new_customer(key, givenName="Capped", emails=[address])
        r = rest("POST", "/v1/customers/%s/consents" % cid, key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        self.assertEqual(r.status, 200, r)
        first = self.send(cid, key=key, purpose="PURPOSE_MARKETING").json()["messageId"]
        self.wait_state(first, {"MESSAGE_STATE_SENT"}, key=key)
        second = self.send(cid, key=key, purpose="PURPOSE_MARKETING").json()["messageId"]
        m = self.wait_state(second, {"MESSAGE_STATE_SUPPRESSED"}, key=key)
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_FREQUENCY_CAP")
        self.assertIn("frequency cap", m["lastError"])
        receipt = self.send(cid, key=key).json()["messageId"]  # transactional: not capped
        self.wait_state(receipt, {"MESSAGE_STATE_SENT"}, key=key)
        self.assertEqual(len(self.mails_to(address)), 2)
        # Quiet hours around the clock in UTC for a customer without a zone:
        # a marketing message is deferred (queued, no attempt), not dropped.
        r = rest("PUT", "/v1/deliveryPolicy?requestId=" + stack.unique("p"), key,
                 {"quietHours": {"start": "00:00", "end": "23:59", "defaultTimeZone": "UTC"}})
        self.assertEqual(r.status, 200, r)
        night = stack.new_customer(key, givenName="Night", emails=["n-" + address])
        rest("POST", "/v1/customers/%s/consents" % night, key,
             {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
              "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        import datetime
        if datetime.datetime.utcnow().strftime("%H:%M") < "23:58":
            mid = self.send(night, key=key, purpose="PURPOSE_MARKETING").json()["messageId"]

            def deferred():
                m = rest("GET", "/v1/messages/" + mid, key).json()
                return m if "quiet hours" in m.get("lastError", "") else None
            m = stack.wait_for("the deferral", deferred)
            self.assertEqual(m["state"], "MESSAGE_STATE_QUEUED")
            self.assertEqual(m.get("attempts", 0), 0)
            self.assertTrue(m["nextAttemptTime"].endswith("23:59:00Z"), m)

    def test_a_campaign_to_a_segment_with_variants_and_a_holdout(self):
        _, key = stack.create_tenant()
        for tid in ("spring-a", "spring-b"):
            t = dict(EMAIL_TEMPLATE, templateId=tid)
            self.assertEqual(rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key,
                                  t).status, 200)
        tier = stack.unique("tier")
        addresses = []
        for i in range(30):
            address = "%s-%d@example.com" % (tier, i)
            addresses.append(address)
            cid = stack.new_customer(key, givenName="C%d" % i, emails=[address],
                                     attributes={"tier": {"stringValue": "gold"}})
            rest("POST", "/v1/customers/%s/consents" % cid, key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("seg"), key,
                 {"segmentId": "gold", "displayName": "Gold", "expression": 'attr.tier = "gold"'})
        self.assertEqual(r.status, 200, r)
        stack.wait_for("the segment's members", lambda: rest(
            "GET", "/v1/segments/gold", key).json().get("memberCount") == "30")
        campaign = {"name": "Spring", "channel": "CHANNEL_EMAIL",
                    "audience": {"segmentId": "gold"},
                    "variants": [{"variantId": "a", "templateId": "spring-a"},
                                 {"variantId": "b", "templateId": "spring-b"}],
                    "holdoutBasisPoints": 2000}
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key, campaign)
        self.assertEqual(r.status, 200, r)
        c = r.json()
        self.assertEqual(c["state"], "CAMPAIGN_STATE_DRAFT")
        self.assertEqual(c["purpose"], "PURPOSE_MARKETING")
        cid = c["campaignId"]
        # Bad input: unknown segment, template of another channel, past start,
        # a transition the state does not allow.
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                              dict(campaign, audience={"segmentId": "nobody"})), 404,
                         "SEGMENT_NOT_FOUND", "audience.segment_id")
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                              dict(campaign, audience={})), 400, "INVALID_FIELD", "audience")
        self.assertError(rest("POST", "/v1/campaigns/%s:pause" % cid, key,
                              {"requestId": stack.unique("p")}), 400, "CAMPAIGN_STATE_INVALID")
        self.assertError(rest("POST", "/v1/campaigns/%s:schedule" % cid, key,
                              {"requestId": stack.unique("s"),
                               "startTime": "2020-01-01T00:00:00Z"}), 400, "INVALID_FIELD",
                         "start_time")
        r = rest("POST", "/v1/campaigns/%s:schedule" % cid, key, {"requestId": stack.unique("s")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["state"], "CAMPAIGN_STATE_SCHEDULED")
        done = stack.wait_for("the campaign completed", lambda: (lambda j: j if j["state"] ==
                              "CAMPAIGN_STATE_COMPLETED" else None)(
                                  rest("GET", "/v1/campaigns/" + cid, key).json()), timeout=60)
        self.assertEqual(done["targeted"], "30")
        results = rest("GET", "/v1/campaigns/%s/results" % cid, key).json()
        self.assertEqual(results["targeted"], "30")
        by_variant = {v.get("variantId", ""): v for v in results["variants"]}
        held = by_variant[""]
        self.assertTrue(held["holdout"])
        sent = int(by_variant["a"].get("sent", "0")) + int(by_variant["b"].get("sent", "0"))
        # proto3 leaves out zeros: a holdout that drew none of the 30 (a 20 %
        # share misses all 30 about once in 800 runs) has neither count.
        held_targeted = int(held.get("targeted", "0"))
        self.assertEqual(sent + held_targeted, 30)
        self.assertEqual(int(held.get("suppressed", {}).get("holdout", "0")), held_targeted)
        mails = [m for m in stack.mails() if m["X-Sink-Rcpt-To"] in addresses]
        self.assertEqual(len(mails), sent)  # each once, none to the holdout
        self.assertEqual(len({m["X-Sink-Rcpt-To"] for m in mails}), sent)
        # A message of the campaign names it and its variant.
        msgs = rest("GET", "/v1/messages?state=MESSAGE_STATE_SENT&pageSize=500", key).json()
        ours = [m for m in msgs["messages"] if m.get("campaignId") == cid]
        self.assertEqual(len(ours), sent)
        self.assertTrue(all(m["variantId"] in ("a", "b") for m in ours))
        self.assertError(rest("POST", "/v1/campaigns/%s:cancel" % cid, key,
                              {"requestId": stack.unique("x")}), 400, "CAMPAIGN_STATE_INVALID")
        # Another tenant sees none of it.
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/campaigns/" + cid, other), 404, "CAMPAIGN_NOT_FOUND")
        self.assertError(rest("GET", "/v1/campaigns/%s/results" % cid, other), 404,
                         "CAMPAIGN_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/campaigns", other).json(), {})

    def test_orders_after_clicks_are_credited_and_measured_against_the_holdout(self):
        _, key = stack.create_tenant()
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key, {
            "templateId": "promo", "displayName": "Promo", "channel": "TEMPLATE_CHANNEL_EMAIL",
            "locales": [{"locale": "en", "parts": {
                "subject": "Promo", "html": '<a href="https://shop.example/promo">Shop</a>'
                                            '<a href="{{message.unsubscribe_url}}">Unsubscribe</a>'}}]})
        self.assertEqual(r.status, 200, r)
        sku = stack.unique("SKU")
        r = rest("POST", "/v1/products", key,
                 {"sku": sku, "name": "Promo product", "categoryPath": ["Promo", "Shoes"],
                  "price": {"amountMinor": "1000", "currencyCode": "CHF"}, "active": True})
        self.assertEqual(r.status, 200, r)
        # A 30-day window: the default 7 would do too; the policy is the tenant's.
        r = rest("PUT", "/v1/deliveryPolicy?requestId=" + stack.unique("p"), key,
                 {"attribution": {"windowSeconds": "2592000"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["attribution"]["windowSeconds"], "2592000")
        tag = stack.unique("conv")
        customers = {}
        for i in range(30):
            address = "%s-%d@example.com" % (tag, i)
            cid = stack.new_customer(key, givenName="C%d" % i, emails=[address])
            customers[cid] = address
            rest("POST", "/v1/customers/%s/consents" % cid, key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        # One next best offer in every message: conversions by offer too.
        r = rest("POST", "/v1/offers?requestId=" + stack.unique("o"), key,
                 {"offerId": "promo-10", "displayName": "10 % off", "kind": "OFFER_KIND_CONTENT"})
        self.assertEqual(r.status, 200, r)
        for cid in customers:  # personalization knows them before they are rendered
            stack.wait_for("the customer known", lambda: rest(
                "GET", "/v1/customers/%s/interests" % cid, key).status == 200)
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                 {"name": "Promo", "channel": "CHANNEL_EMAIL",
                  "audience": {"customerIds": sorted(customers)},
                  "variants": [{"variantId": "a", "templateId": "promo"}],
                  "holdoutBasisPoints": 3000, "costPerMessageMinor": "5",
                  "costCurrencyCode": "CHF", "offerCount": 1})
        self.assertEqual(r.status, 200, r)
        campaign = r.json()["campaignId"]
        self.assertEqual(r.json()["costCurrencyCode"], "CHF")
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                              {"name": "x", "channel": "CHANNEL_EMAIL",
                               "audience": {"customerIds": sorted(customers)[:1]},
                               "variants": [{"variantId": "a", "templateId": "promo"}],
                               "costPerMessageMinor": "5"}),
                         400, "INVALID_FIELD", "cost_currency_code")
        r = rest("POST", "/v1/campaigns/%s:schedule" % campaign, key,
                 {"requestId": stack.unique("s")})
        self.assertEqual(r.status, 200, r)
        stack.wait_for("the campaign completed", lambda: rest(
            "GET", "/v1/campaigns/" + campaign, key).json()["state"] == "CAMPAIGN_STATE_COMPLETED",
            timeout=60)
        rows = stack.query_db("SELECT customer_id, state FROM delivery.messages WHERE "
                              "campaign_id = '%s'" % campaign)
        sent = [c for c, st in rows if st == "sent"]
        held = [c for c, st in rows if st == "suppressed"]
        self.assertEqual(len(sent) + len(held), 30)
        self.assertGreaterEqual(len(sent), 5)
        self.assertGreaterEqual(len(held), 2)

        def click(cid):
            mail = stack.wait_for("the mail", lambda: [
                m for m in stack.mails() if m["X-Sink-Rcpt-To"] == customers[cid]])[0]
            html = [p.get_payload(decode=True).decode() for p in mail.walk()
                    if p.get_content_type() == "text/html"][0]
            import re
            link = re.search(r'href="http://[^/]+(/t/c/[^"]+)"', html).group(1)
            self.assertEqual(rest("GET", link).status, 302)

        orders = {}

        def order(cid):
            r = rest("POST", "/v1/orders?requestId=" + stack.unique("o"), key,
                     {"customerId": cid, "currencyCode": "CHF", "channel": "SALES_CHANNEL_WEB",
                      "lines": [{"sku": sku, "quantity": "1", "unitPriceMinor": "1000"}]})
            self.assertEqual(r.status, 200, r)
            orders[cid] = r.json()["id"]

        for cid in sent[:3]:
            click(cid)
            order(cid)
        order(sent[3])   # ordered without a click: counts for the rate, credits nothing
        order(held[0])   # the holdout orders too
        click(sent[4])   # a click without an order credits nothing

        def results():
            j = rest("GET", "/v1/campaigns/%s/results" % campaign, key).json()
            by = {v.get("variantId", ""): v for v in j["variants"]}
            if by["a"].get("converted") == "3" and by["a"].get("ordered") == "4" and \
                    by[""].get("ordered") == "1":
                return by
            return None
        by = stack.wait_for("the conversions", results, timeout=30)
        a, h = by["a"], by[""]
        self.assertEqual(a["revenueMinor"], {"CHF": "3000"})
        self.assertEqual(a["exposed"], str(len(sent)))
        self.assertEqual(h["exposed"], str(len(held)))
        self.assertAlmostEqual(a["orderRate"], 4 / len(sent))
        self.assertAlmostEqual(a["lift"]["holdoutOrderRate"], 1 / len(held))
        # A difference of 0 (the split made both rates equal: 4 of 4n sent,
        # 1 of n held) is absent from the JSON, as proto3 omits zeros.
        difference = a["lift"].get("difference", 0.0)
        self.assertAlmostEqual(difference, 4 / len(sent) - 1 / len(held))
        self.assertLess(a["lift"]["low"], difference)
        self.assertGreater(a["lift"]["high"], difference)
        self.assertEqual(a["costMinor"], str(5 * len(sent)))
        self.assertAlmostEqual(a["roi"], (3000 - 5 * len(sent)) / (5 * len(sent)))
        self.assertNotIn("converted", h)
        offers = rest("GET", "/v1/campaigns/%s/results" % campaign, key).json()["offers"]
        self.assertEqual(offers, [{"offerId": "promo-10", "sent": str(len(sent)),
                                   "converted": "3", "revenueMinor": {"CHF": "3000"}}])
        m = rest("GET", "/v1/customers/%s/messages" % sent[0], key).json()["messages"][0]
        self.assertEqual(m["offerIds"], ["promo-10"])
        self.assertEqual(len(m["decisionIds"]), 1)
        # The credited message says so in its event.
        ids = stack.query_db("SELECT payload->>'orderId' FROM delivery.outbox WHERE event_type = "
                             "'message.converted' AND payload->>'campaignId' = '%s'" % campaign)
        self.assertEqual(sorted(i[0] for i in ids), sorted(orders[c] for c in sent[:3]))
        # A cancelled order is taken back.
        r = rest("POST", "/v1/orders/%s:transition" % orders[sent[0]], key,
                 {"toStatus": "ORDER_STATUS_CANCELLED", "requestId": stack.unique("x")})
        self.assertEqual(r.status, 200, r)
        stack.wait_for("the cancel taken back", lambda: rest(
            "GET", "/v1/campaigns/%s/results" % campaign, key).json()["variants"][0].get(
                "converted") == "2", timeout=30)

    def test_triggered_campaigns_on_segment_entry_and_on_orders(self):
        _, key = stack.create_tenant()
        for tid, text in (("vip-welcome", "Welcome to VIP"), ("thanks", "Thank you")):
            r = rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key, {
                "templateId": tid, "displayName": tid, "channel": "TEMPLATE_CHANNEL_EMAIL",
                "locales": [{"locale": "en", "parts": {"subject": text, "text": text + "\n"}}]})
            self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/segments?requestId=" + stack.unique("seg"), key,
                 {"segmentId": "vip", "displayName": "VIP", "expression": 'attr.plan = "vip"'})
        self.assertEqual(r.status, 200, r)
        sku = stack.unique("SKU")
        r = rest("POST", "/v1/products", key,
                 {"sku": sku, "name": "Thing", "categoryPath": ["Home", "Things"],
                  "price": {"amountMinor": "500", "currencyCode": "CHF"}, "active": True})
        self.assertEqual(r.status, 200, r)
        # A trigger and an audience together; an unknown segment.
        base = {"name": "VIP welcome", "channel": "CHANNEL_EMAIL",
                "variants": [{"variantId": "a", "templateId": "vip-welcome"}],
                "trigger": {"kind": "TRIGGER_KIND_SEGMENT_ENTERED", "segmentId": "vip"}}
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                              dict(base, audience={"segmentId": "vip"})), 400, "INVALID_FIELD",
                         "audience")
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                              dict(base, trigger={"kind": "TRIGGER_KIND_SEGMENT_ENTERED",
                                                  "segmentId": "nobody"})),
                         404, "SEGMENT_NOT_FOUND", "trigger.segment_id")
        ids = []
        for body in (base, {"name": "Thanks", "channel": "CHANNEL_EMAIL",
                            "purpose": "PURPOSE_TRANSACTIONAL",
                            "variants": [{"variantId": "a", "templateId": "thanks"}],
                            "trigger": {"kind": "TRIGGER_KIND_ORDER_PLACED", "everyTime": True}}):
            r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key, body)
            self.assertEqual(r.status, 200, r)
            ids.append(r.json()["campaignId"])
            r = rest("POST", "/v1/campaigns/%s:schedule" % ids[-1], key,
                     {"requestId": stack.unique("s")})
            self.assertEqual(r.status, 200, r)
        for cid in ids:
            stack.wait_for("running", lambda: rest("GET", "/v1/campaigns/" + cid, key).json()[
                "state"] == "CAMPAIGN_STATE_RUNNING")
        address = "%s@example.com" % stack.unique("vip")
        cust = stack.new_customer(key, givenName="Vera", emails=[address],
                                  attributes={"plan": {"stringValue": "basic"}})
        rest("POST", "/v1/customers/%s/consents" % cust, key,
             {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
              "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})

        def subjects():
            return sorted(m["Subject"] for m in stack.mails() if m["X-Sink-Rcpt-To"] == address)

        def plan(value):
            r = rest("PATCH", "/v1/customers/%s?updateMask=attributes" % cust, key,
                     {"attributes": {"plan": {"stringValue": value}}})
            self.assertEqual(r.status, 200, r)

        def members():
            return [m["customerId"] for m in rest("GET", "/v1/segments/vip/members",
                                                  key).json().get("members", [])]

        plan("vip")
        stack.wait_for("the welcome mail", lambda: subjects() == ["Welcome to VIP"], timeout=30)
        # Out and in again: once per customer, no second welcome.
        plan("basic")
        stack.wait_for("Vera out", lambda: members() == [])
        plan("vip")
        stack.wait_for("Vera in", lambda: members() == [cust])
        # Every order: a thank-you each.
        for _ in range(2):
            r = rest("POST", "/v1/orders?requestId=" + stack.unique("o"), key,
                     {"customerId": cust, "currencyCode": "CHF", "channel": "SALES_CHANNEL_WEB",
                      "lines": [{"sku": sku, "quantity": "1", "unitPriceMinor": "500"}]})
            self.assertEqual(r.status, 200, r)
        stack.wait_for("two thank-you mails", lambda: subjects() == [
            "Thank you", "Thank you", "Welcome to VIP"], timeout=30)
        import time
        time.sleep(2)
        self.assertEqual(subjects(), ["Thank you", "Thank you", "Welcome to VIP"])
        c = rest("GET", "/v1/campaigns/" + ids[0], key).json()
        self.assertEqual(c["trigger"]["segmentId"], "vip")
        self.assertEqual(c["targeted"], "1")
        self.assertEqual(c["state"], "CAMPAIGN_STATE_RUNNING")
        self.assertEqual(rest("GET", "/v1/campaigns/" + ids[1], key).json()["targeted"], "2")

    def test_an_abandoned_cart_reminder_waits_and_an_order_reaches_the_goal(self):
        _, key = stack.create_tenant()
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key, {
            "templateId": "cart", "displayName": "cart", "channel": "TEMPLATE_CHANNEL_EMAIL",
            "locales": [{"locale": "en", "parts": {"subject": "Your cart", "text": "Still there\n"}}]})
        self.assertEqual(r.status, 200, r)
        sku = stack.unique("SKU")
        r = rest("POST", "/v1/products", key,
                 {"sku": sku, "name": "Thing", "categoryPath": ["Home", "Things"],
                  "price": {"amountMinor": "500", "currencyCode": "CHF"}, "active": True})
        self.assertEqual(r.status, 200, r)
        body = {"name": "Cart reminder", "channel": "CHANNEL_EMAIL",
                "variants": [{"variantId": "a", "templateId": "cart"}],
                "trigger": {"kind": "TRIGGER_KIND_CART_ABANDONED", "delaySeconds": "60"}}
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key, body),
                         400, "INVALID_FIELD", "trigger.delay_seconds")
        body["trigger"] = {"kind": "TRIGGER_KIND_CART_ABANDONED", "delaySeconds": "3600",
                           "everyTime": True}
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key, body)
        self.assertEqual(r.status, 200, r)
        camp = r.json()["campaignId"]
        self.assertEqual(r.json()["trigger"]["kind"], "TRIGGER_KIND_CART_ABANDONED")
        rest("POST", "/v1/campaigns/%s:schedule" % camp, key, {"requestId": stack.unique("s")})
        stack.wait_for("running", lambda: rest("GET", "/v1/campaigns/" + camp, key).json()[
            "state"] == "CAMPAIGN_STATE_RUNNING")
        cust = stack.new_customer(key, givenName="Carla")

        def add_to_cart():
            r = rest("POST", "/v1/events:track", key, {"events": [
                {"type": "cart.item_added", "customerId": cust, "properties": {"sku": sku}},
                # An anonymous visitor's cart reminds nobody.
                {"type": "cart.item_added", "visitorId": stack.unique("v"),
                 "properties": {"sku": sku}}]})
            self.assertEqual(r.status, 200, r)

        def reminders():
            return [m for m in rest("GET", "/v1/customers/%s/messages" % cust, key).json().get(
                "messages", []) if m.get("campaignId") == camp]

        add_to_cart()
        first = stack.wait_for("the reminder", reminders)
        self.assertEqual(len(first), 1)
        self.assertEqual(first[0]["state"], "MESSAGE_STATE_QUEUED")
        due = first[0]["nextAttemptTime"]
        # A second item: the one reminder waits from it.
        add_to_cart()
        stack.wait_for("postponed", lambda: reminders()[0]["nextAttemptTime"] != due)
        self.assertEqual(len(reminders()), 1)
        # The customer orders: the goal is reached before the reminder is due.
        r = rest("POST", "/v1/orders?requestId=" + stack.unique("o"), key,
                 {"customerId": cust, "currencyCode": "CHF", "channel": "SALES_CHANNEL_WEB",
                  "lines": [{"sku": sku, "quantity": "1", "unitPriceMinor": "500"}]})
        self.assertEqual(r.status, 200, r)
        done = stack.wait_for("suppressed", lambda: [
            m for m in reminders() if m["state"] == "MESSAGE_STATE_SUPPRESSED"])
        self.assertEqual(done[0]["suppressionReason"], "SUPPRESSION_REASON_GOAL_REACHED")
        res = rest("GET", "/v1/campaigns/%s/results" % camp, key).json()
        self.assertEqual(res["variants"][0]["suppressed"], {"goal_reached": "1"})
        self.assertEqual(res["targeted"], "1")
        # A new cart after the order: a new reminder, queued.
        add_to_cart()
        stack.wait_for("a new reminder", lambda: len(reminders()) == 2)
        self.assertEqual(sorted(m["state"] for m in reminders()),
                         ["MESSAGE_STATE_QUEUED", "MESSAGE_STATE_SUPPRESSED"])

    def test_a_recurring_campaign_is_scheduled_again_after_each_occurrence(self):
        _, key = stack.create_tenant()
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key, EMAIL_TEMPLATE)
        self.assertEqual(r.status, 200, r)
        addresses = ["%s@example.com" % stack.unique("rc") for _ in range(2)]
        ids = [stack.new_customer(key, givenName="R", emails=[a]) for a in addresses]
        for cid in ids:
            rest("POST", "/v1/customers/%s/consents" % cid, key,
                 {"channel": "CONSENT_CHANNEL_EMAIL", "purpose": "CONSENT_PURPOSE_MARKETING",
                  "status": "CONSENT_STATUS_OPTED_IN", "source": "e2e"})
        body = {"name": "Weekly", "channel": "CHANNEL_EMAIL", "audience": {"customerIds": ids},
                "variants": [{"variantId": "a", "templateId": "order-shipped"}],
                "recurrence": {"intervalSeconds": "600"}}
        self.assertError(rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key, body),
                         400, "INVALID_FIELD", "recurrence.interval_seconds")
        body["recurrence"] = {"intervalSeconds": "3600", "endTime": "2099-01-01T00:00:00Z"}
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key, body)
        self.assertEqual(r.status, 200, r)
        camp = r.json()["campaignId"]
        self.assertEqual(r.json()["recurrence"]["intervalSeconds"], "3600")
        r = rest("POST", "/v1/campaigns/%s:schedule" % camp, key, {"requestId": stack.unique("s")})
        self.assertEqual(r.status, 200, r)
        first_start = r.json()["startTime"]

        def next_occurrence():
            c = rest("GET", "/v1/campaigns/" + camp, key).json()
            return c if c.get("occurrence") == 1 else None
        c = stack.wait_for("the first occurrence done", next_occurrence, timeout=60)
        self.assertEqual(c["state"], "CAMPAIGN_STATE_SCHEDULED")
        import datetime

        def ts(s):
            return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
        self.assertEqual(ts(c["startTime"]) - ts(first_start), datetime.timedelta(hours=1))
        for a in addresses:
            self.assertEqual(len([m for m in stack.mails() if m["X-Sink-Rcpt-To"] == a]), 1)
        res = rest("GET", "/v1/campaigns/%s/results" % camp, key).json()
        self.assertEqual(res["variants"][0]["sent"], "2")
        rows = stack.query_db("SELECT count(*) FROM delivery.outbox WHERE event_type = "
                              "'campaign.occurrence_completed' AND payload->>'campaignId' = '%s'"
                              % camp)
        self.assertEqual(rows, [["1"]])
        r = rest("POST", "/v1/campaigns/%s:cancel" % camp, key, {"requestId": stack.unique("x")})
        self.assertEqual(r.json()["state"], "CAMPAIGN_STATE_CANCELLED")

    def test_a_throttled_campaign_paused_and_cancelled(self):
        _, key = stack.create_tenant()
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("t"), key, EMAIL_TEMPLATE)
        self.assertEqual(r.status, 200, r)
        ids = [stack.new_customer(key, givenName="T%d" % i) for i in range(20)]
        r = rest("POST", "/v1/campaigns?requestId=" + stack.unique("c"), key,
                 {"name": "Slow", "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_TRANSACTIONAL",
                  "audience": {"customerIds": ids},
                  "variants": [{"variantId": "only", "templateId": "order-shipped"}],
                  "throttlePerSecond": 2})
        self.assertEqual(r.status, 200, r)
        cid = r.json()["campaignId"]
        rest("POST", "/v1/campaigns/%s:schedule" % cid, key, {"requestId": stack.unique("s")})

        def sent():
            v = rest("GET", "/v1/campaigns/%s/results" % cid, key).json().get("variants", [])
            return int(v[0].get("sent", "0")) if v else 0
        stack.wait_for("a first send", lambda: sent() >= 1)
        r = rest("POST", "/v1/campaigns/%s:pause" % cid, key, {"requestId": stack.unique("p")})
        self.assertEqual(r.json()["state"], "CAMPAIGN_STATE_PAUSED")
        import time
        time.sleep(1.5)
        paused_at = sent()
        time.sleep(2.0)
        self.assertEqual(sent(), paused_at)  # nothing while paused
        self.assertLess(paused_at, 20)      # 2 per second: far from done
        r = rest("POST", "/v1/campaigns/%s:cancel" % cid, key, {"requestId": stack.unique("x")})
        self.assertEqual(r.json()["state"], "CAMPAIGN_STATE_CANCELLED")
        v = rest("GET", "/v1/campaigns/%s/results" % cid, key).json()["variants"][0]
        self.assertEqual(int(v.get("sent", "0")) + int(v.get("cancelled", "0")), 20)
        self.assertEqual(v.get("pending", "0"), "0")

    def test_erasure_deletes_the_customer_s_messages(self):
        cid = stack.new_customer(self.key, givenName="Forget me")
        mid = self.send(cid).json()["messageId"]
        self.wait_state(mid, {"MESSAGE_STATE_SENT"})
        r = rest("DELETE", "/v1/customers/" + cid, self.key)
        self.assertEqual(r.status, 200, r)
        stack.wait_for("the message erased",
                       lambda: rest("GET", "/v1/messages/" + mid, self.key).status == 404)
        self.assertEqual(rest("GET", "/v1/customers/%s/messages" % cid, self.key).json(), {})
        rows = stack.query_db("SELECT count(*) FROM delivery.messages WHERE customer_id = '%s'"
                              % cid)
        self.assertEqual(rows, [["0"]])

    def test_bounces_and_complaints_of_the_email_service(self):
        # The tenant's email service (Mailgun-shaped event webhooks) reports
        # on sent mail; events are believed only when signed with the
        # tenant's signing key and recent.
        tenant_json, key = stack.create_tenant()
        tenant = tenant_json["id"]
        r = rest("POST", "/v1/templates?requestId=" + stack.unique("tpl"), key, EMAIL_TEMPLATE)
        self.assertEqual(r.status, 200, r)
        signing_key = "e2e-signing-key-" + stack.unique("k")

        def event(kind, message_id, recipient, signed_with=None, age=0, severity="permanent"):
            ts = str(int(time.time()) - age)
            token = uuid.uuid4().hex
            sig = hmac.new((signed_with or signing_key).encode(), (ts + token).encode(),
                           hashlib.sha256).hexdigest()
            body = {"signature": {"timestamp": ts, "token": token, "signature": sig},
                    "event-data": {"event": kind, "severity": severity, "recipient": recipient,
                                   "message": {"headers": {
                                       "message-id": "%s@shop.example" % message_id}},
                                   "delivery-status": {"code": 550,
                                                       "message": "5.1.1 no such user"}}}
            return rest("POST", "/t/e/" + tenant, raw=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"})

        address = "bounce-%s@example.com" % stack.unique("b")
        backup = "backup-%s@example.com" % stack.unique("b")
        cid = stack.new_customer(key, givenName="Bo", emails=[address, backup])
        mid = self.send(cid, key=key).json()["messageId"]
        self.assertEqual(self.wait_state(mid, {"MESSAGE_STATE_SENT"}, key=key)["recipient"],
                         address)
        # No provider yet: nobody's events are taken.
        self.assertEqual(event("failed", mid, address).status, 404)
        r = rest("PUT", "/v1/channelProviders/email?requestId=" + stack.unique("p"), key,
                 {"kind": "PROVIDER_KIND_MAILGUN", "accountId": "mg.shop.example",
                  "secret": signing_key})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("secret", r.json())
        self.assertError(rest("PUT", "/v1/channelProviders/email?requestId=" + stack.unique("p"),
                              key, {"kind": "PROVIDER_KIND_TWILIO", "accountId": "AC1",
                                    "sender": "+41445550000", "secret": "x"}),
                         400, "INVALID_FIELD", "kind")
        # Signed with another key, too old, another tenant's path, not a
        # tenant, GET, not an event: refused, nothing changes.
        self.assertEqual(event("failed", mid, address, signed_with="guess").status, 404)
        self.assertEqual(event("failed", mid, address, age=3600).status, 404)
        self.assertEqual(rest("POST", "/t/e/" + str(uuid.uuid4()), raw=b"{}").status, 404)
        self.assertEqual(rest("POST", "/t/e/not-a-tenant", raw=b"{}").status, 404)
        self.assertEqual(rest("GET", "/t/e/" + tenant).status, 405)
        self.assertEqual(rest("POST", "/t/e/" + tenant, raw=b"not json").status, 400)
        self.assertNotIn("receipt", rest("GET", "/v1/messages/" + mid, key).json())
        # A temporary failure changes nothing; a permanent one is a bounce.
        self.assertEqual(event("failed", mid, address, severity="temporary").status, 200)
        self.assertNotIn("receipt", rest("GET", "/v1/messages/" + mid, key).json())
        r = event("failed", mid, address.upper())
        self.assertEqual(r.status, 200, r)
        receipt = rest("GET", "/v1/messages/" + mid, key).json()["receipt"]
        self.assertEqual(receipt["status"], "RECEIPT_STATUS_BOUNCED")
        self.assertEqual(receipt["detail"], "550 5.1.1 no such user")
        listed = rest("GET", "/v1/suppressions/email", key)
        self.assertEqual(listed.status, 200, listed)
        entries = listed.json()["suppressions"]
        self.assertEqual([(e["address"], e["reason"], e["messageId"]) for e in entries],
                         [(address, "REASON_BOUNCE", mid)])
        _, other_key = stack.create_tenant()
        self.assertEqual(rest("GET", "/v1/suppressions/email", other_key).json().get(
            "suppressions", []), [])
        self.assertError(rest("DELETE", "/v1/suppressions/email/%s?requestId=x" % q(address),
                              other_key), 404, "SUPPRESSION_NOT_FOUND")
        self.assertError(rest("GET", "/v1/suppressions/sms", key), 400, "INVALID_FIELD",
                         "channel")
        # The next mail goes to the address that did not bounce; with both
        # bounced, none goes.
        second = self.send(cid, key=key).json()["messageId"]
        self.assertEqual(self.wait_state(second, {"MESSAGE_STATE_SENT"}, key=key)["recipient"],
                         backup)
        self.assertEqual(event("failed", second, backup).status, 200)
        third = self.send(cid, key=key).json()["messageId"]
        m = self.wait_state(third, {"MESSAGE_STATE_SUPPRESSED"}, key=key)
        self.assertEqual(m["suppressionReason"], "SUPPRESSION_REASON_INVALID_ADDRESS")
        self.assertIn("bounced", m["lastError"])
        # Fixed mailbox: an admin takes it off the list, mail goes again.
        r = rest("DELETE", "/v1/suppressions/email/%s?requestId=%s" % (q(address.upper()),
                                                                     stack.unique("d")), key)
        self.assertEqual(r.status, 200, r)
        fourth = self.send(cid, key=key).json()["messageId"]
        self.assertEqual(self.wait_state(fourth, {"MESSAGE_STATE_SENT"}, key=key)["recipient"],
                         address)
        # A complaint: the customer's opt-out of marketing email, recorded
        # in customer-store; transactional mail still goes.
        self.assertEqual(event("complained", fourth, address).status, 200)
        consents = rest("GET", "/v1/customers/%s/consents" % cid, key).json()["consents"]
        marketing = [c for c in consents if c["channel"] == "CONSENT_CHANNEL_EMAIL" and
                     c["purpose"] == "CONSENT_PURPOSE_MARKETING"]
        self.assertEqual(marketing[0]["status"], "CONSENT_STATUS_OPTED_OUT")
        self.assertEqual(marketing[0]["source"], "complaint")
        fifth = self.send(cid, key=key).json()["messageId"]
        self.wait_state(fifth, {"MESSAGE_STATE_SENT"}, key=key)
        # Delivered events set the receipt of a message that has none.
        self.assertEqual(event("delivered", fifth, address).status, 200)
        self.assertEqual(rest("GET", "/v1/messages/" + fifth, key).json()["receipt"]["status"],
                         "RECEIPT_STATUS_DELIVERED")
        # The signing key was never answered nor logged.
        self.assertNotIn(signing_key, json.dumps(
            rest("GET", "/v1/channelProviders/email", key).json()))
        for name in os.listdir(stack.LOG_DIR):
            with open(os.path.join(stack.LOG_DIR, name), "rb") as f:
                self.assertNotIn(signing_key.encode(), f.read(), name)

    def test_other_tenants_see_nothing(self):
        cid = stack.new_customer(self.key, givenName="Mine")
        r = self.send(cid)
        mid = r.json()["messageId"]
        receiver = Receiver()
        self.addCleanup(receiver.close)
        ep = rest("POST", "/v1/webhookEndpoints?requestId=" + stack.unique("we"), self.key,
                  {"url": receiver.url()}).json()["endpointId"]
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/messages/" + mid, other), 404, "MESSAGE_NOT_FOUND")
        self.assertError(rest("POST", "/v1/messages/%s:replay" % mid, other,
                              {"requestId": stack.unique("x")}), 404, "MESSAGE_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/customers/%s/messages" % cid, other).json(), {})
        self.assertError(rest("GET", "/v1/webhookEndpoints/" + ep, other), 404,
                         "WEBHOOK_ENDPOINT_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/webhookEndpoints", other).json(), {})
        # Sending to this tenant's customer, template or endpoint from another.
        self.assertError(self.send(cid, key=other), 404, "TEMPLATE_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/senderSettings", other).json()["fromAddress"],
                         "no-reply@crm.invalid")


if __name__ == "__main__":
    unittest.main()
