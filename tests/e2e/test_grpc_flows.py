"""gRPC flows through the gateway's public port, with stubs generated from the .proto files only."""

import unittest

import grpc

import stack

DEADLINE = 10  # seconds, on every call

cs = cs_grpc = ad = ad_grpc = None
channel = None


def setUpModule():
    global cs, cs_grpc, ad, ad_grpc, channel
    stack.start()
    cs, cs_grpc, ad, ad_grpc = stack.grpc_modules()
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


class GrpcFlows(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.store = cs_grpc.CustomerStoreServiceStub(channel)
        cls.admin = ad_grpc.AdminServiceStub(channel)
        resp = cls.admin.CreateTenant(ad.CreateTenantRequest(display_name=stack.unique("grpc")),
                                      metadata=stack.auth(stack.platform_key), timeout=DEADLINE)
        cls.tenant = resp.tenant
        cls.key = resp.admin_key.secret
        cls.md = stack.auth(cls.key)

    def call(self, method, request, md=None):
        return getattr(self.store, method)(request, metadata=md or self.md, timeout=DEADLINE)

    def assertRpcError(self, code, reason, fn, *args, **kwargs):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args, **kwargs)
        err = cm.exception
        self.assertEqual(err.code(), code, err.details())
        self.assertEqual(stack.reason_of(err), reason, err.details())
        return err

    def new_customer(self, **fields):
        return self.call("CreateCustomer", cs.CreateCustomerRequest(customer=cs.Customer(**fields)))

    # --------------------------------------------------------------- admin

    def test_admin_tenant_and_keys(self):
        r = self.admin.CreateTenant(ad.CreateTenantRequest(display_name="grpc-admin"),
                                    metadata=stack.auth(stack.platform_key), timeout=DEADLINE)
        self.assertTrue(r.tenant.id)
        self.assertEqual(r.tenant.display_name, "grpc-admin")
        self.assertTrue(r.admin_key.secret.startswith("crm_"))
        self.assertIn(ad.ROLE_ADMIN, r.admin_key.key.roles)
        amd = stack.auth(r.admin_key.secret)
        k = self.admin.CreateApiKey(ad.CreateApiKeyRequest(display_name="ro",
                                                           roles=[ad.ROLE_READ_ONLY]),
                                    metadata=amd, timeout=DEADLINE)
        self.assertEqual(list(k.key.roles), [ad.ROLE_READ_ONLY])
        self.assertTrue(k.secret.startswith("crm_"))
        self.assertTrue(k.secret.startswith(k.key.prefix))
        listed = self.admin.ListApiKeys(ad.ListApiKeysRequest(page_size=50), metadata=amd,
                                        timeout=DEADLINE)
        ids = [x.id for x in listed.keys]
        self.assertIn(k.key.id, ids)
        self.assertIn(r.admin_key.key.id, ids)
        for x in listed.keys:
            self.assertNotIn(k.secret, str(x))  # secrets are never listed
        # The read-only key reads but may not write.
        romd = stack.auth(k.secret)
        self.call("ListCustomers", cs.ListCustomersRequest(page_size=1), romd)
        self.assertRpcError(grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED_FOR_ROLE",
                            self.call, "CreateCustomer",
                            cs.CreateCustomerRequest(customer=cs.Customer(given_name="x")), romd)
        revoked = self.admin.RevokeApiKey(ad.RevokeApiKeyRequest(key_id=k.key.id), metadata=amd,
                                          timeout=DEADLINE)
        self.assertTrue(revoked.HasField("revoke_time"))
        # The tenant admin is not a platform admin.
        self.assertRpcError(grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED_FOR_ROLE",
                            self.admin.CreateTenant, ad.CreateTenantRequest(display_name="no"),
                            metadata=amd, timeout=DEADLINE)

    def test_missing_and_bad_credentials(self):
        self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, "MISSING_CREDENTIALS",
                            self.store.ListCustomers, cs.ListCustomersRequest(), timeout=DEADLINE)
        self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, "INVALID_CREDENTIALS",
                            self.store.ListCustomers, cs.ListCustomersRequest(),
                            metadata=stack.auth("crm_garbage_key"), timeout=DEADLINE)

    # ----------------------------------------------------------- customers

    def test_customer_lifecycle(self):
        tag = stack.unique("g")
        c = self.new_customer(given_name="Ada", family_name="Lovelace",
                              emails=[" %s@Example.COM " % tag.upper()],
                              phones=["+41 44 555 01 01"],
                              lifecycle_stage=cs.LIFECYCLE_STAGE_PROSPECT)
        self.assertTrue(c.id and c.etag)
        self.assertEqual(list(c.emails), ["%s@example.com" % tag])
        self.assertEqual(list(c.phones), ["+41445550101"])
        got = self.call("GetCustomer", cs.GetCustomerRequest(customer_id=c.id))
        self.assertEqual(got.id, c.id)
        self.assertEqual(got.etag, c.etag)
        self.assertEqual(got.lifecycle_stage, cs.LIFECYCLE_STAGE_PROSPECT)

        s = self.call("SearchCustomers", cs.SearchCustomersRequest(email="%s@EXAMPLE.com" % tag))
        self.assertEqual([x.id for x in s.customers], [c.id])
        s = self.call("SearchCustomers", cs.SearchCustomersRequest(phone="+41445550101"))
        self.assertIn(c.id, [x.id for x in s.customers])

        u = self.call("UpdateCustomer", cs.UpdateCustomerRequest(
            customer_id=c.id, customer=cs.Customer(given_name="Augusta", family_name="ignored"),
            update_mask={"paths": ["given_name"]}, etag=c.etag))
        self.assertEqual(u.given_name, "Augusta")
        self.assertEqual(u.family_name, "Lovelace")
        self.assertNotEqual(u.etag, c.etag)
        self.assertRpcError(grpc.StatusCode.ABORTED, "ETAG_MISMATCH", self.call, "UpdateCustomer",
                            cs.UpdateCustomerRequest(customer_id=c.id,
                                                     customer=cs.Customer(given_name="Stale"),
                                                     update_mask={"paths": ["given_name"]},
                                                     etag=c.etag))

        self.call("RecordConsent", cs.RecordConsentRequest(customer_id=c.id, consent=cs.Consent(
            channel=cs.CONSENT_CHANNEL_EMAIL, purpose=cs.CONSENT_PURPOSE_MARKETING,
            status=cs.CONSENT_STATUS_OPTED_IN, source="grpc")))
        self.call("RecordConsent", cs.RecordConsentRequest(customer_id=c.id, consent=cs.Consent(
            channel=cs.CONSENT_CHANNEL_EMAIL, purpose=cs.CONSENT_PURPOSE_MARKETING,
            status=cs.CONSENT_STATUS_OPTED_OUT, source="grpc")))
        cur = self.call("ListConsents", cs.ListConsentsRequest(customer_id=c.id))
        self.assertEqual([x.status for x in cur.consents], [cs.CONSENT_STATUS_OPTED_OUT])
        hist = self.call("ListConsents", cs.ListConsentsRequest(customer_id=c.id,
                                                                include_history=True))
        self.assertEqual([x.status for x in hist.consents],
                         [cs.CONSENT_STATUS_OPTED_OUT, cs.CONSENT_STATUS_OPTED_IN])

        ids = []
        for i in range(3):
            it = cs.Interaction(kind=cs.INTERACTION_KIND_CHAT, summary="chat %d" % i)
            it.occur_time.FromJsonString("2024-05-0%dT08:00:00Z" % (i + 1))
            it.payload.update({"i": i})
            ids.append(self.call("CreateInteraction", cs.CreateInteractionRequest(
                customer_id=c.id, interaction=it)).id)
        p1 = self.call("ListInteractions", cs.ListInteractionsRequest(customer_id=c.id,
                                                                      page_size=2))
        self.assertEqual([x.id for x in p1.interactions], [ids[2], ids[1]])
        self.assertTrue(p1.next_page_token)
        p2 = self.call("ListInteractions", cs.ListInteractionsRequest(
            customer_id=c.id, page_size=2, page_token=p1.next_page_token))
        self.assertEqual([x.id for x in p2.interactions], [ids[0]])
        self.assertFalse(p2.next_page_token)

        v = self.call("GetCustomerView", cs.GetCustomerViewRequest(customer_id=c.id))
        self.assertEqual(v.customer.given_name, "Augusta")
        self.assertEqual(v.interaction_count, 3)
        self.assertEqual([x.status for x in v.consents], [cs.CONSENT_STATUS_OPTED_OUT])
        self.assertEqual(v.recent_interactions[0].id, ids[2])

        e = self.call("ExportCustomer", cs.ExportCustomerRequest(customer_id=c.id))
        self.assertEqual(e.customer.id, c.id)
        self.assertEqual(len(e.consent_history), 2)
        self.assertEqual(len(e.interactions), 3)

        d = self.call("DeleteCustomer", cs.DeleteCustomerRequest(customer_id=c.id, etag=u.etag))
        self.assertEqual(d.customer_id, c.id)
        self.assertEqual(d.interactions_erased, 3)
        self.assertEqual(d.identities_erased, 2)
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND", self.call,
                            "GetCustomer", cs.GetCustomerRequest(customer_id=c.id))
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND", self.call,
                            "GetCustomerView", cs.GetCustomerViewRequest(customer_id=c.id))

    def test_list_paging_covers_all(self):
        r = self.admin.CreateTenant(ad.CreateTenantRequest(display_name=stack.unique("page")),
                                    metadata=stack.auth(stack.platform_key), timeout=DEADLINE)
        md = stack.auth(r.admin_key.secret)
        want = {self.call("CreateCustomer", cs.CreateCustomerRequest(
            customer=cs.Customer(given_name="L%d" % i)), md).id for i in range(5)}
        got, token = [], ""
        for _ in range(10):
            resp = self.call("ListCustomers", cs.ListCustomersRequest(page_size=2,
                                                                      page_token=token), md)
            self.assertLessEqual(len(resp.customers), 2)
            got += [x.id for x in resp.customers]
            token = resp.next_page_token
            if not token:
                break
        self.assertFalse(token)
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(set(got), want)

    def test_upsert_idempotent(self):
        tag = stack.unique("gu")
        req = cs.UpsertCustomerRequest(customer=cs.Customer(
            given_name="U", external_ids=[cs.ExternalId(source="shop", value=tag)]))
        a = self.call("UpsertCustomer", req)
        self.assertTrue(a.created)
        b = self.call("UpsertCustomer", req)
        self.assertFalse(b.created)
        self.assertEqual(a.customer.id, b.customer.id)

    def test_error_codes_and_reasons(self):
        tag = stack.unique("ge")
        self.new_customer(given_name="Taken", emails=["%s@example.com" % tag])
        self.assertRpcError(grpc.StatusCode.ALREADY_EXISTS, "IDENTITY_TAKEN", self.new_customer,
                            given_name="Thief", emails=["%s@EXAMPLE.com" % tag])
        self.assertRpcError(grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND", self.call,
                            "GetCustomer",
                            cs.GetCustomerRequest(customer_id="00000000-0000-4000-8000-000000000001"))
        err = self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", self.call,
                                  "GetCustomer", cs.GetCustomerRequest(customer_id="not-a-uuid"))
        self.assertIn("customer_id", err.details())
        err = self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                                  self.new_customer, emails=["not-an-email"])
        self.assertIn("emails", err.details())
        err = self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
                                  self.new_customer, phones=["12"])
        self.assertIn("phones", err.details())
        self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", self.call,
                            "ListCustomers", cs.ListCustomersRequest(page_token="garbage"))
        self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", self.call,
                            "RecordConsent", cs.RecordConsentRequest(
                                customer_id="00000000-0000-4000-8000-000000000001",
                                consent=cs.Consent()))

    def test_unknown_method_is_unimplemented(self):
        call = channel.unary_unary("/crm.customer_store.v1.CustomerStoreService/NoSuchMethod",
                                   request_serializer=None, response_deserializer=None)
        with self.assertRaises(grpc.RpcError) as cm:
            call(b"", metadata=self.md, timeout=DEADLINE)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    # ------------------------------------------------------ health, direct

    def test_health_serving(self):
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=None, response_deserializer=None)
        self.assertEqual(check(b"", timeout=DEADLINE), b"\x08\x01")

    def test_customer_store_refuses_calls_without_tenant(self):
        direct = stack.grpc_channel(stack.STORE_GRPC_PORT)
        try:
            stub = cs_grpc.CustomerStoreServiceStub(direct)
            # Health of the internal service answers without a tenant ...
            check = direct.unary_unary("/grpc.health.v1.Health/Check",
                                       request_serializer=None, response_deserializer=None)
            self.assertEqual(check(b"", timeout=DEADLINE), b"\x08\x01")
            # ... but business calls need the gateway's tenant context, even with a key.
            for md in ((), self.md):
                self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, "MISSING_TENANT_CONTEXT",
                                    stub.ListCustomers, cs.ListCustomersRequest(),
                                    metadata=md, timeout=DEADLINE)
            self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, "MISSING_TENANT_CONTEXT",
                                stub.CreateCustomer,
                                cs.CreateCustomerRequest(customer=cs.Customer(given_name="x")),
                                timeout=DEADLINE)
        finally:
            direct.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
