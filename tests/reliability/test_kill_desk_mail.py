"""kill -9 of the service desk during a burst of inbound mail through the
webhook (POST /v1/mailboxes/{id}/mail). Senders retry every mail until it is
answered 200, as an MTA does. Afterwards, in PostgreSQL: every mail is on a
ticket exactly once (no mail lost, none doubled), every answer named the
ticket the mail is on, each sender's first mail opened one ticket and every
reply joined it (nothing forked by a crash). The mailbox answers new
tickets: each sender gets exactly one auto-reply, queued with its ticket's
write and sent once through delivery to the SMTP sink."""

import random
import threading
import time
import unittest

import rstack
import stack
from rstack import log

THREADS = 6
SENDERS_PER_THREAD = 5
MAILS_PER_SENDER = 40
KILLS = 3
PER_MAIL_TIMEOUT_S = 60


def setUpModule():
    rstack.start("kill_desk_mail")


def tearDownModule():
    rstack.stop()


class Senders:
    """THREADS threads; each sends its senders' mails in order (a reply only
    after the mail it answers was acknowledged), retrying until a 200."""

    def __init__(self, key, mailbox_id, address):
        self.key = key
        self.path = "/v1/mailboxes/%s/mail" % mailbox_id
        self.address = address
        self.acked = {}    # Message-ID -> ticket id answered
        self.roots = {}    # sender -> the Message-ID of its first mail
        self.retries = 0
        self.duplicates = 0
        self.errors = []
        self.lock = threading.Lock()
        self.stopped = False
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(THREADS)]

    def _mail(self, sender, n, msg_id, parent):
        reply = "In-Reply-To: <%s>\r\nReferences: <%s>\r\n" % (parent, parent) if parent else ""
        subject = ("Re: " if parent else "") + "Order question from %s" % sender
        return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s"
                "Content-Type: text/plain; charset=utf-8\r\n\r\nMail %d of %s.\r\n"
                % (sender, self.address, subject, msg_id, reply, n, sender)).encode("utf-8")

    def _send(self, raw):
        deadline = time.monotonic() + PER_MAIL_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                r = stack.rest("POST", self.path, self.key, raw=raw,
                               headers={"Content-Type": "message/rfc822"}, timeout=10)
                if r.status == 200:
                    return r.json()
                if r.status < 500 and r.status != 409:
                    raise AssertionError("refused: %r" % r)
            except (OSError, ConnectionError):
                pass  # the gateway or the desk is away: the MTA retries
            with self.lock:
                self.retries += 1
            time.sleep(0.05)
        raise AssertionError("a mail was not acknowledged within %d s" % PER_MAIL_TIMEOUT_S)

    def _run(self, idx):
        try:
            for s in range(SENDERS_PER_THREAD):
                sender = "%s@example.com" % stack.unique("s%d-%d" % (idx, s))
                parent = None
                for n in range(MAILS_PER_SENDER):
                    if self.stopped:
                        return
                    msg_id = "%s@mail.example.com" % stack.unique("m")
                    got = self._send(self._mail(sender, n, msg_id, parent))
                    with self.lock:
                        self.acked[msg_id] = got["ticket"]["id"]
                        if got.get("duplicate"):
                            self.duplicates += 1
                        if parent is None:
                            self.roots[sender] = msg_id
                    parent = msg_id
        except Exception as e:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append(repr(e))

    def start(self):
        for t in self.threads:
            t.start()

    def count(self):
        with self.lock:
            return len(self.acked)

    def alive(self):
        return any(t.is_alive() for t in self.threads)

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))


