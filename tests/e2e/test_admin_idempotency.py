"""The gateway's admin writes with a request_id: CreateTenant and CreateApiKey
take effect once and replay the first answer byte for byte (the same secret,
which still authenticates), another body is 422 IDEMPOTENCY_KEY_REUSED, keys
are per tenant, and the stored answers hold no secret in plaintext."""

import unittest

import stack
from stack import rest


def setUpModule():
    stack.start()


def tearDownModule():
    stack.stop()


def stored_answers(request_id):
    """access.idempotency_keys rows of request_id: (tenant, method, response)."""
    return stack.query_db(
        "SELECT tenant_id, method, coalesce(response, '') FROM access.idempotency_keys "
        "WHERE request_id = '%s' ORDER BY created_at" % request_id)


def secret_part(secret):
    """The random part of "crm_<id>_<random>"."""
    return secret.rsplit("_", 1)[1]


class AdminIdempotency(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()

    def post_twice(self, path, key, body, status=200):
        """POSTs body twice; both answer `status` with the same bytes. Returns the second."""
        first = rest("POST", path, key, body)
        self.assertEqual(first.status, status, first)
        again = rest("POST", path, key, body)
        self.assertEqual(again.status, status, again)
        self.assertEqual(again.body, first.body)
        return again

    def keys_named(self, key, name):
        r = rest("GET", "/v1/apiKeys?pageSize=500", key)
        self.assertEqual(r.status, 200, r)
        return [k for k in r.json().get("keys", []) if k["displayName"] == name]

    def test_create_api_key_replays_the_same_secret(self):
        rid = stack.unique("rid")
        name = stack.unique("key")
        body = {"displayName": name, "roles": ["ROLE_READ_ONLY"], "requestId": rid}
        again = self.post_twice("/v1/apiKeys", self.key, body)
        secret = again.json()["secret"]
        self.assertEqual(rest("GET", "/v1/customers?pageSize=1", secret).status, 200)
        self.assertEqual(len(self.keys_named(self.key, name)), 1)
        # Another body under the same request_id: 422, no key.
        other = dict(body, displayName=name + "-other")
        r = rest("POST", "/v1/apiKeys", self.key, other)
        self.assertError(r, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        self.assertEqual(self.keys_named(self.key, name + "-other"), [])
        # The stored answer is sealed: neither the secret nor its random part
        # is in the database.
        rows = stored_answers(rid)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][:2], [self.tenant["id"], "CreateApiKey"])
        self.assertTrue(rows[0][2].startswith("aes256gcm.v1."), rows[0][2][:40])
        dump = "\n".join("|".join(r) for r in stack.query_db(
            "SELECT * FROM access.idempotency_keys"))
        self.assertNotIn(secret_part(secret), dump)
        self.assertNotIn(secret, dump)

    def test_request_ids_are_per_tenant(self):
        rid = stack.unique("rid")
        _, other_admin = stack.create_tenant()
        mine = rest("POST", "/v1/apiKeys", self.key,
                    {"displayName": "mine", "roles": ["ROLE_SALES"], "requestId": rid})
        self.assertEqual(mine.status, 200, mine)
        # Another tenant, another body, the same request_id: its own new key.
        theirs = rest("POST", "/v1/apiKeys", other_admin,
                      {"displayName": "theirs", "roles": ["ROLE_READ_ONLY"], "requestId": rid})
        self.assertEqual(theirs.status, 200, theirs)
        self.assertNotEqual(theirs.json()["key"]["id"], mine.json()["key"]["id"])
        self.assertEqual(theirs.json()["key"]["displayName"], "theirs")
        self.assertEqual(len(stored_answers(rid)), 2)

    def test_refused_create_api_key_is_refused_again(self):
        rid = stack.unique("rid")
        body = {"displayName": "no roles", "roles": [], "requestId": rid}
        again = self.post_twice("/v1/apiKeys", self.key, body, status=400)
        self.assertError(again, 400, "INVALID_FIELD", "roles")

    def test_create_tenant_replays_without_a_second_tenant(self):
        rid = stack.unique("rid")
        body = {"displayName": stack.unique("tenant"), "requestId": rid}
        again = self.post_twice("/v1/tenants", stack.platform_key, body)
        tenant = again.json()["tenant"]
        admin = again.json()["adminKey"]["secret"]
        # One tenant with one key, and the replayed secret is its admin key.
        r = rest("GET", "/v1/apiKeys?pageSize=10", admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json()["keys"]), 1, r)
        self.assertEqual(stack.query_db(
            "SELECT count(*) FROM access.tenants WHERE display_name = '%s'"
            % body["displayName"]), [["1"]])
        other = rest("POST", "/v1/tenants", stack.platform_key,
                     dict(body, displayName=body["displayName"] + "-other"))
        self.assertError(other, 422, "IDEMPOTENCY_KEY_REUSED", "request_id")
        # Claimed in the platform operator's tenant, sealed.
        rows = stored_answers(rid)
        self.assertEqual(len(rows), 1, rows)
        self.assertNotEqual(rows[0][0], tenant["id"])
        self.assertEqual(rows[0][1], "CreateTenant")
        self.assertNotIn(secret_part(admin), rows[0][2])

    def test_without_request_id_every_call_creates(self):
        name = stack.unique("key")
        body = {"displayName": name, "roles": ["ROLE_SALES"]}
        a = rest("POST", "/v1/apiKeys", self.key, body)
        b = rest("POST", "/v1/apiKeys", self.key, body)
        self.assertEqual((a.status, b.status), (200, 200))
        self.assertNotEqual(a.json()["secret"], b.json()["secret"])
        self.assertEqual(len(self.keys_named(self.key, name)), 2)

    def test_revoke_twice_answers_the_same(self):
        k, _ = stack.create_key(self.key, ["ROLE_SALES"])
        again = self.post_twice("/v1/apiKeys/%s:revoke" % k["id"], self.key, {})
        self.assertTrue(again.json()["revokeTime"], again)


if __name__ == "__main__":
    unittest.main()
