"""Merge / unmerge and bulk import through the gateway (REST and gRPC)."""

import json
import unittest

import grpc

import stack
from stack import rest

DEADLINE = 30  # seconds, on every gRPC call

cs = cs_grpc = None
channel = None


def setUpModule():
    global cs, cs_grpc, channel
    stack.start()
    cs, cs_grpc, _, _ = stack.grpc_modules()
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


NDJSON = {"Content-Type": "application/x-ndjson"}


def ndjson(objs):
    return ("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n").encode()


def counts(report):
    """(rowsReceived, created, updated, failed) as ints (int64 is a JSON string)."""
    return tuple(int(report.get(k, 0)) for k in ("rowsReceived", "created", "updated", "failed"))


def errors_of(report):
    return [(int(e["line"]), e.get("field", ""), e.get("reason", ""))
            for e in report.get("errors", [])]


class MergeImport(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()
        cls.store = cs_grpc.CustomerStoreServiceStub(channel)

    def create(self, body, key=None):
        r = rest("POST", "/v1/customers", key or self.key, body)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def consent(self, cid, channel_, purpose, status, key=None):
        r = rest("POST", "/v1/customers/%s/consents" % cid, key or self.key,
                 {"channel": channel_, "purpose": purpose, "status": status, "source": "e2e"})
        self.assertEqual(r.status, 200, r)

    def current_consents(self, cid):
        r = rest("GET", "/v1/customers/%s/consents" % cid, self.key)
        self.assertEqual(r.status, 200, r)
        return {(c["channel"], c["purpose"]): c["status"] for c in r.json().get("consents", [])}

    def import_ndjson(self, batch, body, key=None):
        return rest("POST", "/v1/customers:import?batchId=" + batch, key or self.key, raw=body,
                    headers=NDJSON, timeout=60)

    # ------------------------------------------------------------- merge

    def test_merge_and_unmerge_flow(self):
        tag = stack.unique("m")
        a = self.create({"givenName": "Ada", "emails": ["a.%s@example.com" % tag]})
        b = self.create({"givenName": "Other", "familyName": "Lovelace",
                         "emails": ["b.%s@example.com" % tag], "timeZone": "Europe/London"})
        self.consent(a["id"], "CONSENT_CHANNEL_EMAIL", "CONSENT_PURPOSE_MARKETING",
                     "CONSENT_STATUS_OPTED_IN")
        self.consent(b["id"], "CONSENT_CHANNEL_EMAIL", "CONSENT_PURPOSE_MARKETING",
                     "CONSENT_STATUS_OPTED_OUT")
        r = rest("POST", "/v1/customers/%s/interactions" % b["id"], self.key,
                 {"kind": "INTERACTION_KIND_NOTE", "summary": "on b"})
        self.assertEqual(r.status, 200, r)

        r = rest("POST", "/v1/customers/%s:merge" % a["id"], self.key,
                 {"sourceCustomerId": b["id"]})
        self.assertEqual(r.status, 200, r)
        m = r.json()
        self.assertTrue(m["mergeId"])
        self.assertEqual(m["customer"]["id"], a["id"])
        self.assertEqual(m["customer"]["givenName"], "Ada")
        self.assertEqual(m["customer"]["familyName"], "Lovelace")
        self.assertEqual(sorted(m["customer"]["emails"]),
                         sorted(["a.%s@example.com" % tag, "b.%s@example.com" % tag]))
        self.assertEqual(int(m.get("identitiesMoved", 0)), 1)
        self.assertEqual(int(m.get("interactionsMoved", 0)), 1)
        self.assertEqual(self.current_consents(a["id"])[
            ("CONSENT_CHANNEL_EMAIL", "CONSENT_PURPOSE_MARKETING")], "CONSENT_STATUS_OPTED_OUT")

        r = rest("GET", "/v1/customers/" + b["id"], self.key)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "CUSTOMER_MERGED", r)
        self.assertIn(a["id"], r.json()["error"]["message"])

        r = rest("POST", "/v1/customers/%s:unmerge" % a["id"], self.key, {"mergeId": m["mergeId"]})
        self.assertEqual(r.status, 200, r)
        u = r.json()
        self.assertEqual(u["restored"]["id"], b["id"])
        self.assertEqual(u["restored"]["emails"], ["b.%s@example.com" % tag])
        self.assertEqual(u["customer"]["emails"], ["a.%s@example.com" % tag])
        self.assertNotIn("familyName", u["customer"])
        r = rest("GET", "/v1/customers/" + b["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["familyName"], "Lovelace")
        self.assertEqual(self.current_consents(a["id"])[
            ("CONSENT_CHANNEL_EMAIL", "CONSENT_PURPOSE_MARKETING")], "CONSENT_STATUS_OPTED_IN")
        r = rest("GET", "/v1/customers/%s/interactions" % b["id"], self.key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["summary"] for i in r.json().get("interactions", [])], ["on b"])

        r = rest("POST", "/v1/customers/%s:unmerge" % a["id"], self.key, {"mergeId": m["mergeId"]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["status"], "FAILED_PRECONDITION", r)
        self.assertEqual(r.reason(), "NOT_MERGED", r)

    def test_merge_retry_with_request_id_answers_the_first_merge(self):
        tag = stack.unique("mr")
        a = self.create({"givenName": "Ada", "emails": ["a.%s@example.com" % tag]})
        b = self.create({"givenName": "Bea", "emails": ["b.%s@example.com" % tag]})
        body = {"sourceCustomerId": b["id"], "requestId": "merge-" + tag}
        r1 = rest("POST", "/v1/customers/%s:merge" % a["id"], self.key, body)
        self.assertEqual(r1.status, 200, r1)
        # The source is gone; the retry answers the first merge, merging nothing.
        r2 = rest("POST", "/v1/customers/%s:merge" % a["id"], self.key, body)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.body, r1.body)
        c = self.create({"givenName": "Cy", "emails": ["c.%s@example.com" % tag]})
        r3 = rest("POST", "/v1/customers/%s:merge" % a["id"], self.key,
                  {"sourceCustomerId": c["id"], "requestId": "merge-" + tag})
        self.assertError(r3, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")

    def test_unmerge_retry_with_request_id_answers_the_first_unmerge(self):
        tag = stack.unique("ur")
        a = self.create({"givenName": "Ada", "emails": ["a.%s@example.com" % tag]})
        b = self.create({"givenName": "Bea", "emails": ["b.%s@example.com" % tag]})
        r = rest("POST", "/v1/customers/%s:merge" % a["id"], self.key,
                 {"sourceCustomerId": b["id"]})
        self.assertEqual(r.status, 200, r)
        body = {"mergeId": r.json()["mergeId"], "requestId": "unmerge-" + tag}
        r1 = rest("POST", "/v1/customers/%s:unmerge" % a["id"], self.key, body)
        self.assertEqual(r1.status, 200, r1)
        # Undone already: without the key a second call is NOT_MERGED; the
        # retry with it answers the first unmerge.
        r2 = rest("POST", "/v1/customers/%s:unmerge" % a["id"], self.key, body)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.body, r1.body)
        self.assertError(rest("POST", "/v1/customers/%s:unmerge" % a["id"], self.key,
                              {"mergeId": body["mergeId"]}), 400, "NOT_MERGED")
        self.assertError(rest("POST", "/v1/customers/%s:unmerge" % a["id"], self.key,
                              {"mergeId": body["mergeId"], "requestId": "merge-x-" + tag}),
                         400, "NOT_MERGED")

    def test_merge_into_itself_is_refused(self):
        a = self.create({"givenName": "Solo"})
        r = rest("POST", "/v1/customers/%s:merge" % a["id"], self.key, {"sourceCustomerId": a["id"]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_field(), "source_customer_id", r)

    def test_tenant_b_cannot_merge_tenant_a_customers(self):
        _, key_b = stack.create_tenant()
        a1 = self.create({"givenName": "A1"})
        a2 = self.create({"givenName": "A2"})
        b1 = self.create({"givenName": "B1"}, key_b)
        for survivor, source in ((a1["id"], a2["id"]), (b1["id"], a1["id"]), (a1["id"], b1["id"])):
            r = rest("POST", "/v1/customers/%s:merge" % survivor, key_b, {"sourceCustomerId": source})
            self.assertEqual(r.status, 404, r)
        for c in (a1, a2):
            r = rest("GET", "/v1/customers/" + c["id"], self.key)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["etag"], c["etag"])
        r = rest("GET", "/v1/customers/" + b1["id"], key_b)
        self.assertEqual(r.status, 200, r)

    # ------------------------------------------------------------ import

    def test_ndjson_import_report_and_replay(self):
        _, key = stack.create_tenant()
        tag = stack.unique("i")
        existing = self.create({"givenName": "Known", "emails": ["known.%s@example.com" % tag]},
                               key)
        body = ndjson([
            {"givenName": "New", "emails": ["new.%s@example.com" % tag]},   # 1 created
            '{"givenName": "broken"',                                         # 2 unreadable
            "",                                                               # 3 blank
            {"givenName": "Bad", "emails": ["not-an-email"]},                 # 4 invalid
            {"familyName": "Imported", "emails": ["KNOWN.%s@example.com" % tag]},  # 5 updated
            {"givenName": "x", "favouriteColour": "blue"},                    # 6 unknown field
            {"givenName": "Dup", "emails": ["new.%s@example.com" % tag]},     # 7 dup of line 1
        ])
        batch = "nd-" + tag
        r = self.import_ndjson(batch, body, key)
        self.assertEqual(r.status, 200, r)
        rep = r.json()
        self.assertEqual(rep["batchId"], batch)
        self.assertEqual(counts(rep), (6, 1, 1, 4))
        self.assertFalse(rep.get("replayed", False))
        errs = errors_of(rep)
        self.assertEqual([e[0] for e in errs], [2, 4, 6, 7])
        self.assertEqual(errs[1], (4, "emails[0]", "INVALID_FIELD"))
        self.assertEqual(errs[2][2], "UNKNOWN_FIELD")
        self.assertEqual(errs[3][2], "IDENTITY_TAKEN")
        got = rest("GET", "/v1/customers/" + existing["id"], key).json()
        self.assertEqual(got["familyName"], "Imported")
        self.assertEqual(got["givenName"], "Known")
        self.assertEqual(int(got["etag"]), int(existing["etag"]) + 1)
        self.assertEqual(stack.count_customers(key), 2)

        again = self.import_ndjson(batch, body, key)
        self.assertEqual(again.status, 200, again)
        self.assertTrue(again.json().get("replayed", False))
        self.assertEqual(counts(again.json()), counts(rep))
        self.assertEqual(errors_of(again.json()), errs)
        self.assertEqual(stack.count_customers(key), 2)

    def test_upload_limits(self):
        _, key = stack.create_tenant()
        tag = stack.unique("big")
        rows, size = [], 0
        while size < 100 * 1024:
            row = json.dumps({"givenName": "Bulk", "displayName": "d" * 150,
                              "emails": ["r%d.%s@example.com" % (len(rows), tag)]})
            rows.append(row)
            size += len(row) + 1
        body = ndjson(rows)
        self.assertGreater(len(body), stack.MAX_BODY_BYTES)
        r = self.import_ndjson("big-" + tag, body, key)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(counts(r.json()), (len(rows), len(rows), 0, 0))

        r = rest("POST", "/v1/customers", key, {"givenName": "x", "displayName": "y" * (100 * 1024)})
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.reason(), "BODY_TOO_LARGE", r)

        huge = body * (stack.MAX_UPLOAD_BYTES // len(body) + 1)
        self.assertGreater(len(huge), stack.MAX_UPLOAD_BYTES)
        r = self.import_ndjson("huge-" + tag, huge, key)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(stack.count_customers(key), len(rows))

    def test_read_only_key_cannot_import(self):
        _, secret = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        r = self.import_ndjson("ro-" + stack.unique(), ndjson([{"givenName": "x"}]), secret)
        self.assertEqual(r.status, 403, r)
        r = rest("POST", "/v1/customers/%s:merge" % self.create({"givenName": "y"})["id"], secret,
                 {"sourceCustomerId": self.create({"givenName": "z"})["id"]})
        self.assertEqual(r.status, 403, r)

    def test_invalid_batch_id(self):
        r = self.import_ndjson("bad%20id", ndjson([{"givenName": "x"}]))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.error_field(), "batch_id", r)

    # -------------------------------------------------------------- gRPC

    def rows_for(self, tag):
        """Customers (dicts in proto JSON names) used by the REST/gRPC comparison."""
        return [
            {"givenName": "G1", "emails": ["g1.%s@example.com" % tag]},
            {"givenName": "G2", "phones": ["+41 44 555 02 02"]},
            {"givenName": "Bad", "emails": ["nope"]},
            {"givenName": "G4", "externalIds": [{"source": "erp", "value": "X-" + tag}]},
            {"givenName": "Dup", "emails": ["g1.%s@example.com" % tag]},
            {"givenName": "G6", "locale": "not a locale"},
            {"givenName": "G7", "emails": ["g7.%s@example.com" % tag]},
        ]

    def test_grpc_stream_report_equals_rest(self):
        tag = stack.unique("s")
        rows = self.rows_for(tag)
        _, rest_key = stack.create_tenant()
        r = self.import_ndjson("cmp-" + tag, ndjson(rows), rest_key)
        self.assertEqual(r.status, 200, r)
        rest_report = r.json()

        _, grpc_key = stack.create_tenant()
        from google.protobuf import json_format

        def requests():
            # Rows spread over several messages; the batch id only on the first.
            chunks = [rows[0:1], rows[1:4], [], rows[4:7]]
            line = 0
            for i, chunk in enumerate(chunks):
                msg = cs.ImportCustomersRequest(batch_id="cmp-" + tag if i == 0 else "")
                for row in chunk:
                    line += 1
                    msg.rows.add(line=line, customer=json_format.ParseDict(row, cs.Customer()))
                yield msg

        resp = self.store.ImportCustomers(requests(), metadata=stack.auth(grpc_key),
                                          timeout=DEADLINE)
        grpc_report = json_format.MessageToDict(resp)
        self.assertEqual(counts(grpc_report), counts(rest_report))
        self.assertEqual(counts(grpc_report), (7, 4, 0, 3))
        self.assertEqual(errors_of(grpc_report), errors_of(rest_report))
        self.assertEqual([e[0] for e in errors_of(grpc_report)], [3, 5, 6])
        self.assertEqual(stack.count_customers(grpc_key), 4)
        # Replay over gRPC.
        again = self.store.ImportCustomers(requests(), metadata=stack.auth(grpc_key),
                                           timeout=DEADLINE)
        self.assertTrue(again.replayed)
        self.assertEqual(stack.count_customers(grpc_key), 4)

    def test_grpc_stream_over_upload_limit(self):
        _, key = stack.create_tenant()
        tag = stack.unique("o")
        per_msg = 200 * 1024

        def requests():
            n = 0
            for i in range(stack.MAX_UPLOAD_BYTES // per_msg + 3):
                msg = cs.ImportCustomersRequest(batch_id="over-" + tag if i == 0 else "")
                size = 0
                while size < per_msg:
                    n += 1
                    msg.rows.add(line=n, customer=cs.Customer(given_name="x", display_name="d" * 180,
                                                              emails=["o%d.%s@example.com" % (n, tag)]))
                    size += 220
                yield msg

        with self.assertRaises(grpc.RpcError) as cm:
            self.store.ImportCustomers(requests(), metadata=stack.auth(key), timeout=DEADLINE)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED,
                         cm.exception.details())
        self.assertEqual(stack.count_customers(key), 0)


if __name__ == "__main__":
    unittest.main()
