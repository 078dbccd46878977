"""The service desk's tickets end to end (docs/service-desk.md, "Tickets"),
every service a real process: a ticket created over REST with the
requester's email becomes a customer in customer-store; the thread, status
moves, the audit of changes, idempotent retries, bad input with the right
status and reason, roles, gRPC through the gateway, and another tenant's
tickets reading as 404; the tenant's SLA policy, a ticket's SLA, and the
sweeper moving stored SLA instants on (the work list by SLA); mailboxes and
raw mail through the inbound webhook (threading, copies, machine mail) and
over SMTP to the service's listener; routing rules; outbound mail
(auto-replies, public replies) through delivery's SMTP."""
import importlib
import time
import unittest
import uuid
from datetime import datetime, timedelta
from urllib.parse import quote

import grpc

import stack
from stack import rest


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


class Tickets(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()

    def create(self, email=None, request_id=None, key=None, **ticket):
        body = {"ticket": dict({"subject": "My card was charged twice",
                                "channel": "TICKET_CHANNEL_EMAIL", "tags": ["Billing"]}, **ticket),
                "requesterEmail": email or "%s@example.com" % stack.unique("req"),
                "requesterName": "Ada Lovelace",
                "description": "Two charges of 12.00 for one order.",
                "requestId": request_id or stack.unique("t")}
        return rest("POST", "/v1/tickets", key or self.key, body)

    def test_ticket_life(self):
        email = "%s@example.com" % stack.unique("ada")
        r = self.create(email=email, request_id="life-1", priority="TICKET_PRIORITY_HIGH",
                        customFields={"order_ref": "A-17"})
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual(t["status"], "TICKET_STATUS_NEW")
        self.assertEqual(t["priority"], "TICKET_PRIORITY_HIGH")
        self.assertEqual(t["tags"], ["billing"])
        self.assertEqual(t["messageCount"], 1)
        self.assertEqual(t["etag"], "1")
        tid, cid = t["id"], t["customerId"]

        # The requester is a customer of customer-store now.
        r = rest("GET", "/v1/customers:search?email=" + quote(email), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([c["id"] for c in r.json()["customers"]], [cid])
        # A retry answers the same ticket; a second ticket of the same person
        # is booked to the same customer with the next number.
        again = self.create(email=email, request_id="life-1", priority="TICKET_PRIORITY_HIGH",
                            customFields={"order_ref": "A-17"})
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json()["id"], tid)
        second = self.create(email=email.upper())
        self.assertEqual(second.status, 200, second)
        self.assertEqual(second.json()["customerId"], cid)
        self.assertEqual(int(second.json()["number"]), int(t["number"]) + 1)

        # An agent takes it, replies, waits for the customer; the customer
        # answers (open again); solved.
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), self.key,
                 {"assignee": "agent-ann", "status": "TICKET_STATUS_OPEN"},
                 headers={"If-Match": "1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["assignee"], "agent-ann")
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "We refunded one charge.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), self.key,
                 {"status": "TICKET_STATUS_PENDING_CUSTOMER"})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"kind": "MESSAGE_KIND_CUSTOMER", "body": "Thanks, I see it.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ticket"]["status"], "TICKET_STATUS_OPEN")
        self.assertEqual(r.json()["message"]["author"], cid)
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"kind": "MESSAGE_KIND_INTERNAL_NOTE", "body": "Refund id R-9.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), self.key,
                 {"status": "TICKET_STATUS_SOLVED"})
        self.assertEqual(r.status, 200, r)
        self.assertIn("solveTime", r.json())

        r = rest("GET", "/v1/tickets/%s/messages?pageSize=2" % tid, self.key)
        self.assertEqual(r.status, 200, r)
        kinds = [m["kind"] for m in r.json()["messages"]]
        token = r.json()["nextPageToken"]
        r = rest("GET", "/v1/tickets/%s/messages?pageSize=2&pageToken=%s" % (tid, token), self.key)
        self.assertEqual(r.status, 200, r)
        kinds += [m["kind"] for m in r.json()["messages"]]
        self.assertEqual(kinds, ["MESSAGE_KIND_CUSTOMER", "MESSAGE_KIND_PUBLIC_REPLY",
                                 "MESSAGE_KIND_CUSTOMER", "MESSAGE_KIND_INTERNAL_NOTE"])

        r = rest("GET", "/v1/tickets/%s/changes" % tid, self.key)
        self.assertEqual(r.status, 200, r)
        rows = [(c["field"], c.get("oldValue", ""), c.get("newValue", ""), c["actor"])
                for c in r.json()["changes"]]
        self.assertEqual(rows, [
            ("status", "new", "open", rows[0][3]), ("assignee", "", "agent-ann", rows[0][3]),
            ("status", "open", "pending_customer", rows[0][3]),
            ("status", "pending_customer", "open", "customer"),
            ("status", "open", "solved", rows[0][3])])

        # The customer's timeline (customer-store, from the ticket.* events):
        # opened, the public reply, the customer's message, solved; not the
        # internal note, not the moves between open and pending.
        def timeline():
            r = rest("GET", "/v1/customers/%s/interactions?kind=INTERACTION_KIND_TICKET" % cid,
                     self.key)
            self.assertEqual(r.status, 200, r)
            es = [e for e in r.json().get("interactions", [])
                  if e.get("source") == "service-desk" and e["payload"]["ticket_id"] == tid]
            return es if len(es) >= 4 else None
        entries = stack.wait_for("the ticket's timeline entries", timeline)
        summaries = sorted(e["summary"] for e in entries)
        n = t["number"]
        self.assertEqual(summaries, sorted([
            'Opened ticket #%s "My card was charged twice"' % n, "Was answered on ticket #%s" % n,
            "Wrote on ticket #%s" % n, "Ticket #%s solved" % n]))

        r = rest("GET", "/v1/tickets?status=TICKET_STATUS_SOLVED", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.json()["tickets"]], [tid])
        r = rest("GET", "/v1/tickets?customerId=%s" % cid, self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["tickets"]), 2)

    def test_bad_input(self):
        r = self.create()
        self.assertEqual(r.status, 200, r)
        tid = r.json()["id"]
        self.assertError(self.create(subject=""), 400, "INVALID_FIELD", "ticket.subject")
        self.assertError(self.create(tags=["not ok"]), 400, "INVALID_FIELD", "ticket.tags[0]")
        self.assertError(self.create(email="nobody"), 400, "INVALID_FIELD", "requester_email")
        r = rest("POST", "/v1/tickets", self.key, {"ticket": {"subject": "x"}, "bogus": 1,
                                                   "requestId": stack.unique("t")})
        self.assertError(r, 400, "UNKNOWN_FIELD")
        r = rest("POST", "/v1/tickets", self.key, raw=b'{"ticket": ',
                 headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "MALFORMED_BODY")
        r = rest("POST", "/v1/tickets", self.key,
                 {"ticket": {"subject": "x"}, "requesterEmail": "a@example.com",
                  "description": "d"})
        self.assertError(r, 400, "INVALID_FIELD", "request_id")
        self.assertError(rest("GET", "/v1/tickets/not-a-uuid", self.key), 400, "INVALID_FIELD",
                         "ticket_id")
        self.assertError(rest("GET", "/v1/tickets/%s" % uuid.uuid4(), self.key), 404,
                         "TICKET_NOT_FOUND")
        # Moves the status graph does not allow; a stale etag; a closed ticket.
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), self.key,
                 {"status": "TICKET_STATUS_CLOSED"})
        self.assertError(r, 400, "TICKET_STATUS_INVALID", "status")
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), self.key,
                 {"priority": "TICKET_PRIORITY_LOW"}, headers={"If-Match": "7"})
        self.assertError(r, 412, "ETAG_MISMATCH")
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s&updateMask=number" % (tid, stack.unique("u")),
                 self.key, {"number": "5"})
        self.assertError(r, 400, "INVALID_FIELD", "update_mask")
        for status in ("TICKET_STATUS_SOLVED", "TICKET_STATUS_CLOSED"):
            r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), self.key,
                     {"status": status})
            self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"kind": "MESSAGE_KIND_CUSTOMER", "body": "Hello?", "requestId": stack.unique("m")})
        self.assertError(r, 400, "TICKET_CLOSED")
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"body": "no kind", "requestId": stack.unique("m")})
        self.assertError(r, 400, "INVALID_FIELD", "kind")
        # The same request id with another body.
        rid = stack.unique("t")
        self.assertEqual(self.create(request_id=rid).status, 200)
        self.assertError(self.create(request_id=rid, subject="Other"), 422,
                         "IDEMPOTENCY_KEY_REUSED")

    def test_inbound_mail(self):
        """A mailbox, raw mail posted to it (the inbound webhook), threading,
        copies, machine mail, bad input and another tenant."""
        address = "%s@desk.example" % stack.unique("support")
        r = rest("POST", "/v1/mailboxes", self.key,
                 {"mailbox": {"address": address.upper(), "ownDomains": ["Desk.Example"]},
                  "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        mb = r.json()
        self.assertEqual(mb["address"], address)
        self.assertEqual(mb["ownDomains"], ["desk.example"])
        self.assertEqual(int(mb["reopenWindowSeconds"]), 14 * 24 * 3600)
        r = rest("GET", "/v1/mailboxes", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertIn(mb["id"], [m["id"] for m in r.json()["mailboxes"]])
        _, hook = stack.create_key(self.key, ["ROLE_INTEGRATION"])
        path = "/v1/mailboxes/%s/mail" % mb["id"]
        sender = "%s@example.com" % stack.unique("ada")
        first_id = "%s@mail.example.com" % stack.unique("m")

        def mail(msg_id, subject, body, extra=""):
            return ("From: =?UTF-8?B?7JWE64uk?= <%s>\r\nTo: Support <%s>\r\n"
                    "Subject: %s\r\nMessage-ID: <%s>\r\n%s"
                    "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
                    % (sender, address, subject, msg_id, extra, body)).encode("utf-8")

        def post(raw, key=hook, mailbox_path=path):
            return rest("POST", mailbox_path, key, raw=raw,
                        headers={"Content-Type": "message/rfc822"})

        r = post(mail(first_id, "Parcel missing", "My parcel never came."))
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertTrue(got["created"])
        self.assertEqual(got["threadRule"], "new")
        self.assertEqual(got["ticket"]["channel"], "TICKET_CHANNEL_EMAIL")
        self.assertEqual(got["ticket"]["subject"], "Parcel missing")
        self.assertEqual(got["ticket"]["requesterEmail"], sender)
        self.assertEqual(got["message"]["mailMessageId"], first_id)
        self.assertEqual(got["message"]["body"], "My parcel never came.")
        tid = got["ticket"]["id"]
        # The same mail again (a relay's retry): answered, nothing written.
        r = post(mail(first_id, "Parcel missing", "My parcel never came."))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["duplicate"])
        self.assertEqual(r.json()["ticket"]["id"], tid)
        self.assertEqual(rest("GET", "/v1/tickets/%s" % tid, self.key).json()["messageCount"], 1)

        # Our reply has a Message-ID; the customer's answer to it threads.
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "We are checking.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        ours = r.json()["message"]["mailMessageId"]
        self.assertTrue(ours.endswith("@desk.example"), ours)
        r = post(mail(stack.unique("m2") + "@mail.example.com", "Re: Parcel missing",
                      "Still nothing.", "In-Reply-To: <%s>\r\n" % ours))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ticket"]["id"], tid)
        self.assertEqual(r.json()["threadRule"], "in_reply_to")
        self.assertFalse(r.json().get("created", False))
        # An out-of-office answer: kept as a note, never the customer speaking.
        r = post(mail(stack.unique("oof") + "@mail.example.com", "Automatic reply", "Away.",
                      "Auto-Submitted: auto-replied\r\nIn-Reply-To: <%s>\r\n" % ours))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["machineReason"], "auto_submitted")
        self.assertEqual(r.json()["message"]["kind"], "MESSAGE_KIND_INTERNAL_NOTE")
        self.assertEqual(r.json()["ticket"]["id"], tid)

        # Bad input.
        self.assertError(post(b""), 400, "INVALID_FIELD", "raw_mime")
        self.assertError(post(b"this is not a mail"), 400, "INVALID_FIELD", "raw_mime")
        self.assertError(post(b"Subject: x\r\n\r\nno sender"), 400, "INVALID_FIELD", "from")
        self.assertError(post(mail("x@y", "s", "b"), mailbox_path="/v1/mailboxes/nope/mail"),
                         400, "INVALID_FIELD", "mailbox_id")
        self.assertError(post(mail("x@y", "s", "b"),
                              mailbox_path="/v1/mailboxes/%s/mail" % uuid.uuid4()),
                         404, "MAILBOX_NOT_FOUND")
        _, reader = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        self.assertEqual(post(mail("x@y", "s", "b"), key=reader).status, 403)
        r = rest("POST", "/v1/mailboxes", self.key,
                 {"mailbox": {"address": "not an address"}, "requestId": stack.unique("mb")})
        self.assertError(r, 400, "INVALID_FIELD", "mailbox.address")
        r = rest("PATCH", "/v1/mailboxes/%s?requestId=%s" % (mb["id"], stack.unique("u")),
                 self.key, {"address": "other@desk.example"})
        self.assertError(r, 400, "INVALID_FIELD", "update_mask")
        r = rest("PATCH", "/v1/mailboxes/%s?requestId=%s" % (mb["id"], stack.unique("u")),
                 self.key, {"sameSubjectWindowSeconds": "3600"}, headers={"If-Match": "1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "2")

        # Another tenant: the mailbox is not found, its address not to be had.
        _, other = stack.create_tenant()
        self.assertError(post(mail("x@y", "s", "b"), key=other), 404, "MAILBOX_NOT_FOUND")
        self.assertError(rest("GET", "/v1/mailboxes/%s" % mb["id"], other), 404,
                         "MAILBOX_NOT_FOUND")
        r = rest("PATCH", "/v1/mailboxes/%s?requestId=%s" % (mb["id"], stack.unique("u")),
                 other, {"sameSubjectWindowSeconds": "60"})
        self.assertError(r, 404, "MAILBOX_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/mailboxes", other).json().get("mailboxes", []), [])
        r = rest("POST", "/v1/mailboxes", other,
                 {"mailbox": {"address": address}, "requestId": stack.unique("mb")})
        self.assertError(r, 409, "MAILBOX_ADDRESS_TAKEN", "mailbox.address")

    def test_outbound_mail(self):
        """Auto-replies and public replies leave through delivery's SMTP
        (the sink) with the headers that thread them and keep machines
        quiet; an answer to them threads back; one auto-reply per sender a
        day; two desks answering each other stop."""
        address = "%s@desk.example" % stack.unique("help")
        r = rest("POST", "/v1/mailboxes", self.key,
                 {"mailbox": {"address": address, "name": "Example Support",
                              "autoReply": {"enabled": True,
                                            "body": "Hi {{requester.name}}, ticket "
                                                    "{{ticket.number}} is open."}},
                  "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        mb = r.json()
        self.assertTrue(mb["autoReply"]["enabled"])
        self.assertEqual(mb["name"], "Example Support")
        path = "/v1/mailboxes/%s/mail" % mb["id"]
        sender = "%s@example.com" % stack.unique("grace")
        first_id = "%s@mail.example.com" % stack.unique("m")

        def mail(msg_id, subject, body, frm=sender, to=address, extra=""):
            return ("From: Grace <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s"
                    "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
                    % (frm, to, subject, msg_id, extra, body)).encode("utf-8")

        def post(raw, key=self.key, mailbox_path=path):
            return rest("POST", mailbox_path, key, raw=raw,
                        headers={"Content-Type": "message/rfc822"})

        def sent_to(addr, n, timeout=30):
            found = []

            def ready():
                found[:] = [m for m in stack.mails() if m["X-Sink-Rcpt-To"] == addr]
                return len(found) >= n
            stack.wait_for("%d mails to %s" % (n, addr), ready, timeout)
            return found

        r = post(mail(first_id, "Parcel missing", "My parcel never came."))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["autoReply"], "sent")
        tid, number = r.json()["ticket"]["id"], r.json()["ticket"]["number"]
        cid = r.json()["ticket"]["customerId"]
        auto = sent_to(sender, 1)[0]
        self.assertEqual(auto["Auto-Submitted"], "auto-replied")
        self.assertEqual(auto["X-Auto-Response-Suppress"], "All")
        self.assertEqual(auto["X-Sink-Mail-From"], "<>")  # a null envelope sender
        self.assertEqual(auto["In-Reply-To"], "<%s>" % first_id)
        self.assertEqual(auto["References"], "<%s>" % first_id)
        self.assertIn(address, auto["From"])
        self.assertIn("Example Support", auto["From"])
        self.assertEqual(auto["Subject"], "Parcel missing [#%s]" % number)
        body = auto.get_payload(decode=True).decode()
        self.assertIn("Hi Grace, ticket %s is open." % number, body)
        self.assertIn("[ref:%s]" % tid, body)
        # A second matter the same day: its ticket, no second auto-reply.
        r = post(mail(stack.unique("m") + "@mail.example.com", "Invoice", "Where is it?"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["created"])
        self.assertEqual(r.json()["autoReply"], "answered_recently")

        # An agent's public reply goes out threaded, as the mailbox.
        r = rest("POST", "/v1/tickets/%s/messages" % tid, self.key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "We found it: it comes today.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        ours = r.json()["message"]["mailMessageId"]
        mails = sent_to(sender, 2)
        reply = [m for m in mails if m["Message-ID"] == "<%s>" % ours]
        self.assertEqual(len(reply), 1, [m["Message-ID"] for m in mails])
        reply = reply[0]
        self.assertEqual(reply["Subject"], "Re: Parcel missing [#%s]" % number)
        self.assertEqual(reply["In-Reply-To"], "<%s>" % first_id)
        self.assertIn("<%s>" % first_id, reply["References"])
        self.assertIsNone(reply["Auto-Submitted"])
        self.assertEqual(reply["X-Sink-Mail-From"], address)
        self.assertIn("We found it: it comes today.", reply.get_payload(decode=True).decode())
        # The customer answers it as any mail client would: it threads.
        r = post(mail(stack.unique("m") + "@mail.example.com", "Re: " + reply["Subject"],
                      "Thanks!", extra="In-Reply-To: %s\r\nReferences: %s %s\r\n"
                      % (reply["Message-ID"], reply["References"], reply["Message-ID"])))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ticket"]["id"], tid)
        self.assertEqual(r.json()["threadRule"], "in_reply_to")
        self.assertEqual(r.json()["autoReply"], "not_new_ticket")
        # Both are messages of delivery's ledger, naming the ticket.
        r = rest("GET", "/v1/customers/%s/messages" % cid, self.key)
        self.assertEqual(r.status, 200, r)
        desk = [m for m in r.json()["messages"] if m.get("ticketId") == tid]
        self.assertEqual(len(desk), 2, r.json())
        self.assertTrue(all(m["state"] == "MESSAGE_STATE_SENT" for m in desk), desk)

        # Two desks: B (another tenant) answers every new ticket too. B's
        # address writes to A; A's auto-reply, handed to B as an MTA would,
        # is machine mail to B: B answers nothing, and the exchange ends.
        _, key_b = stack.create_tenant()
        address_b = "%s@other.example" % stack.unique("help")
        r = rest("POST", "/v1/mailboxes", key_b,
                 {"mailbox": {"address": address_b, "autoReply": {"enabled": True}},
                  "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        path_b = "/v1/mailboxes/%s/mail" % r.json()["id"]
        r = post(mail(stack.unique("s") + "@other.example", "Status report", "All systems go.",
                      frm=address_b))
        self.assertEqual(r.json()["autoReply"], "sent")
        to_b = sent_to(address_b, 1)[0]
        r = post(to_b.as_bytes(), key=key_b, mailbox_path=path_b)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["machineReason"], "auto_submitted")
        self.assertEqual(r.json()["autoReply"], "machine")
        time.sleep(2)
        self.assertEqual([m for m in stack.mails() if m["X-Sink-Rcpt-To"] == address], [])
        self.assertEqual(len(sent_to(address_b, 1)), 1)

        # The mail the desk sends is internal: no API key reads it.
        pb = importlib.import_module("crm.service_desk.v1.service_desk_pb2")
        pb_grpc = importlib.import_module("crm.service_desk.v1.service_desk_pb2_grpc")
        channel = stack.grpc_channel()
        self.addCleanup(channel.close)
        with self.assertRaises(grpc.RpcError) as e:
            pb_grpc.ServiceDeskServiceStub(channel).GetOutboundMail(
                pb.GetOutboundMailRequest(ticket_id=tid, mail_id=str(uuid.uuid4())),
                metadata=stack.auth(self.key), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_smtp_listener(self):
        """Mail over SMTP to the service's listener: routed by the recipient's
        address to its mailbox and tenant, answered after the write; an
        unknown recipient is refused at RCPT; a bounce's null sender is kept
        as its Return-Path (a loop rule)."""
        import smtplib
        address = "%s@desk.example" % stack.unique("smtp")
        r = rest("POST", "/v1/mailboxes", self.key,
                 {"mailbox": {"address": address}, "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        mb = r.json()["id"]
        msg_id = "%s@mail.example.com" % stack.unique("smtp")
        raw = ("From: Ada <ada-smtp@example.com>\r\nTo: %s\r\nSubject: Over SMTP\r\n"
               "Message-ID: <%s>\r\n\r\n.A line with a leading dot.\r\n" % (address, msg_id))
        with smtplib.SMTP(stack.HOST, stack.port("service-desk", "smtp"), timeout=10) as smtp:
            code, caps = smtp.ehlo("e2e.example")
            self.assertEqual(code, 250)
            self.assertIn(b"PIPELINING", caps)
            refused = smtp.sendmail("ada-smtp@example.com", [address.upper()], raw)
            self.assertEqual(refused, {})
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                smtp.sendmail("ada-smtp@example.com", ["nobody-%s" % address], raw)
            self.assertEqual(cm.exception.recipients["nobody-%s" % address][0], 550)
            bounce = ("From: MAILER-DAEMON@mx.example.net\r\nTo: %s\r\nSubject: Undelivered\r\n"
                      "Message-ID: <%s>\r\n\r\nGone.\r\n" % (address, "b-" + msg_id))
            self.assertEqual(smtp.sendmail("", [address], bounce), {})
        # The same mails through the webhook: answered as copies of what SMTP
        # delivered (the ticket, the dot unstuffed, the null sender).
        r = rest("POST", "/v1/mailboxes/%s/mail" % mb, self.key, raw=raw.encode(),
                 headers={"Content-Type": "message/rfc822"})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertTrue(got["duplicate"])
        self.assertTrue(got["created"])
        self.assertEqual(got["message"]["body"], ".A line with a leading dot.")  # unstuffed
        self.assertEqual(got["ticket"]["subject"], "Over SMTP")
        r = rest("POST", "/v1/mailboxes/%s/mail" % mb, self.key, raw=bounce.encode(),
                 headers={"Content-Type": "message/rfc822"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["duplicate"])
        self.assertEqual(r.json()["machineReason"], "system_sender")

    def test_routing_rules(self):
        """The tenant's routing rules written whole under their etag; a new
        ticket routed by the first rule that holds; bad rules named; another
        tenant neither reads nor uses them."""
        _, own_key = stack.create_tenant()  # rules of their own: other tests unaffected
        r = rest("GET", "/v1/routingRules", own_key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("etag"), "0")
        rules = {"rules": [
            {"name": "Refunds", "conditions": [
                {"field": "subject", "match": "contains", "values": ["refund"]},
                {"field": "channel", "match": "in", "values": ["web_form", "email"]}],
             "action": {"queue": "billing", "priority": "TICKET_PRIORITY_HIGH",
                        "addTags": ["Money"]}},
            {"name": "Default", "action": {"queue": "general"}}]}
        r = rest("PUT", "/v1/routingRules?requestId=%s" % stack.unique("rr"), own_key, rules,
                 headers={"If-Match": "0"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "1")
        self.assertEqual(r.json()["rules"][0]["action"]["addTags"], ["money"])
        r = rest("PUT", "/v1/routingRules?requestId=%s" % stack.unique("rr"), own_key, rules,
                 headers={"If-Match": "0"})
        self.assertError(r, 412, "ETAG_MISMATCH")
        bad = {"rules": [{"name": "x", "conditions": [
            {"field": "planet", "match": "in", "values": ["mars"]}]}]}
        r = rest("PUT", "/v1/routingRules?requestId=%s" % stack.unique("rr"), own_key, bad)
        self.assertError(r, 400, "INVALID_FIELD", "rules[0].conditions[0].field")

        r = self.create(key=own_key, subject="Refund for order 7", channel="TICKET_CHANNEL_WEB_FORM")
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual((t["queue"], t["priority"]), ("billing", "TICKET_PRIORITY_HIGH"))
        self.assertEqual(t["tags"], ["billing", "money"])
        changes = rest("GET", "/v1/tickets/%s/changes" % t["id"], own_key).json()["changes"]
        self.assertEqual([(c["field"], c["newValue"], c["actor"]) for c in changes],
                         [("routing_rule", "Refunds", "routing")])
        r = self.create(key=own_key, subject="Hello", priority="TICKET_PRIORITY_LOW")
        self.assertEqual((r.json()["queue"], r.json()["priority"]),
                         ("general", "TICKET_PRIORITY_LOW"), r)
        # This class's tenant has no rules: its tickets are not routed.
        r = rest("GET", "/v1/routingRules", self.key)
        self.assertEqual(r.json().get("rules", []), [])
        r = self.create(subject="Refund for order 8")
        self.assertEqual(r.json().get("queue", ""), "", r)
        _, reader = stack.create_key(own_key, ["ROLE_READ_ONLY"])
        r = rest("PUT", "/v1/routingRules?requestId=%s" % stack.unique("rr"), reader, rules)
        self.assertEqual(r.status, 403, r)

    def test_routing_by_customer(self):
        """Rules on the requester's live segments and numbers from
        customer-store's 360 view: a customer in a segment is routed by it,
        an unknown CLV holds no rule, bad numeric conditions are named."""
        _, own_key = stack.create_tenant()
        seg_id = "noorders%s" % stack.unique("s")[-6:]
        r = rest("POST", "/v1/segments?requestId=%s" % stack.unique("req"), own_key,
                 {"segmentId": seg_id, "displayName": "No orders",
                  "expression": "NOT purchased(3650d)"})
        self.assertEqual(r.status, 200, r)
        customer = stack.new_customer(own_key, givenName="Grace")

        def member():
            v = rest("GET", "/v1/customers/%s/view" % customer, own_key).json()
            return any(m["segmentId"] == seg_id
                       for m in v.get("segments", {}).get("segments", []))
        stack.wait_for("the customer in segment %s" % seg_id, member, 20)
        bad = {"rules": [{"name": "x", "conditions": [
            {"field": "customer_clv", "match": "in", "values": ["1000"]}]}]}
        self.assertError(rest("PUT", "/v1/routingRules?requestId=%s" % stack.unique("rr"),
                              own_key, bad), 400, "INVALID_FIELD",
                         "rules[0].conditions[0].match")
        rules = {"rules": [
            {"name": "Valuable", "conditions": [
                {"field": "customer_clv", "match": "gte", "values": ["1000"]}],
             "action": {"queue": "retention"}},
            {"name": "Prospects", "conditions": [
                {"field": "customer_segment", "match": "in", "values": ["no orders"]}],
             "action": {"queue": "prospects", "addTags": ["prospect"]}}]}
        r = rest("PUT", "/v1/routingRules?requestId=%s" % stack.unique("rr"), own_key, rules,
                 headers={"If-Match": "0"})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/tickets", own_key,
                 {"ticket": {"subject": "Before I buy", "channel": "TICKET_CHANNEL_WEB_FORM"},
                  "customerId": customer, "description": "Do you ship to Busan?",
                  "requestId": stack.unique("t")})
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual(t["queue"], "prospects")  # no model: the CLV rule held not
        self.assertEqual(t["tags"], ["prospect"])
        changes = rest("GET", "/v1/tickets/%s/changes" % t["id"], own_key).json()["changes"]
        self.assertEqual([(c["field"], c["newValue"]) for c in changes],
                         [("routing_rule", "Prospects")])

    def test_ticket_context(self):
        """The web call center: a chat opened from the site shows the pages of
        the current visit and the customer's 360 view in one read."""
        def iso(seconds_ago):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))

        visitor = stack.unique("vis")
        email = "%s@example.com" % stack.unique("chat")
        events = [{"type": "page.viewed", "visitorId": visitor, "occurTime": iso(3 * 3600),
                   "properties": {"path": "/yesterday"}},
                  {"type": "page.viewed", "visitorId": visitor, "occurTime": iso(300),
                   "properties": {"path": "/pricing", "title": "Pricing"}},
                  {"type": "product.viewed", "visitorId": visitor, "occurTime": iso(180),
                   "properties": {"path": "/p/trail-shoe", "sku": "SKU-7"}},
                  {"type": "page.viewed", "visitorId": visitor, "occurTime": iso(60),
                   "properties": {"path": "/help/returns"}}]
        r = rest("POST", "/v1/events:track", self.key,
                 {"events": events, "requestId": stack.unique("trk")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["accepted"], 4, r)

        r = self.create(email=email, channel="TICKET_CHANNEL_CHAT", visitorId=visitor,
                        subject="Can I return the trail shoe?")
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual(t["visitorId"], visitor)
        r = rest("GET", "/v1/tickets/%s/context" % t["id"], self.key)
        self.assertEqual(r.status, 200, r)
        ctx = r.json()
        self.assertEqual(ctx["ticket"]["id"], t["id"])
        self.assertEqual({s["name"]: s.get("available", False) for s in ctx["sections"]},
                         {"visit": True, "customer": True}, ctx["sections"])
        visit = ctx["visit"]
        self.assertTrue(visit["found"], visit)
        self.assertEqual([e["properties"]["path"] for e in visit["events"]],
                         ["/pricing", "/p/trail-shoe", "/help/returns"])
        self.assertEqual(visit["events"][1]["properties"]["sku"], "SKU-7")
        self.assertEqual(visit["session"]["pageViews"], "2")
        self.assertEqual(visit["session"]["productViews"], "1")
        self.assertEqual(visit["session"]["landingPath"], "/pricing")
        self.assertNotIn("partial", visit)
        self.assertEqual(ctx["customer"]["customer"]["id"], t["customerId"])
        self.assertIn(email, ctx["customer"]["customer"]["emails"])

        # A mail ticket without a visitor id: the customer's own events
        # (none while the visitor is not linked to her), linked: hers.
        r = self.create(email=email)
        self.assertEqual(r.status, 200, r)
        mail = r.json()
        r = rest("GET", "/v1/tickets/%s/context" % mail["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json().get("visit", {}).get("found", False), r.json())
        r = rest("POST", "/v1/customers/%s:identify" % t["customerId"], self.key,
                 {"visitorId": visitor, "requestId": stack.unique("idf")})
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/v1/tickets/%s/context" % mail["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["visit"]["events"]), 3, r.json())

        # customer-store's own route: by visitor or customer, at an instant.
        r = rest("GET", "/v1/visits:current?visitorId=" + visitor, self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["events"]), 3)
        r = rest("GET", "/v1/visits:current?visitorId=%s&at=%s&eventLimit=1"
                 % (visitor, iso(3 * 3600 - 60)), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([e["properties"]["path"] for e in r.json()["events"]], ["/yesterday"])
        r = rest("GET", "/v1/visits:current?customerId=" + t["customerId"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["found"])
        self.assertError(rest("GET", "/v1/visits:current", self.key), 400, "INVALID_FIELD",
                         "visitor_id")
        self.assertError(rest("GET", "/v1/visits:current?visitorId=a%20b", self.key), 400,
                         "INVALID_FIELD", "visitor_id")
        self.assertError(rest("GET", "/v1/visits:current?visitorId=v&eventLimit=501", self.key),
                         400, "INVALID_FIELD", "event_limit")

        # Bad input, another tenant.
        r = self.create(visitorId="not a visitor id")
        self.assertError(r, 400, "INVALID_FIELD", "ticket.visitor_id")
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "/v1/tickets/%s/context" % t["id"], other), 404,
                         "TICKET_NOT_FOUND")
        r = rest("GET", "/v1/visits:current?visitorId=" + visitor, other)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("found", r.json())
        r = rest("GET", "/v1/visits:current?customerId=" + t["customerId"], other)
        self.assertEqual(r.status, 404, r)

    def test_attachments(self):
        """Files uploaded raw, put on a reply, listed with the thread, downloaded
        as they were; a mail's parts kept; only in the tenant."""
        r = self.create()
        self.assertEqual(r.status, 200, r)
        t = r.json()
        base = "/v1/tickets/%s/attachments" % t["id"]
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
        r = rest("POST", base + "?filename=" + quote("Rechnung März.pdf"), self.key, raw=pdf,
                 headers={"Content-Type": "application/pdf"})
        self.assertEqual(r.status, 200, r)
        up = r.json()
        self.assertEqual(up["filename"], "Rechnung März.pdf")
        self.assertEqual(up["contentType"], "application/pdf")
        self.assertEqual(int(up["size"]), len(pdf))
        self.assertNotIn("messageId", up)
        self.assertEqual(len(up["sha256"]), 64)
        # The same file again: the same upload.
        r = rest("POST", base + "?filename=" + quote("Rechnung März.pdf"), self.key, raw=pdf,
                 headers={"Content-Type": "application/pdf"})
        self.assertEqual(r.json()["id"], up["id"])

        r = rest("POST", "/v1/tickets/%s/messages" % t["id"], self.key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "Your invoice is attached.",
                  "attachmentIds": [up["id"]], "requestId": stack.unique("msg")})
        self.assertEqual(r.status, 200, r)
        msg = r.json()["message"]
        self.assertEqual([a["id"] for a in msg["attachments"]], [up["id"]])
        self.assertEqual(msg["attachments"][0]["messageId"], msg["id"])
        r = rest("GET", "/v1/tickets/%s/messages" % t["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["messages"][-1]["attachments"][0]["filename"], "Rechnung März.pdf")

        r = rest("GET", "%s/%s" % (base, up["id"]), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, pdf)
        self.assertEqual(r.header("content-type"), "application/pdf")
        self.assertEqual(r.header("x-content-type-options"), "nosniff")
        self.assertIn("attachment;", r.header("content-disposition"))
        self.assertIn("filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf", r.header("content-disposition"))
        _, reader = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        self.assertEqual(rest("GET", "%s/%s" % (base, up["id"]), reader).status, 200)
        self.assertEqual(rest("POST", base + "?filename=x.txt", reader, raw=b"x",
                              headers={"Content-Type": "text/plain"}).status, 403)

        # Bad input.
        self.assertError(rest("POST", base, self.key, raw=b"x",
                              headers={"Content-Type": "text/plain"}), 400, "INVALID_FIELD",
                         "filename")
        self.assertError(rest("POST", base + "?filename=a%2Fb.txt", self.key, raw=b"x",
                              headers={"Content-Type": "text/plain"}), 400, "INVALID_FIELD",
                         "filename")
        # Over the gateway's upload limit (CRM_MAX_UPLOAD_BYTES, 1 MiB in this
        # stack): refused before the service (which refuses over 10 MiB with
        # ATTACHMENT_TOO_LARGE, also 413).
        self.assertError(rest("POST", base + "?filename=big.bin", self.key,
                              raw=b"x" * (stack.MAX_UPLOAD_BYTES + 1),
                              headers={"Content-Type": "application/octet-stream"}),
                         413, "BODY_TOO_LARGE")
        self.assertError(rest("POST", "/v1/tickets/%s/messages" % t["id"], self.key,
                              {"kind": "MESSAGE_KIND_INTERNAL_NOTE", "body": "again",
                               "attachmentIds": [up["id"]], "requestId": stack.unique("msg")}),
                         404, "ATTACHMENT_NOT_FOUND", "attachment_ids")
        self.assertError(rest("GET", "%s/%s" % (base, "not-a-uuid"), self.key), 400,
                         "INVALID_FIELD", "attachment_id")

        # Another tenant: nothing to see, nothing to upload to.
        _, other = stack.create_tenant()
        self.assertError(rest("GET", "%s/%s" % (base, up["id"]), other), 404,
                         "ATTACHMENT_NOT_FOUND")
        self.assertError(rest("POST", base + "?filename=x.txt", other, raw=b"x",
                              headers={"Content-Type": "text/plain"}), 404, "TICKET_NOT_FOUND")

        # A mail's attachment, through the inbound webhook.
        address = "%s@desk.example" % stack.unique("files")
        r = rest("POST", "/v1/mailboxes", self.key,
                 {"mailbox": {"address": address}, "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        mailbox = r.json()["id"]
        raw = ("From: Ada <%s@example.com>\r\nTo: %s\r\nSubject: Photo\r\n"
               "Message-ID: <%s@example.com>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
               "Content-Type: text/plain\r\n\r\nThe box was crushed.\r\n--b1\r\n"
               "Content-Type: image/png\r\nContent-Disposition: attachment; filename=box.png\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b1--\r\n"
               % (stack.unique("ada"), address, stack.unique("m"))).encode()
        r = rest("POST", "/v1/mailboxes/%s/mail" % mailbox, self.key, raw=raw,
                 headers={"Content-Type": "message/rfc822"})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        files = got["message"]["attachments"]
        self.assertEqual([(f["filename"], f["contentType"], f["uploadedBy"]) for f in files],
                         [("box.png", "image/png", "mail")])
        r = rest("GET", "/v1/tickets/%s/attachments/%s" % (got["ticket"]["id"], files[0]["id"]),
                 self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"\x89PNG\r\n\x1a\n")

        # The agent's reply to that mail leaves with its files (multipart/mixed
        # through delivery's SMTP), the UTF-8 name kept.
        mail_ticket = got["ticket"]
        r = rest("POST", "/v1/tickets/%s/attachments?filename=%s" % (
            mail_ticket["id"], quote("Rücksendeschein.pdf")), self.key, raw=pdf,
            headers={"Content-Type": "application/pdf"})
        self.assertEqual(r.status, 200, r)
        r = rest("POST", "/v1/tickets/%s/messages" % mail_ticket["id"], self.key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "Please print the label.",
                  "attachmentIds": [r.json()["id"]], "requestId": stack.unique("msg")})
        self.assertEqual(r.status, 200, r)
        to = mail_ticket["requesterEmail"]
        found = []

        def mailed():
            found[:] = [m for m in stack.mails() if m["X-Sink-Rcpt-To"] == to]
            return found
        stack.wait_for("the reply with its file to %s" % to, mailed, 30)
        sent = found[0]
        self.assertEqual(sent.get_content_type(), "multipart/mixed")
        parts = [p for p in sent.walk() if not p.is_multipart()]
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertIn("Please print the label.", parts[0].get_payload(decode=True).decode())
        self.assertEqual(parts[1].get_content_type(), "application/pdf")
        self.assertEqual(parts[1].get_filename(), "Rücksendeschein.pdf")
        self.assertEqual(parts[1].get_payload(decode=True), pdf)

    def test_merge_and_split(self):
        """A mail ticket merged into a phone ticket of the same person: its
        thread, files and mail move, it closes naming the target, replies to
        its mail thread there; a split takes a message to a ticket of its
        own; bad input, roles and another tenant."""
        address = "%s@desk.example" % stack.unique("merge")
        r = rest("POST", "/v1/mailboxes", self.key,
                 {"mailbox": {"address": address}, "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        mailbox = r.json()["id"]
        sender = "%s@example.com" % stack.unique("ada")
        first_id = "%s@example.com" % stack.unique("m")

        def mail(msg_id, subject, body, extra=""):
            raw = ("From: Ada <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
                   % (sender, address, subject, msg_id, extra, body)).encode()
            return rest("POST", "/v1/mailboxes/%s/mail" % mailbox, self.key, raw=raw,
                        headers={"Content-Type": "message/rfc822"})

        r = mail(first_id, "Parcel missing", "My parcel never came.")
        self.assertEqual(r.status, 200, r)
        source = r.json()["ticket"]
        r = self.create(email=sender, channel="TICKET_CHANNEL_PHONE")
        self.assertEqual(r.status, 200, r)
        target = r.json()
        self.assertEqual(target["customerId"], source["customerId"])
        r = rest("POST", "/v1/tickets/%s/attachments?filename=label.txt" % source["id"], self.key,
                 raw=b"tracking 123", headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 200, r)
        upload = r.json()["id"]

        merge = "/v1/tickets/%s:merge" % source["id"]
        request_id = stack.unique("merge")
        r = rest("POST", merge, self.key, {"targetTicketId": target["id"], "requestId": request_id})
        self.assertEqual(r.status, 200, r)
        merged = r.json()
        self.assertEqual(merged["id"], target["id"])
        self.assertEqual(merged["messageCount"], 3)  # its own, the mail, the note
        again = rest("POST", merge, self.key,
                     {"targetTicketId": target["id"], "requestId": request_id})
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json()["etag"], merged["etag"])
        r = rest("GET", "/v1/tickets/%s" % source["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "TICKET_STATUS_CLOSED")
        self.assertEqual(r.json()["mergedIntoTicketId"], target["id"])
        r = rest("GET", "/v1/tickets/%s/messages" % target["id"], self.key)
        self.assertEqual(r.status, 200, r)
        bodies = [m["body"] for m in r.json()["messages"]]
        self.assertIn("My parcel never came.", bodies)
        self.assertIn("#%s" % source["number"], bodies[-1])
        r = rest("GET", "/v1/tickets/%s/attachments/%s" % (target["id"], upload), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"tracking 123")
        r = rest("GET", "/v1/tickets/%s/changes" % source["id"], self.key)
        self.assertEqual([(c["field"], c.get("newValue")) for c in r.json()["changes"]][-2:],
                         [("status", "closed"), ("merged_into", target["id"])])
        self.assertError(rest("POST", merge, self.key, {"targetTicketId": target["id"],
                                                        "requestId": stack.unique("merge")}),
                         400, "TICKET_CLOSED")

        # Ada answers her first mail: it threads into the target.
        r = mail("%s@example.com" % stack.unique("m"), "Re: Parcel missing", "Still nothing.",
                 "In-Reply-To: <%s>\r\n" % first_id)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ticket"]["id"], target["id"])
        self.assertEqual(r.json()["threadRule"], "in_reply_to")
        moved = r.json()["message"]["id"]

        # The split: her latest message to a ticket of its own.
        split = "/v1/tickets/%s:split" % target["id"]
        r = rest("POST", split, self.key, {"messageIds": [moved], "subject": "Second parcel",
                                           "requestId": stack.unique("split")})
        self.assertEqual(r.status, 200, r)
        created = r.json()
        self.assertNotEqual(created["id"], target["id"])
        self.assertEqual(created["subject"], "Second parcel")
        self.assertEqual(created["status"], "TICKET_STATUS_OPEN")
        self.assertEqual(created["customerId"], target["customerId"])
        self.assertEqual(created["messageCount"], 2)
        r = rest("GET", "/v1/tickets/%s/messages" % created["id"], self.key)
        self.assertEqual([m["id"] for m in r.json()["messages"]][0], moved)

        # Bad input, roles, another tenant.
        self.assertError(rest("POST", split, self.key, {"messageIds": [moved],
                                                        "requestId": stack.unique("split")}),
                         404, "MESSAGE_NOT_FOUND", "message_ids")
        self.assertError(rest("POST", split, self.key, {"messageIds": ["nope"],
                                                        "requestId": stack.unique("split")}),
                         400, "INVALID_FIELD", "message_ids[0]")
        self.assertError(rest("POST", split, self.key, {"messageIds": [],
                                                        "requestId": stack.unique("split")}),
                         400, "INVALID_FIELD", "message_ids")
        other_ticket = self.create().json()
        self.assertError(rest("POST", "/v1/tickets/%s:merge" % other_ticket["id"], self.key,
                              {"targetTicketId": other_ticket["id"],
                               "requestId": stack.unique("merge")}),
                         400, "INVALID_FIELD", "target_ticket_id")
        self.assertError(rest("POST", "/v1/tickets/%s:merge" % other_ticket["id"], self.key,
                              {"targetTicketId": target["id"]}), 400, "INVALID_FIELD",
                         "request_id")
        self.assertError(rest("POST", "/v1/tickets/%s:merge" % other_ticket["id"], self.key,
                              {"targetTicketId": target["id"], "requestId": "x",
                               "comment": "unknown field"}), 400, "UNKNOWN_FIELD", "comment")
        self.assertError(rest("POST", "/v1/tickets/%s:merge" % other_ticket["id"], self.key,
                              {"targetTicketId": str(uuid.uuid4()),
                               "requestId": stack.unique("merge")}),
                         404, "TICKET_NOT_FOUND", "target_ticket_id")
        _, reader = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        self.assertEqual(rest("POST", "/v1/tickets/%s:merge" % other_ticket["id"], reader,
                              {"targetTicketId": target["id"],
                               "requestId": stack.unique("merge")}).status, 403)
        _, other = stack.create_tenant()
        self.assertError(rest("POST", "/v1/tickets/%s:merge" % other_ticket["id"], other,
                              {"targetTicketId": target["id"],
                               "requestId": stack.unique("merge")}),
                         404, "TICKET_NOT_FOUND")
        self.assertError(rest("POST", split, other, {"messageIds": [moved],
                                                     "requestId": stack.unique("split")}),
                         404, "TICKET_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/tickets/%s" % other_ticket["id"],
                              self.key).json()["status"], "TICKET_STATUS_NEW")

    def test_roles_and_tenants(self):
        r = self.create()
        self.assertEqual(r.status, 200, r)
        tid = r.json()["id"]
        _, reader = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        self.assertEqual(rest("GET", "/v1/tickets/%s" % tid, reader).status, 200)
        self.assertEqual(self.create(key=reader).status, 403)
        _, marketer = stack.create_key(self.key, ["ROLE_MARKETER"])
        self.assertEqual(self.create(key=marketer).status, 403)
        _, agent = stack.create_key(self.key, ["ROLE_SERVICE"])
        self.assertEqual(self.create(key=agent).status, 200)

        _, other = stack.create_tenant()
        for method, path, body in (
                ("GET", "/v1/tickets/%s" % tid, None),
                ("GET", "/v1/tickets/%s/messages" % tid, None),
                ("GET", "/v1/tickets/%s/changes" % tid, None),
                ("PATCH", "/v1/tickets/%s?requestId=x1" % tid, {"priority": "TICKET_PRIORITY_LOW"}),
                ("POST", "/v1/tickets/%s/messages" % tid,
                 {"kind": "MESSAGE_KIND_INTERNAL_NOTE", "body": "x", "requestId": "x2"})):
            self.assertError(rest(method, path, other, body), 404, "TICKET_NOT_FOUND")
        r = rest("GET", "/v1/tickets", other)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json().get("tickets", []), [])

    def test_sla(self):
        _, key = stack.create_tenant()
        self.assertError(rest("GET", "/v1/slaPolicy", key), 404, "SLA_POLICY_NOT_FOUND")
        policy = {"hours": {"alwaysOpen": True},
                  "targetsByPriority": {"normal": {"firstReplySeconds": "3600",
                                                   "resolutionSeconds": "86400"}},
                  "pausedStatuses": ["TICKET_STATUS_PENDING_CUSTOMER"],
                  "warnBeforeSeconds": "600", "escalationSeconds": ["1800"]}
        def put(body, etag="", k=None):
            return rest("PUT", "/v1/slaPolicy?requestId=" + stack.unique("sla"), k or key, body,
                        headers={"If-Match": etag} if etag else None)
        bad = dict(policy, hours={"timeZone": "Europe/Berlin",
                                  "week": [{"intervals": [{"start": "09:00", "end": "25:00"}]}]})
        self.assertError(put(bad), 400, "INVALID_FIELD", "policy.hours.week[0].intervals[0].end")
        bad = dict(policy, hours={"timeZone": "Mars/Olympus", "week": [
            {"intervals": [{"start": "09:00", "end": "17:00"}]}]})
        self.assertError(put(bad), 400, "INVALID_FIELD", "policy.hours")
        bad = dict(policy, pausedStatuses=["TICKET_STATUS_SOLVED"])
        self.assertError(put(bad), 400, "INVALID_FIELD", "policy.paused_statuses")
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        self.assertEqual(put(policy, k=agent).status, 403)
        r = put(policy, etag="0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "1")
        self.assertError(put(policy, etag="0"), 412, "ETAG_MISMATCH")
        r = rest("GET", "/v1/slaPolicy", key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["targetsByPriority"]["normal"]["firstReplySeconds"], "3600")

        r = self.create(key=key)
        self.assertEqual(r.status, 200, r)
        t = r.json()
        created = datetime.fromisoformat(t["createTime"].replace("Z", "+00:00"))
        r = rest("GET", "/v1/tickets/%s/sla" % t["id"], key)
        self.assertEqual(r.status, 200, r)
        sla = r.json()
        self.assertEqual(sla["policyEtag"], "1")
        metrics = {m["metric"]: m for m in sla["metrics"]}
        self.assertEqual(sorted(metrics), ["SLA_METRIC_FIRST_REPLY", "SLA_METRIC_RESOLUTION"])
        first = metrics["SLA_METRIC_FIRST_REPLY"]
        due = datetime.fromisoformat(first["deadline"].replace("Z", "+00:00"))
        self.assertEqual((due - created).total_seconds(), 3600)  # 24/7: plain addition
        warn = datetime.fromisoformat(first["warnTime"].replace("Z", "+00:00"))
        self.assertEqual((due - warn).total_seconds(), 600)
        self.assertNotIn("breachTime", first)
        self.assertEqual(sla["timeZone"], "UTC")
        # In the viewer's zone: the same instant as a local time with its offset.
        r = rest("GET", "/v1/tickets/%s/sla?timeZone=Asia/Seoul" % t["id"], key)
        self.assertEqual(r.status, 200, r)
        seoul = {m["metric"]: m for m in r.json()["metrics"]}["SLA_METRIC_FIRST_REPLY"]
        self.assertTrue(seoul["deadlineLocal"].endswith("+09:00"), seoul)
        self.assertEqual(datetime.fromisoformat(seoul["deadlineLocal"]), due)
        self.assertEqual(r.json()["timeZone"], "Asia/Seoul")
        self.assertError(rest("GET", "/v1/tickets/%s/sla?timeZone=Mars/Base" % t["id"], key),
                         400, "INVALID_FIELD", "time_zone")
        self.assertError(rest("GET", "/v1/tickets/%s/sla?timeZone=../../etc/passwd" % t["id"],
                              key), 400, "INVALID_FIELD", "time_zone")
        r = rest("POST", "/v1/tickets/%s/messages" % t["id"], key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "On it.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        r = rest("GET", "/v1/tickets/%s/sla" % t["id"], key)
        first = {m["metric"]: m for m in r.json()["metrics"]}["SLA_METRIC_FIRST_REPLY"]
        self.assertIn("fulfillTime", first)
        self.assertNotIn("deadline", first)
        # Another tenant: the ticket is not found; its own policy is absent.
        self.assertError(rest("GET", "/v1/tickets/%s/sla" % t["id"], self.key), 404,
                         "TICKET_NOT_FOUND")

    def test_sla_policies(self):
        # Policies chosen by conditions: a ticket tagged vip is under the
        # vip policy; untagged, under none (no default written); its moves
        # are its audit rows.
        _, key = stack.create_tenant()
        vip = {"id": "vip", "name": "VIP customers",
               "conditions": [{"field": "tags", "match": "in", "values": ["vip"]}],
               "policy": {"hours": {"alwaysOpen": True},
                          "targetsByPriority": {"normal": {"firstReplySeconds": "600"}}}}
        def put(policies, etag="", k=None):
            return rest("PUT", "/v1/slaPolicies?requestId=" + stack.unique("slap"), k or key,
                        {"policies": policies}, headers={"If-Match": etag} if etag else None)
        r = rest("GET", "/v1/slaPolicies", key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"etag": "0"})
        bad = dict(vip, conditions=[{"field": "description", "match": "in", "values": ["x"]}])
        self.assertError(put([bad]), 400, "INVALID_FIELD", "policies[0].conditions[0].field")
        bad = dict(vip, policy={"hours": {"timeZone": "Mars/Olympus"}})
        self.assertError(put([vip, dict(bad, id="b")]), 400, "INVALID_FIELD",
                         "policies[1].policy.hours")
        self.assertError(put([vip, vip]), 400, "INVALID_FIELD", "policies[1].id")
        self.assertError(put([dict(vip, id="default")]), 400, "INVALID_FIELD", "policies[0].id")
        self.assertError(put([dict(vip, extra=1)]), 400, "UNKNOWN_FIELD")
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        self.assertEqual(put([vip], k=agent).status, 403)
        r = put([vip], etag="0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "1")
        self.assertEqual(r.json()["policies"][0]["id"], "vip")
        self.assertError(put([vip], etag="0"), 412, "ETAG_MISMATCH")
        self.assertError(rest("GET", "/v1/slaPolicy", key), 404, "SLA_POLICY_NOT_FOUND")

        r = self.create(key=key, tags=["VIP"])
        self.assertEqual(r.status, 200, r)
        t = r.json()
        created = datetime.fromisoformat(t["createTime"].replace("Z", "+00:00"))
        due = datetime.fromisoformat(t["slaDueTime"].replace("Z", "+00:00"))
        self.assertEqual((due - created).total_seconds(), 600)
        sla = rest("GET", "/v1/tickets/%s/sla" % t["id"], key).json()
        self.assertEqual(sla["policy"], "vip")
        self.assertEqual(sla["policyEtag"], "1")
        r = self.create(key=key, tags=[])
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("slaDueTime", r.json())
        sla = rest("GET", "/v1/tickets/%s/sla" % r.json()["id"], key).json()
        self.assertNotIn("policy", sla)
        self.assertNotIn("metrics", sla)

        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (t["id"], stack.unique("p")), key,
                 {"tags": ["billing"]})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("slaDueTime", r.json())
        changes = rest("GET", "/v1/tickets/%s/changes" % t["id"], key).json()["changes"]
        moves = [c for c in changes if c["field"] == "sla_policy"]
        self.assertEqual(len(moves), 1, changes)
        self.assertEqual((moves[0]["oldValue"], moves[0].get("newValue", ""), moves[0]["actor"]),
                         ("vip", "", "sla"))
        # Another tenant: its own (empty) list; the ticket is not found.
        r = rest("GET", "/v1/slaPolicies", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("policies", r.json())
        self.assertError(rest("GET", "/v1/tickets/%s/sla" % t["id"], self.key), 404,
                         "TICKET_NOT_FOUND")

    def test_agents_and_assignment(self):
        # Agents written by admins; a routing rule assigns new tickets
        # round robin among the available agents of the queue with the
        # skill, within capacity; availability set by desk writers.
        _, key = stack.create_tenant()
        def put(agent_id, body, etag="", k=None):
            return rest("PUT", "/v1/agents/%s?requestId=%s" % (agent_id, stack.unique("ag")),
                        k or key, body, headers={"If-Match": etag} if etag else None)
        ann = {"name": "Ann", "queues": ["billing"], "skills": ["German"], "capacity": 2,
               "available": True}
        self.assertError(put("ann", dict(ann, capacity=5000)), 400, "INVALID_FIELD",
                         "agent.capacity")
        self.assertError(put("ann", dict(ann, skills=["two words"])), 400, "INVALID_FIELD",
                         "agent.skills[0]")
        self.assertError(put("ann%20smith", ann), 400, "INVALID_FIELD", "agent_id")
        self.assertError(put("ann", dict(ann, colour="red")), 400, "UNKNOWN_FIELD")
        _, agent_key = stack.create_key(key, ["ROLE_SERVICE"])
        self.assertEqual(put("ann", ann, k=agent_key).status, 403)
        r = put("ann", ann, etag="0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "1")
        self.assertEqual(r.json()["skills"], ["german"])
        self.assertError(put("ann", ann, etag="0"), 412, "ETAG_MISMATCH")
        self.assertEqual(put("bob", dict(ann, name="Bob")).status, 200)
        self.assertError(rest("GET", "/v1/agents/zed", key), 404, "AGENT_NOT_FOUND")
        rule = {"name": "Billing to the team",
                "conditions": [{"field": "subject", "match": "contains", "values": ["invoice"]}],
                "action": {"queue": "billing", "assign": "ASSIGN_MODE_ROUND_ROBIN",
                           "skills": ["german"]}}
        r = rest("PUT", "/v1/routingRules?requestId=" + stack.unique("rr"), key, {"rules": [rule]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["rules"][0]["action"]["assign"], "ASSIGN_MODE_ROUND_ROBIN")
        assigned = []
        for i in range(5):
            r = self.create(key=key, subject="Invoice %d is wrong" % i)
            self.assertEqual(r.status, 200, r)
            assigned.append(r.json().get("assignee", ""))
        self.assertEqual(assigned, ["ann", "bob", "ann", "bob", ""])
        changes = rest("GET", "/v1/tickets/%s/changes" % r.json()["id"], key).json()["changes"]
        self.assertNotIn("assignee", [c["field"] for c in changes])
        r = rest("GET", "/v1/agents", key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(a["id"], a["openTickets"]) for a in r.json()["agents"]],
                         [("ann", 2), ("bob", 2)])
        # Bob goes off shift (an agent's key may say so); ann gets room.
        r = rest("POST", "/v1/agents/bob/availability", agent_key,
                 {"available": False, "requestId": stack.unique("av")})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("available", r.json())
        r = put("ann", dict(ann, capacity=3), etag="1")
        self.assertEqual(r.status, 200, r)
        r = self.create(key=key, subject="Invoice 6")
        self.assertEqual(r.json().get("assignee"), "ann")
        # Bob back with room for one more; ann leaves and hands her three
        # new tickets over: bob takes one, two go to nobody.
        r = put("bob", dict(ann, name="Bob", capacity=3))
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["available"], r.json()["openTickets"]), (True, 2))
        self.assertError(rest("POST", "/v1/agents/ann/availability", agent_key,
                              {"available": False, "reassign": 7,
                               "requestId": stack.unique("av")}), 400, "INVALID_FIELD",
                         "reassign")
        r = rest("POST", "/v1/agents/ann/availability", agent_key,
                 {"available": False, "reassign": "ASSIGN_MODE_LEAST_BUSY",
                  "requestId": stack.unique("av")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json().get("reassignedTickets", 0),
                          r.json().get("releasedTickets", 0)), (1, 2))
        self.assertNotIn("openTickets", r.json())
        r = rest("GET", "/v1/agents/bob", key)
        self.assertEqual(r.json()["openTickets"], 3)
        # Another tenant: no agents; ours are not found there.
        self.assertError(rest("GET", "/v1/agents/ann", self.key), 404, "AGENT_NOT_FOUND")
        self.assertError(rest("POST", "/v1/agents/ann/availability", self.key,
                              {"available": True, "requestId": stack.unique("av")}), 404,
                         "AGENT_NOT_FOUND")
        self.assertNotIn("agents", rest("GET", "/v1/agents", self.key).json())

    def test_macros(self):
        # An admin writes a macro; an agent tries it (dry run: nothing
        # written), then applies it: the reply filled in, the status and
        # tags changed, a row naming the macro.
        _, key = stack.create_tenant()
        macro = {"name": "Ask for the order number",
                 "reply": "Please send the order number of #{{ticket.number}} "
                          "({{ticket.subject}}).",
                 "status": "TICKET_STATUS_PENDING_CUSTOMER", "addTags": ["needs-info"]}
        def create(body, k=None):
            return rest("POST", "/v1/macros", k or key,
                        {"macro": body, "requestId": stack.unique("mc")})
        self.assertError(create(dict(macro, reply="Dear {{customer.name}}")), 400,
                         "INVALID_FIELD", "macro.reply")
        self.assertError(create({"name": "Nothing"}), 400, "INVALID_FIELD", "macro")
        self.assertError(create(dict(macro, addTags=["two words"])), 400, "INVALID_FIELD",
                         "macro.add_tags[0]")
        self.assertError(create(dict(macro, colour="red")), 400, "UNKNOWN_FIELD")
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        self.assertEqual(create(macro, k=agent).status, 403)
        r = create(macro)
        self.assertEqual(r.status, 200, r)
        m = r.json()
        self.assertEqual(m["etag"], "1")
        r = rest("GET", "/v1/macros", agent)
        self.assertEqual([x["id"] for x in r.json()["macros"]], [m["id"]])

        r = self.create(key=key, subject="Parcel missing")
        self.assertEqual(r.status, 200, r)
        t = r.json()
        path = "/v1/tickets/%s/applyMacro" % t["id"]
        r = rest("POST", path, agent, {"macroId": m["id"], "dryRun": True})
        self.assertEqual(r.status, 200, r)
        dry = r.json()
        self.assertTrue(dry["dryRun"])
        self.assertEqual(dry["ticket"]["status"], "TICKET_STATUS_PENDING_CUSTOMER")
        self.assertEqual(dry["message"]["body"],
                         "Please send the order number of #%s (Parcel missing)." % t["number"])
        self.assertEqual([c["field"] for c in dry["changes"]], ["status", "tags"])
        self.assertEqual(rest("GET", "/v1/tickets/%s" % t["id"], key).json()["etag"], "1")
        self.assertError(rest("POST", path, agent, {"macroId": m["id"]}), 400,
                         "INVALID_FIELD", "request_id")
        r = rest("POST", path, agent, {"macroId": m["id"], "requestId": stack.unique("ap")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ticket"]["status"], "TICKET_STATUS_PENDING_CUSTOMER")
        self.assertIn("needs-info", r.json()["ticket"]["tags"])
        changes = rest("GET", "/v1/tickets/%s/changes" % t["id"], key).json()["changes"]
        self.assertEqual(changes[-1]["field"], "macro")
        self.assertEqual(changes[-1]["newValue"], "Ask for the order number")
        messages = rest("GET", "/v1/tickets/%s/messages" % t["id"], key).json()["messages"]
        self.assertEqual(messages[-1]["kind"], "MESSAGE_KIND_PUBLIC_REPLY")
        # Update under the etag, delete; another tenant sees none of it.
        r = rest("PUT", "/v1/macros/%s?requestId=%s" % (m["id"], stack.unique("mu")), key,
                 dict(macro, name="Order number, please"), headers={"If-Match": "1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "2")
        self.assertError(rest("GET", "/v1/macros/%s" % m["id"], self.key), 404, "MACRO_NOT_FOUND")
        self.assertError(rest("POST", "/v1/tickets/%s/applyMacro" % t["id"], self.key,
                              {"macroId": m["id"], "dryRun": True}), 404, "TICKET_NOT_FOUND")
        self.assertError(rest("DELETE", "/v1/macros/%s?requestId=x" % m["id"], self.key), 404,
                         "MACRO_NOT_FOUND")
        r = rest("DELETE", "/v1/macros/%s?requestId=%s" % (m["id"], stack.unique("md")), key,
                 headers={"If-Match": "2"})
        self.assertEqual(r.status, 200, r)
        self.assertError(rest("GET", "/v1/macros/%s" % m["id"], key), 404, "MACRO_NOT_FOUND")

    def test_triggers(self):
        # An admin writes triggers (bad ones refused with the field named),
        # tries them on a ticket (dry run: nothing written); then a VIP's
        # new ticket is raised and noted by them, an agent's reply moves it
        # on; every change names its trigger; another tenant sees none.
        _, key = stack.create_tenant()
        vip = {"id": "vip", "name": "VIP tickets", "active": True,
               "events": ["TRIGGER_EVENT_CREATED"],
               "conditions": [{"field": "requester_domain", "match": "in",
                               "values": ["vip.example"]}],
               "action": {"priority": "TICKET_PRIORITY_URGENT", "addTags": ["vip"]},
               "note": "VIP #{{ticket.number}} from {{requester.email}}"}
        pending = {"id": "reply-pending", "name": "Replied: wait for the customer",
                   "active": True, "events": ["TRIGGER_EVENT_AGENT_MESSAGE"],
                   "conditions": [{"field": "status", "match": "in", "values": ["open"]}],
                   "action": {"status": "TICKET_STATUS_PENDING_CUSTOMER"}}
        def put(body, etag="", k=None):
            return rest("PUT", "/v1/triggers?requestId=%s" % stack.unique("tr"), k or key, body,
                        headers={"If-Match": etag} if etag else None)
        self.assertError(put({"triggers": [dict(vip, events=[])]}), 400, "INVALID_FIELD",
                         "triggers[0].events")
        self.assertError(put({"triggers": [vip, dict(pending, id="vip")]}), 400,
                         "INVALID_FIELD", "triggers[1].id")
        self.assertError(put({"triggers": [dict(vip, conditions=[
            {"field": "status", "match": "changed", "values": ["open"]}])]}), 400,
            "INVALID_FIELD", "triggers[0].conditions[0].values")
        self.assertError(put({"triggers": [dict(vip, colour="red")]}), 400, "UNKNOWN_FIELD")
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        self.assertEqual(put({"triggers": [vip]}, k=agent).status, 403)
        self.assertEqual(rest("GET", "/v1/triggers", agent).json().get("triggers", []), [])

        t = self.create(key=key, email="ada@vip.example").json()
        self.assertEqual(t["priority"], "TICKET_PRIORITY_NORMAL")  # no triggers yet
        r = rest("POST", "/v1/triggers/dryRun", key,
                 {"ticketIds": [t["id"]], "event": "TRIGGER_EVENT_CREATED",
                  "triggers": {"triggers": [vip, pending]}})
        self.assertEqual(r.status, 200, r)
        trial = r.json()["trials"][0]
        self.assertEqual(trial["ticket"]["priority"], "TICKET_PRIORITY_URGENT")
        self.assertEqual([f["triggerId"] for f in trial["fired"]], ["vip"])
        self.assertEqual(trial["fired"][0]["note"], "VIP #%s from ada@vip.example" % t["number"])
        self.assertEqual(rest("GET", "/v1/tickets/%s" % t["id"], key).json()["etag"], "1")
        self.assertError(rest("POST", "/v1/triggers/dryRun", key,
                              {"ticketIds": ["nope"], "event": "TRIGGER_EVENT_CREATED"}),
                         400, "INVALID_FIELD", "ticket_ids[0]")
        self.assertError(rest("POST", "/v1/triggers/dryRun", key, {"ticketIds": [t["id"]]}),
                         400, "INVALID_FIELD", "event")
        self.assertError(rest("POST", "/v1/triggers/dryRun", self.key,
                              {"ticketIds": [t["id"]], "event": "TRIGGER_EVENT_CREATED"}),
                         404, "TICKET_NOT_FOUND")

        r = put({"triggers": [vip, pending]}, etag="0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "1")
        self.assertError(put({"triggers": []}, etag="0"), 412, "ETAG_MISMATCH")
        t = self.create(key=key, email="bob@vip.example").json()
        self.assertEqual(t["priority"], "TICKET_PRIORITY_URGENT")
        self.assertEqual(sorted(t["tags"]), ["billing", "vip"])
        messages = rest("GET", "/v1/tickets/%s/messages" % t["id"], key).json()["messages"]
        self.assertEqual([m["kind"] for m in messages],
                         ["MESSAGE_KIND_CUSTOMER", "MESSAGE_KIND_INTERNAL_NOTE"])
        self.assertEqual(messages[1]["author"], "trigger/vip")
        r = rest("POST", "/v1/tickets/%s/messages" % t["id"], agent,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "On it.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["ticket"]["status"], "TICKET_STATUS_PENDING_CUSTOMER")
        changes = rest("GET", "/v1/tickets/%s/changes" % t["id"], key).json()["changes"]
        # The reply's own move (new -> open, by the agent), then the trigger's.
        self.assertEqual([(c["field"], c["newValue"]) for c in changes],
                         [("priority", "urgent"), ("tags", "billing,vip"), ("status", "open"),
                          ("status", "pending_customer")])
        self.assertEqual([c["actor"] for c in changes][:2], ["trigger/vip", "trigger/vip"])
        self.assertEqual(changes[3]["actor"], "trigger/reply-pending")
        # Another tenant: none of it.
        self.assertEqual(rest("GET", "/v1/triggers", self.key).json().get("triggers", []), [])
        theirs = self.create(email="cat@vip.example").json()
        self.assertEqual(theirs["priority"], "TICKET_PRIORITY_NORMAL")

    def test_automations(self):
        # An admin writes automations (bad ones refused with the field
        # named); every role reads them; another tenant sees none. (Their
        # firing, hours later, is tested on PostgreSQL with a set clock:
        # tests/integration/service_desk.)
        _, key = stack.create_tenant()
        close = {"id": "close-waiting", "name": "Close after two days", "active": True,
                 "since": "AUTOMATION_CLOCK_STATUS_CHANGED", "hours": 48,
                 "conditions": [{"field": "status", "match": "in",
                                 "values": ["pending_customer"]}],
                 "action": {"status": "TICKET_STATUS_SOLVED", "addTags": ["auto-solved"]},
                 "note": "Solved by {{agent}}."}
        def put(body, etag="", k=None):
            return rest("PUT", "/v1/automations?requestId=%s" % stack.unique("au"), k or key,
                        body, headers={"If-Match": etag} if etag else None)
        self.assertError(put({"automations": [dict(close, hours=0)]}), 400, "INVALID_FIELD",
                         "automations[0].hours")
        self.assertError(put({"automations": [dict(close, since="AUTOMATION_CLOCK_UNSPECIFIED")]}),
                         400, "INVALID_FIELD", "automations[0].since")
        self.assertError(put({"automations": [dict(close, conditions=[
            {"field": "status", "match": "changed"}])]}), 400, "INVALID_FIELD",
            "automations[0].conditions[0].match")
        self.assertError(put({"automations": [close, close]}), 400, "INVALID_FIELD",
                         "automations[1].id")
        self.assertError(put({"automations": [dict(close, colour="red")]}), 400, "UNKNOWN_FIELD")
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        self.assertEqual(put({"automations": [close]}, k=agent).status, 403)
        r = put({"automations": [close]}, etag="0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "1")
        self.assertError(put({"automations": []}, etag="0"), 412, "ETAG_MISMATCH")
        got = rest("GET", "/v1/automations", agent).json()
        self.assertEqual([a["id"] for a in got["automations"]], ["close-waiting"])
        self.assertEqual(got["automations"][0]["hours"], 48)
        self.assertEqual(got["automations"][0]["action"]["addTags"], ["auto-solved"])
        self.assertEqual(rest("GET", "/v1/automations", self.key).json().get("automations", []),
                         [])
        # What "status changed" counts from is on every ticket.
        t = self.create(key=key).json()
        self.assertEqual(t["statusChangeTime"], t["createTime"])
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (t["id"], stack.unique("u")), key,
                 {"status": "TICKET_STATUS_PENDING_CUSTOMER"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["statusChangeTime"], r.json()["updateTime"])

    def test_knowledge_base_and_search(self):
        # Agents write articles (bad input refused with the field named; a
        # read-only key may read, not write), edit them under the etag with
        # every version kept, and search articles and tickets at once after
        # the writes; another tenant finds nothing.
        _, key = stack.create_tenant()
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        _, reader = stack.create_key(key, ["ROLE_READ_ONLY"])
        article = {"title": "How refunds work", "category": "billing",
                   "body": "Refunds reach your card in 5 to 10 days.",
                   "state": "ARTICLE_STATE_PUBLIC"}
        def create(body, k=None):
            return rest("POST", "/v1/articles", k or agent,
                        {"article": body, "requestId": stack.unique("ar")})
        self.assertError(create(dict(article, title="")), 400, "INVALID_FIELD", "article.title")
        self.assertError(create(dict(article, locale="english")), 400, "INVALID_FIELD",
                         "article.locale")
        self.assertError(create(dict(article, colour="red")), 400, "UNKNOWN_FIELD")
        self.assertEqual(create(article, k=reader).status, 403)
        r = create(article)
        self.assertEqual(r.status, 200, r)
        a = r.json()
        self.assertEqual((a["etag"], a["locale"], a["author"]), ("1", "en", a["author"]))
        r = rest("PUT", "/v1/articles/%s?requestId=%s" % (a["id"], stack.unique("au")), agent,
                 dict(article, body="Refunds reach your card in 3 to 5 days."),
                 headers={"If-Match": "1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["etag"], "2")
        self.assertError(rest("PUT", "/v1/articles/%s?requestId=%s" % (a["id"], stack.unique("au")),
                              agent, article, headers={"If-Match": "1"}), 412, "ETAG_MISMATCH")
        versions = rest("GET", "/v1/articles/%s/versions" % a["id"], reader).json()["versions"]
        self.assertEqual([v["etag"] for v in versions], ["2", "1"])
        listed = rest("GET", "/v1/articles?category=billing", reader).json()["articles"]
        self.assertEqual([x["id"] for x in listed], [a["id"]])
        self.assertEqual(rest("GET", "/v1/articles?category=other", reader).json()
                         .get("articles", []), [])
        self.assertError(rest("GET", "/v1/articles?state=archived", reader), 400,
                         "INVALID_FIELD", "state")

        t = self.create(key=key, subject="Refund not received").json()
        r = rest("GET", "/v1/search?q=refunds%20card", reader)
        self.assertEqual(r.status, 200, r)
        found = r.json()
        self.assertEqual([h["article"]["id"] for h in found["articles"]], [a["id"]])
        self.assertIn("<b>", found["articles"][0]["snippet"])
        self.assertEqual(found.get("tickets", []), [])  # the ticket says "charged", no card
        r = rest("GET", "/v1/search?q=refund&scope=SEARCH_SCOPE_TICKETS", reader)
        self.assertEqual([h["ticketId"] for h in r.json()["tickets"]], [t["id"]])
        self.assertEqual(r.json().get("articles", []), [])
        self.assertError(rest("GET", "/v1/search?q=", reader), 400, "INVALID_FIELD", "q")
        self.assertError(rest("GET", "/v1/search?q=refund&limit=51", reader), 400,
                         "INVALID_FIELD", "limit")
        # Another tenant: nothing of it.
        self.assertEqual(rest("GET", "/v1/search?q=refund", self.key).json()
                         .get("articles", []), [])
        self.assertError(rest("GET", "/v1/articles/%s" % a["id"], self.key), 404,
                         "ARTICLE_NOT_FOUND")
        self.assertError(rest("DELETE", "/v1/articles/%s?requestId=%s" % (a["id"],
                                                                        stack.unique("ad")),
                              self.key), 404, "ARTICLE_NOT_FOUND")
        r = rest("DELETE", "/v1/articles/%s?requestId=%s" % (a["id"], stack.unique("ad")), agent,
                 headers={"If-Match": "2"})
        self.assertEqual(r.status, 200, r)
        self.assertError(rest("GET", "/v1/articles/%s" % a["id"], reader), 404,
                         "ARTICLE_NOT_FOUND")

    def test_suggestions(self):
        # An agent pastes a question and gets the articles, macros and past
        # answers like it (a read-only key too: it writes nothing); bad input
        # named; another tenant gets nothing.
        _, key = stack.create_tenant()
        _, reader = stack.create_key(key, ["ROLE_READ_ONLY"])
        r = rest("POST", "/v1/articles", key,
                 {"article": {"title": "When refunds arrive",
                              "body": "A refund reaches your card in 5 to 10 days.",
                              "state": "ARTICLE_STATE_INTERNAL"},
                  "requestId": stack.unique("ar")})
        self.assertEqual(r.status, 200, r)
        article = r.json()
        r = rest("POST", "/v1/macros", key,
                 {"macro": {"name": "Refund on its way",
                            "reply": "Your refund is on its way to your card."},
                  "requestId": stack.unique("mc")})
        self.assertEqual(r.status, 200, r)
        macro = r.json()
        t = self.create(key=key, subject="Refund late").json()
        r = rest("POST", "/v1/tickets/%s/messages" % t["id"], key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY",
                  "body": "Refunds take 5 days to reach your card.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        question = "When will my refund reach my card?"
        r = rest("POST", "/v1/suggestions", reader, {"text": question})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual([h["article"]["id"] for h in got["articles"]], [article["id"]])
        self.assertEqual([h["macroId"] for h in got["macros"]], [macro["id"]])
        self.assertEqual([(h["ticketId"], h["answer"]) for h in got["answers"]],
                         [(t["id"], "Refunds take 5 days to reach your card.")])
        self.assertIn("<b>", got["answers"][0]["snippet"])
        self.assertError(rest("POST", "/v1/suggestions", reader, {"text": ""}), 400,
                         "INVALID_FIELD", "text")
        self.assertError(rest("POST", "/v1/suggestions", reader,
                              {"text": question, "limit": 11}), 400, "INVALID_FIELD", "limit")
        self.assertError(rest("POST", "/v1/suggestions", reader,
                              {"text": question, "colour": "red"}), 400, "UNKNOWN_FIELD")
        # Another tenant: nothing of it.
        got = rest("POST", "/v1/suggestions", self.key, {"text": question}).json()
        self.assertEqual((got.get("articles", []), got.get("macros", [])), ([], []))
        self.assertNotIn(t["id"], [h["ticketId"] for h in got.get("answers", [])])

    def test_classifiers(self):
        # An admin trains classifiers (NDJSON examples, or the tenant's
        # solved tickets) and reads their reports; new tickets get their
        # predictions (a queue filled in mode auto); bad input is refused
        # with the field named; agents read, only admins write; another
        # tenant sees none of it.
        import json
        _, key = stack.create_tenant()
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        texts = {"cards": ["my card has not arrived", "card delivery is late",
                           "new card never came", "where is my card"],
                 "refunds": ["I want a refund", "refund my order", "money back please",
                             "the refund has not arrived"]}
        lines = [json.dumps({"text": "%s %d" % (t, i), "label": label})
                 for i in range(2) for label, ts in texts.items() for t in ts]
        ndjson = ("\n".join(lines) + "\n").encode()

        def train(target, body, k=None, query="", ctype="application/x-ndjson"):
            return rest("POST", "/v1/classifiers/%s/train%s" % (target, query), k or key,
                        raw=body, headers={"Content-Type": ctype})
        r = train("queue", ndjson, query="?mode=auto&precisionTarget=0.5")
        self.assertEqual(r.status, 200, r)
        c = r.json()
        self.assertEqual((c["target"], c["mode"], c["source"], c["etag"]),
                         ("queue", "auto", "examples", "1"))
        self.assertEqual(c["report"]["examples"], 16)
        self.assertEqual((c["report"]["labels"], c["report"]["heldOut"]), (2, 1))
        self.assertEqual([k["label"] for k in c["report"]["classes"]], ["cards"])  # held out
        self.assertEqual(train("queue", ndjson, k=agent).status, 403)
        self.assertError(train("planet", ndjson), 400, "INVALID_FIELD", "target")
        self.assertError(train("queue", ndjson, query="?mode=often"), 400, "INVALID_FIELD",
                         "mode")
        self.assertError(train("queue", ndjson + b"not json\n"), 400, "INVALID_FIELD",
                         "examples")
        self.assertError(train("intent", b""), 400, "INVALID_FIELD", "examples")
        self.assertEqual(train("queue", ndjson, ctype="text/csv").status, 415)
        # From the tenant's solved tickets: too few of them yet.
        self.assertError(train("type", b""), 400, "INVALID_FIELD", "examples")

        def create_card_ticket():
            return rest("POST", "/v1/tickets", key,
                        {"ticket": {"subject": "Card", "channel": "TICKET_CHANNEL_WEB_FORM"},
                         "requesterEmail": "%s@example.com" % stack.unique("req"),
                         "description": "my card has not arrived",
                         "requestId": stack.unique("t")})
        t = create_card_ticket()
        self.assertEqual(t.status, 200, t)
        ticket = t.json()
        self.assertEqual(len(ticket["predictions"]), 1)
        p = ticket["predictions"][0]
        self.assertEqual((p["target"], p["label"]), ("queue", "cards"))
        if p.get("applied"):
            self.assertEqual(ticket["queue"], "cards")
        got = rest("GET", "/v1/tickets/%s" % ticket["id"], agent).json()
        self.assertEqual(got["predictions"][0]["label"], "cards")
        # The drift alarm's counts: an agent moves a filled ticket.
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (ticket["id"], stack.unique("u")),
                 agent, {"queue": "fraud"})
        self.assertEqual(r.status, 200, r)
        drift = rest("GET", "/v1/classifiers/queue", agent).json().get("drift", {})
        filled = "1" if p.get("applied") else None  # int64 as a JSON string; 0 left out
        self.assertEqual((drift.get("applied"), drift.get("corrected")), (filled, filled))
        self.assertNotIn("alarm", drift)

        r = rest("GET", "/v1/classifiers", agent)
        self.assertEqual([x["target"] for x in r.json()["classifiers"]], ["queue"])
        r = rest("PATCH", "/v1/classifiers/queue", key, {"mode": "suggest"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["mode"], r.json()["etag"]), ("suggest", "2"))
        self.assertError(rest("PATCH", "/v1/classifiers/queue", key, {"mode": ""}), 400,
                         "INVALID_FIELD", "mode")
        self.assertEqual(rest("PATCH", "/v1/classifiers/queue", agent,
                              {"mode": "auto"}).status, 403)
        # Another tenant: none of it.
        self.assertError(rest("GET", "/v1/classifiers/queue", self.key), 404,
                         "CLASSIFIER_NOT_FOUND")
        self.assertError(rest("DELETE", "/v1/classifiers/queue", self.key), 404,
                         "CLASSIFIER_NOT_FOUND")
        self.assertEqual(rest("GET", "/v1/classifiers", self.key).json()
                         .get("classifiers", []), [])
        r = rest("DELETE", "/v1/classifiers/queue", key)
        self.assertEqual(r.status, 200, r)
        self.assertError(rest("GET", "/v1/classifiers/queue", agent), 404,
                         "CLASSIFIER_NOT_FOUND")
        self.assertEqual(create_card_ticket().json().get("predictions", []), [])

    def test_auto_response(self):
        # A macro bound to an intent answers a person's question of that
        # intent at once, through delivery's SMTP as an automatic mail; a
        # label is one macro's; the report counts what was answered; agents
        # read it, another tenant sees none of it.
        import json
        _, key = stack.create_tenant()
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        texts = {"cards": ["my card has not arrived", "card delivery is late",
                           "new card never came", "where is my card"],
                 "refunds": ["I want a refund", "refund my order", "money back please",
                             "the refund has not arrived"]}
        lines = [json.dumps({"text": "%s %d" % (t, i), "label": label})
                 for i in range(3) for label, ts in texts.items() for t in ts]
        r = rest("POST", "/v1/classifiers/intent/train?precisionTarget=0.5", key,
                 raw=("\n".join(lines) + "\n").encode(),
                 headers={"Content-Type": "application/x-ndjson"})
        self.assertEqual(r.status, 200, r)
        macro = {"name": "Card on its way",
                 "reply": "Your card for #{{ticket.number}} was sent on Monday.",
                 "status": "TICKET_STATUS_PENDING_CUSTOMER", "addTags": ["auto-answered"],
                 "intents": [" cards "], "autoRespond": True}

        def create(body, k=None):
            return rest("POST", "/v1/macros", k or key,
                        {"macro": body, "requestId": stack.unique("mc")})
        self.assertError(create(dict(macro, reply="")), 400, "INVALID_FIELD",
                         "macro.auto_respond")
        self.assertError(create(dict(macro, internal=True)), 400, "INVALID_FIELD",
                         "macro.auto_respond")
        self.assertError(create(dict(macro, intents=["x" * 65])), 400, "INVALID_FIELD",
                         "macro.intents[0]")
        r = create(macro)
        self.assertEqual(r.status, 200, r)
        m = r.json()
        self.assertEqual((m["intents"], m["autoRespond"]), (["cards"], True))
        self.assertError(create(dict(macro, name="Another", autoRespond=False)), 409,
                         "INTENT_BOUND")

        address = "%s@desk.example" % stack.unique("cards")
        r = rest("POST", "/v1/mailboxes", key,
                 {"mailbox": {"address": address, "autoReply": {"enabled": True}},
                  "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        path = "/v1/mailboxes/%s/mail" % r.json()["id"]
        sender = "%s@example.com" % stack.unique("ada")
        question_id = "%s@mail.example.com" % stack.unique("q")
        raw = ("From: Ada <%s>\r\nTo: <%s>\r\nSubject: Card\r\nMessage-ID: <%s>\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nmy card has not arrived\r\n"
               % (sender, address, question_id)).encode()
        r = rest("POST", path, key, raw=raw, headers={"Content-Type": "message/rfc822"})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual((got["autoResponse"], got["autoReply"]), ("sent", "auto_response"))
        self.assertEqual(got["ticket"]["status"], "TICKET_STATUS_PENDING_CUSTOMER")
        self.assertEqual(got["ticket"]["tags"], ["auto-answered"])
        number = got["ticket"]["number"]

        def mails_to(addr):
            return [x for x in stack.mails() if x["X-Sink-Rcpt-To"] == addr]
        stack.wait_for("the auto-response", lambda: mails_to(sender), 30)
        answer = mails_to(sender)[0]
        self.assertEqual(answer["Auto-Submitted"], "auto-replied")
        self.assertEqual(answer["In-Reply-To"], "<%s>" % question_id)
        self.assertEqual(answer["Subject"], "Re: Card [#%s]" % number)
        self.assertIn("Your card for #%s was sent on Monday." % number,
                      answer.get_payload(decode=True).decode())
        time.sleep(1)
        self.assertEqual(len(mails_to(sender)), 1)  # no acknowledgement besides

        r = rest("GET", "/v1/autoResponseReport?days=7", agent)
        self.assertEqual(r.status, 200, r)
        report = r.json()
        self.assertEqual(report["total"]["questions"], "1")  # int64: a JSON string
        self.assertEqual(report["total"]["autoResponded"], "1")
        self.assertEqual(report["coverage"], 1)
        self.assertEqual([x["label"] for x in report["labels"]], ["cards"])
        self.assertGreater(report["heldOutCoverage"], 0)
        self.assertError(rest("GET", "/v1/autoResponseReport?days=999", agent), 400,
                         "INVALID_FIELD", "days")
        r = rest("GET", "/v1/autoResponseReport", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("questions", r.json().get("total", {}))

    def test_surveys(self):
        # An admin turns CSAT on; a solved ticket's survey goes out through
        # delivery's SMTP with a link the customer answers without a key,
        # once; a bad rating reopens the ticket; the report counts it;
        # bad input is refused; agents read; another tenant sees nothing.
        import re
        _, key = stack.create_tenant()
        _, agent = stack.create_key(key, ["ROLE_SERVICE"])
        r = rest("POST", "/v1/mailboxes", key,
                 {"mailbox": {"address": "%s@desk.example" % stack.unique("help"),
                              "name": "Example Support"},
                  "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)

        def put(body, k=None, etag=None):
            return rest("PUT", "/v1/surveySettings?requestId=%s" % stack.unique("ss"), k or key,
                        body, headers={"If-Match": etag} if etag else None)
        self.assertError(put({"csatEnabled": True, "cooldownDays": 400}), 400, "INVALID_FIELD",
                         "settings.cooldown_days")
        self.assertError(put({"csatEnabled": True, "body": "Rate us"}), 400, "INVALID_FIELD",
                         "settings.body")
        self.assertEqual(put({"csatEnabled": True}, k=agent).status, 403)
        r = put({"csatEnabled": True, "csatDelaySeconds": "0", "reopenBelow": 3,
                 "subject": "Rate ticket {{ticket.number}}"}, etag="0")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["etag"], r.json()["reopenBelow"]), ("1", 3))
        self.assertError(put({"csatEnabled": True}, etag="0"), 412, "ETAG_MISMATCH")
        got = rest("GET", "/v1/surveySettings", agent).json()
        self.assertTrue(got["csatEnabled"])
        self.assertEqual(got.get("csatDelaySeconds", "0"), "0")

        # A rule for bad ratings (triggers of survey_answered).
        r = rest("PUT", "/v1/triggers?requestId=%s" % stack.unique("tr"), key,
                 {"triggers": [{"id": "bad-csat", "name": "Bad CSAT", "active": True,
                                "events": ["TRIGGER_EVENT_SURVEY_ANSWERED"],
                                "conditions": [{"field": "survey_kind", "match": "in",
                                                "values": ["csat"]},
                                               {"field": "survey_rating", "match": "in",
                                                "values": ["1", "2"]}],
                                "action": {"addTags": ["bad_csat"]}}]})
        self.assertEqual(r.status, 200, r)

        email = "%s@example.com" % stack.unique("ada")
        t = self.create(email=email, key=key, subject="Parcel missing")
        self.assertEqual(t.status, 200, t)
        tid, number = t.json()["id"], t.json()["number"]
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (tid, stack.unique("u")), agent,
                 {"status": "TICKET_STATUS_SOLVED"})
        self.assertEqual(r.status, 200, r)

        def surveys_to(addr):
            return [m for m in stack.mails() if m["X-Sink-Rcpt-To"] == addr]
        stack.wait_for("the survey mail", lambda: surveys_to(email), 30)
        mail = surveys_to(email)[0]
        self.assertEqual(mail["Subject"], "Rate ticket %s" % number)
        self.assertEqual(mail["Auto-Submitted"], "auto-replied")
        text = mail.get_payload(decode=True).decode()
        link = re.search(r"http://[^/\s]+(/t/v/[^\s]+)", text).group(1)
        # No API key below: the customer has none.
        page = rest("GET", link)
        self.assertEqual(page.status, 200, page)
        self.assertIn(b"How satisfied", page.body)
        self.assertEqual(rest("HEAD", link).status, 200)
        bad = link[:-1] + ("A" if link[-1] != "A" else "B")
        self.assertEqual(rest("POST", bad, raw=b"rating=5").status, 404)
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        self.assertEqual(rest("POST", link, raw=b"rating=9", headers=form).status, 400)
        r = rest("POST", link, raw=b"rating=2&reason=slow&comment=Took+a+week%21",
                 headers=form)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"Thank you", r.body)
        self.assertEqual(rest("POST", link, raw=b"rating=5", headers=form).status, 409)
        # Rated below 3: the ticket is open again, with the customer's words.
        t = rest("GET", "/v1/tickets/%s" % tid, agent).json()
        self.assertEqual(t["status"], "TICKET_STATUS_OPEN")
        self.assertIn("bad_csat", t["tags"])  # and the rule told it
        notes = rest("GET", "/v1/tickets/%s/messages" % tid, agent).json()["messages"]
        self.assertIn("rated 2 of 5 (slow): Took a week!", notes[-1]["body"])

        # The answer is on the customer's timeline too (customer-store).
        cid = t["customerId"]

        def rated():
            r = rest("GET", "/v1/customers/%s/interactions" % cid, key)
            return [i for i in r.json().get("interactions", [])
                    if i.get("summary") == "Rated the help on ticket #%s 2 of 5" % number]
        stack.wait_for("the rating on the timeline", rated, 30)
        r = rest("GET", "/v1/surveyReport?days=1", agent)
        self.assertEqual(r.status, 200, r)
        total = r.json()["total"]
        self.assertEqual((total["sent"], total["answered"]), ("1", "1"))
        self.assertEqual(total["average"], 2)
        self.assertEqual([x.get("value", "") for x in r.json()["byChannel"]],
                         ["email"])
        self.assertError(rest("GET", "/v1/surveyReport?days=400", agent), 400, "INVALID_FIELD",
                         "days")
        r = rest("GET", "/v1/surveyReport", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("sent", r.json().get("total", {}))
        self.assertFalse(rest("GET", "/v1/surveySettings", self.key).json()
                         .get("csatEnabled", False))

        # NPS on: a new customer's first solve asks NPS (0..10) instead.
        r = put({"csatEnabled": True, "csatDelaySeconds": "0", "npsEnabled": True,
                 "npsEveryDays": 90}, etag="1")
        self.assertEqual(r.status, 200, r)
        email = "%s@example.com" % stack.unique("bob")
        t = self.create(email=email, key=key, subject="Invoice")
        r = rest("PATCH", "/v1/tickets/%s?requestId=%s" % (t.json()["id"], stack.unique("u")),
                 agent, {"status": "TICKET_STATUS_SOLVED"})
        self.assertEqual(r.status, 200, r)
        stack.wait_for("the NPS mail", lambda: surveys_to(email), 30)
        mail = surveys_to(email)[0]
        self.assertEqual(mail["Subject"], "How likely are you to recommend us?")
        text = mail.get_payload(decode=True).decode()
        link = re.search(r"http://[^/\s]+(/t/v/[^\s]+)", text).group(1)
        self.assertIn(b"recommend us", rest("GET", link).body)
        self.assertEqual(rest("POST", link, raw=b"rating=10", headers=form).status, 200)
        nps = rest("GET", "/v1/surveyReport?days=1", agent).json()["nps"]
        self.assertEqual((nps["answered"], nps["promoters"], nps["score"]), ("1", "1", 100))
        self.assertEqual(len(rest("GET", "/v1/surveyReport?days=1", agent).json()
                             ["npsByMonth"]), 1)

    def test_sla_report(self):
        # A 24/7 policy with a first reply in an hour: one ticket replied at
        # once (met), one not replied; the report over the creation range.
        _, key = stack.create_tenant()
        policy = {"hours": {"alwaysOpen": True},
                  "targetsByPriority": {"normal": {"firstReplySeconds": "3600"}}}
        r = rest("PUT", "/v1/slaPolicy?requestId=" + stack.unique("sla"), key, policy)
        self.assertEqual(r.status, 200, r)
        replied = self.create(key=key).json()
        self.create(key=key, queue="other")
        r = rest("POST", "/v1/tickets/%s/messages" % replied["id"], key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "On it.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        created = datetime.fromisoformat(replied["createTime"].replace("Z", "+00:00"))
        def report(query, k=None):
            return rest("GET", "/v1/reports/sla?" + query, k or key)
        start = (created - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        end = (created + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = report("startTime=%s&endTime=%s" % (start, end))
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual((body["tickets"], body["underSla"]), ("2", "2"))
        first = body["firstReply"]
        self.assertEqual((first["done"], first["met"]), ("1", "1"))
        self.assertNotIn("breached", first)
        self.assertEqual(first["metPercent"], 100)
        self.assertLess(first["p50Seconds"], 60)
        self.assertNotIn("p50Seconds", body["resolution"])
        r = report("startTime=%s&endTime=%s&queue=other" % (start, end))
        self.assertEqual(r.json()["tickets"], "1")
        self.assertError(report("startTime=%s&endTime=%s" % (end, start)), 400, "INVALID_FIELD",
                         "end_time")
        self.assertError(report("endTime=%s" % end), 400, "INVALID_FIELD", "start_time")
        self.assertEqual(report("startTime=yesterday&endTime=%s" % end).status, 400)
        # Another tenant: its own (empty) report over the same range.
        r = report("startTime=%s&endTime=%s" % (start, end), self.key)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("underSla", r.json())

    def test_sla_sweeper(self):
        # A 24/7 policy with a first reply due in 2 s: the ticket's stored
        # instant is its deadline, then the breach (1 s later) and the
        # escalation; the service's sweeper moves it on as each one comes,
        # until nothing more is due. Replied tickets leave the work list.
        _, key = stack.create_tenant()
        policy = {"hours": {"alwaysOpen": True},
                  "targetsByPriority": {"urgent": {"firstReplySeconds": "2"},
                                        "normal": {"firstReplySeconds": "3600"}},
                  "escalationSeconds": ["1"]}
        r = rest("PUT", "/v1/slaPolicy?requestId=" + stack.unique("sla"), key, policy)
        self.assertEqual(r.status, 200, r)
        r = self.create(key=key, priority="TICKET_PRIORITY_URGENT")
        self.assertEqual(r.status, 200, r)
        urgent = r.json()
        created = datetime.fromisoformat(urgent["createTime"].replace("Z", "+00:00"))
        due = datetime.fromisoformat(urgent["slaDueTime"].replace("Z", "+00:00"))
        self.assertEqual((due - created).total_seconds(), 2)
        r = self.create(key=key)
        self.assertEqual(r.status, 200, r)
        normal = r.json()
        r = rest("GET", "/v1/tickets?orderBy=sla_due_time", key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([t["id"] for t in r.json()["tickets"]], [urgent["id"], normal["id"]])
        self.assertError(rest("GET", "/v1/tickets?orderBy=priority", key), 400, "INVALID_FIELD",
                         "order_by")
        # Deadline at 2 s, level 1 at 3 s; the sweeper looks every second.
        t = None
        for _ in range(100):
            t = rest("GET", "/v1/tickets/%s" % urgent["id"], key).json()
            if "slaDueTime" not in t:
                break
            time.sleep(0.1)
        self.assertNotIn("slaDueTime", t, "the sweeper did not move the ticket's SLA instant on")
        sla = rest("GET", "/v1/tickets/%s/sla" % urgent["id"], key).json()
        first = {m["metric"]: m for m in sla["metrics"]}["SLA_METRIC_FIRST_REPLY"]
        self.assertEqual(first.get("escalationLevel"), 1, first)
        breach = datetime.fromisoformat(first["breachTime"].replace("Z", "+00:00"))
        self.assertEqual((breach - created).total_seconds(), 2)
        r = rest("GET", "/v1/tickets?orderBy=sla_due_time", key)
        self.assertEqual([t["id"] for t in r.json()["tickets"]], [normal["id"]])
        r = rest("POST", "/v1/tickets/%s/messages" % normal["id"], key,
                 {"kind": "MESSAGE_KIND_PUBLIC_REPLY", "body": "On it.",
                  "requestId": stack.unique("m")})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("slaDueTime", r.json()["ticket"])
        r = rest("GET", "/v1/tickets?orderBy=sla_due_time", key)
        self.assertEqual(r.json().get("tickets", []), [])
        # Another tenant's work list holds none of them.
        r = rest("GET", "/v1/tickets?orderBy=sla_due_time", self.key)
        self.assertEqual(r.status, 200, r)
        self.assertFalse({t["id"] for t in r.json().get("tickets", [])} &
                         {urgent["id"], normal["id"]})

    def test_grpc_through_the_gateway(self):
        pb = importlib.import_module("crm.service_desk.v1.service_desk_pb2")
        pb_grpc = importlib.import_module("crm.service_desk.v1.service_desk_pb2_grpc")
        channel = stack.grpc_channel()
        self.addCleanup(channel.close)
        stub = pb_grpc.ServiceDeskServiceStub(channel)
        t = stub.CreateTicket(pb.CreateTicketRequest(
            ticket=pb.Ticket(subject="Over gRPC", channel=pb.TICKET_CHANNEL_API),
            requester_email="%s@example.com" % stack.unique("g"), description="From the ERP",
            request_id=stack.unique("g")), metadata=stack.auth(self.key), timeout=10)
        self.assertEqual(t.status, pb.TICKET_STATUS_NEW)
        got = stub.GetTicket(pb.GetTicketRequest(ticket_id=t.id), metadata=stack.auth(self.key),
                             timeout=10)
        self.assertEqual(got.subject, "Over gRPC")
        with self.assertRaises(grpc.RpcError) as e:
            stub.GetTicket(pb.GetTicketRequest(ticket_id=t.id),
                           metadata=stack.auth(stack.create_tenant()[1]), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(stack.reason_of(e.exception), "TICKET_NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