class KillDeskMail(rstack.ReliabilityTestCase):
    def test_kill9_service_desk_while_mail_arrives(self):
        tenant, admin = stack.create_tenant()
        tenant_id = tenant["id"]
        address = "%s@desk.example" % stack.unique("support")
        r = stack.rest("POST", "/v1/mailboxes", admin,
                       {"mailbox": {"address": address, "autoReply": {"enabled": True}},
                        "requestId": stack.unique("mb")})
        self.assertEqual(r.status, 200, r)
        mailbox_id = r.json()["id"]
        _, hook = stack.create_key(admin, ["ROLE_INTEGRATION"])
        senders = Senders(hook, mailbox_id, address)
        senders.start()
        rng = random.Random()
        started = time.monotonic()
        kills = 0
        try:
            while kills < KILLS and senders.alive() and time.monotonic() - started < 120:
                before = senders.count()
                while senders.count() < before + 30 and senders.alive():
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.3))
                before = senders.count()
                rstack.kill9("service-desk")
                kills += 1
                time.sleep(rng.uniform(0.05, 0.5))
                rstack.restart("service-desk")
                log("kill %d of service-desk after %d acknowledged mails" % (kills, before))
        finally:
            senders.join(timeout=240)
            senders.stopped = True
        self.assertEqual(senders.errors, [])
        self.assertEqual(kills, KILLS)
        total = THREADS * SENDERS_PER_THREAD * MAILS_PER_SENDER
        self.assertEqual(len(senders.acked), total)
        log("%d mails acknowledged in %.1f s; %d retries, %d answered as duplicates" %
            (total, time.monotonic() - started, senders.retries, senders.duplicates))

        # Every mail on a ticket exactly once, where its answer said.
        rows = rstack.sql(
            "SELECT m.mail_id, m.ticket_id::text, count(*) OVER (PARTITION BY m.mail_id), "
            "(SELECT count(*) FROM service_desk.ticket_messages x WHERE x.tenant_id = m.tenant_id "
            "AND x.mail_id = m.mail_id) FROM service_desk.ticket_mails m WHERE m.tenant_id = '%s' "
            "AND NOT m.outbound" % tenant_id)
        stored = {r[0]: r[1] for r in rows}
        self.assertEqual(len(rows), total)
        self.assertEqual(set(stored), set(senders.acked))
        for mail_id, ticket, copies, messages in rows:
            self.assertEqual(int(copies), 1, mail_id)
            self.assertEqual(int(messages), 1, mail_id)
            self.assertEqual(ticket, senders.acked[mail_id], mail_id)
        # One ticket per sender, every reply on it.
        self.assertEqual(rstack.scalar(
            "SELECT count(*) FROM service_desk.tickets WHERE tenant_id = '%s'" % tenant_id),
            THREADS * SENDERS_PER_THREAD)
        self.assertEqual(len(set(stored.values())), THREADS * SENDERS_PER_THREAD)
        self.assertEqual(rstack.scalar(
            "SELECT count(*) FROM service_desk.tickets WHERE tenant_id = '%s' AND message_count "
            "<> %d" % (tenant_id, MAILS_PER_SENDER)), 0)

        # One auto-reply per sender: written once with its ticket, sent once.
        senders_n = THREADS * SENDERS_PER_THREAD
        rows = rstack.sql(
            "SELECT to_addr, count(*) FROM service_desk.outbound_mails WHERE tenant_id = '%s' AND "
            "kind = 'auto_reply' GROUP BY to_addr" % tenant_id)
        self.assertEqual(sorted(r[0] for r in rows), sorted(senders.roots))
        self.assertTrue(all(int(r[1]) == 1 for r in rows), rows)

        def delivered():
            return rstack.scalar(
                "SELECT count(*) FROM delivery.messages WHERE tenant_id = '%s' AND "
                "ticket_mail_id IS NOT NULL AND state = 'sent'" % tenant_id) == senders_n
        stack.wait_for("the auto-replies sent", delivered, timeout=60)
        self.assertEqual(rstack.scalar(
            "SELECT count(*) FROM delivery.messages WHERE tenant_id = '%s' AND ticket_mail_id IS "
            "NOT NULL" % tenant_id), senders_n)
        sink = {}
        for m in rstack.stack.mails():
            if m["X-Sink-Rcpt-To"] in senders.roots:
                sink[m["X-Sink-Rcpt-To"]] = sink.get(m["X-Sink-Rcpt-To"], 0) + 1
                self.assertEqual(m["Auto-Submitted"], "auto-replied")
        self.assertEqual(sink, {s: 1 for s in senders.roots})


if __name__ == "__main__":
    unittest.main()
