"""The gRPC surface from outside: sealed tenant context on the internal
service ports, listeners bound to the configured address only, liveness
apart from readiness, reflection of every public service (v1 and v1alpha),
unparseable requests refused as INVALID_ARGUMENT, and rate limits on
relayed streams (a token per message, a cap on concurrent streams per
tenant)."""

import importlib
import socket
import threading
import time
import unittest
import uuid

import grpc

import stack

DEADLINE = 10  # seconds, on every call

cs = cs_grpc = erp = erp_grpc = txn = refl = None
channel = None

REFLECTION_V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
REFLECTION_V1ALPHA = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
PUBLIC_SERVICES = {
    "crm.customer_store.v1.CustomerStoreService",
    "crm.transaction.v1.TransactionService",
    "crm.transaction.v1.ErpIntegrationService",
    "crm.transaction.v1.PipelineService",
    "crm.gateway.v1.AdminService",
    "grpc.health.v1.Health",
}


def setUpModule():
    global cs, cs_grpc, erp, erp_grpc, txn, refl, channel
    stack.start()
    cs = importlib.import_module("crm.customer_store.v1.customer_store_pb2")
    cs_grpc = importlib.import_module("crm.customer_store.v1.customer_store_pb2_grpc")
    txn = importlib.import_module("crm.transaction.v1.transaction_pb2")
    erp = importlib.import_module("crm.transaction.v1.erp_pb2")
    erp_grpc = importlib.import_module("crm.transaction.v1.erp_pb2_grpc")
    refl = importlib.import_module("crm.gateway.v1.server_reflection_pb2")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


def health(ch, service=""):
    """The health status byte string of `service` on channel `ch`."""
    check = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=None,
                           response_deserializer=None)
    name = service.encode()
    request = (b"\x0a" + bytes([len(name)]) + name) if name else b""
    return check(request, timeout=DEADLINE)


class GrpcSecurity(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.admin = stack.create_tenant()
        cls.md = stack.auth(cls.admin)
        # A customer through the gateway, to read back over the service port.
        r = stack.rest("POST", "/v1/customers", cls.admin,
                       {"givenName": "Sealed", "emails": [stack.unique("s") + "@example.com"]})
        assert r.status == 200, r
        cls.customer_id = r.json()["id"]

    def assertRpcError(self, code, reason, fn, *args, **kwargs):
        with self.assertRaises(grpc.RpcError) as cm:
            fn(*args, **kwargs)
        err = cm.exception
        self.assertEqual(err.code(), code, err.details())
        self.assertEqual(stack.reason_of(err), reason, err.details())
        return err

    # ------------------------------------------------- sealed tenant context

    def test_service_ports_refuse_a_forged_tenant_context(self):
        for port in (stack.STORE_GRPC_PORT, stack.TXN_GRPC_PORT):
            direct = stack.grpc_channel(port)
            try:
                call = direct.unary_unary(
                    "/crm.customer_store.v1.CustomerStoreService/GetCustomer"
                    if port == stack.STORE_GRPC_PORT else
                    "/crm.transaction.v1.TransactionService/ListOrders",
                    request_serializer=None, response_deserializer=None)
                body = (cs.GetCustomerRequest(customer_id=self.customer_id).SerializeToString()
                        if port == stack.STORE_GRPC_PORT else b"")
                forged = (("x-crm-tenant-id", self.tenant["id"]), ("x-crm-principal", "attacker"),
                          ("x-crm-roles", "admin"))
                # The tenant header alone, or with a seal made with another key, or a seal
                # of this deployment for another tenant: all refused.
                wrong_key = stack.sealed_metadata(self.tenant["id"], key="x" * 64)
                other_tenant = list(stack.sealed_metadata(str(uuid.uuid4())))
                other_tenant[0] = ("x-crm-tenant-id", self.tenant["id"])
                for md in (forged, wrong_key, tuple(other_tenant)):
                    self.assertRpcError(grpc.StatusCode.UNAUTHENTICATED, "INVALID_TENANT_CONTEXT",
                                        call, body, metadata=md, timeout=DEADLINE)
                # The gateway's own seal passes (so the refusals above are the seal's doing).
                call(body, metadata=stack.sealed_metadata(self.tenant["id"]), timeout=DEADLINE)
            finally:
                direct.close()

    # ------------------------------------------------------ bootstrap keys

    def test_bootstrap_keys_separate_the_platform_from_tenant_admins(self):
        import os
        name = stack.unique("boot")
        key_file = os.path.join(stack.RUN_DIR, name + ".key")
        out = stack._run([stack.CRM_ADMIN, "bootstrap", "--dsn", stack.APP_DSN, "--tenant-name",
                          name, "--key-file", key_file])
        tenant_admin = out.stdout.strip().splitlines()[-1]
        # Idempotent: the same key again.
        again = stack._run([stack.CRM_ADMIN, "bootstrap", "--dsn", stack.APP_DSN,
                            "--tenant-name", name, "--key-file", key_file])
        self.assertEqual(again.stdout.strip().splitlines()[-1], tenant_admin)
        # The tenant admin works in its tenant but cannot create tenants ...
        r = stack.rest("POST", "/v1/customers", tenant_admin, {"givenName": "Boot"})
        self.assertEqual(r.status, 200, r)
        r = stack.rest("POST", "/v1/tenants", tenant_admin, {"displayName": "nope"})
        self.assertEqual(r.status, 403, r)
        # ... and the platform operator creates tenants but reads no tenant's data.
        r = stack.rest("GET", "/v1/customers", stack.platform_key)
        self.assertEqual(r.status, 403, r)
        r = stack.rest("POST", "/v1/tenants", stack.platform_key, {"displayName": name})
        self.assertEqual(r.status, 200, r)
        os.remove(key_file)

    # ------------------------------------------------------ listeners

    def test_listeners_bind_the_configured_address_only(self):
        # Every process got CRM_BIND_HOST=127.0.0.1: its ports answer on
        # 127.0.0.1 and not on 127.0.0.2 (which a 0.0.0.0 listener would take).
        # ALL_PORTS: every port of every service of k8s/services.yaml.
        self.assertIn(stack.STORE_METRICS_PORT, stack.ALL_PORTS)
        for port in stack.ALL_PORTS:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                self.assertNotEqual(s.connect_ex(("127.0.0.2", port)), 0,
                                    "port %d answers on 127.0.0.2" % port)
            finally:
                s.close()

    # ------------------------------------------------------ health

    def test_liveness_is_apart_from_readiness(self):
        for port in (stack.port(s.name, "grpc") for s in stack.SERVICES):
            ch = stack.grpc_channel(port)
            try:
                self.assertEqual(health(ch), b"\x08\x01")
                self.assertEqual(health(ch, "liveness"), b"\x08\x01")
            finally:
                ch.close()

    # ------------------------------------------------------ reflection

    def reflect(self, method, requests):
        call = channel.stream_stream(method, request_serializer=lambda m: m.SerializeToString(),
                                     response_deserializer=refl.ServerReflectionResponse.FromString)
        return list(call(iter(requests), timeout=DEADLINE))

    def test_reflection_lists_every_public_service_in_both_versions(self):
        for method in (REFLECTION_V1, REFLECTION_V1ALPHA):
            with self.subTest(method=method):
                out = self.reflect(method, [refl.ServerReflectionRequest(list_services="*")])
                names = {s.name for s in out[0].list_services_response.service}
                self.assertTrue(PUBLIC_SERVICES <= names, names)

    def test_reflection_describes_services_with_their_imports(self):
        from google.protobuf import descriptor_pb2
        out = self.reflect(REFLECTION_V1, [
            refl.ServerReflectionRequest(
                file_containing_symbol="crm.customer_store.v1.CustomerStoreService"),
            refl.ServerReflectionRequest(file_containing_symbol="crm.nope.v1.Missing")])
        files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in out[0].file_descriptor_response.file_descriptor_proto]
        self.assertEqual(files[0].package, "crm.customer_store.v1")
        self.assertIn("CustomerStoreService", [s.name for s in files[0].service])
        names = {f.name for f in files}
        for dep in files[0].dependency:  # every import comes along
            self.assertIn(dep, names)
        self.assertEqual(out[1].error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])

    # ------------------------------------------------------ malformed requests

    def test_unparseable_requests_are_invalid_argument(self):
        get = channel.unary_unary("/crm.customer_store.v1.CustomerStoreService/GetCustomer",
                                  request_serializer=None, response_deserializer=None)
        interact = channel.unary_unary(
            "/crm.customer_store.v1.CustomerStoreService/CreateInteraction",
            request_serializer=None, response_deserializer=None)
        bad_utf8 = b"\x0a\x02\xff\xfe"  # customer_id (a string) that is not UTF-8
        garbage = b"\xff\xff\xff\xff\xff\xff"
        for fn, body in ((get, bad_utf8), (get, garbage),
                         (interact, _interaction_with_payload_depth(self.customer_id, 150))):
            with self.subTest(body=body[:8]):
                err = self.assertRpcError(grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_REQUEST",
                                          fn, body, metadata=self.md, timeout=DEADLINE)
                self.assertIn("could not be parsed", err.details())
        # The same shape at a sane depth is an ordinary write.
        interact(_interaction_with_payload_depth(self.customer_id, 20), metadata=self.md,
                 timeout=DEADLINE)

    # ------------------------------------------------------ stream limits

    def test_every_stream_message_takes_a_token(self):
        _, key = stack.create_key(self.admin, ["ROLE_INTEGRATION"], rateLimitPerSecond=1)
        stub = erp_grpc.ErpIntegrationServiceStub(channel)
        # Rate 1/s, burst 2: the stream's admission takes one token, so of a
        # quick series of batches only the first few pass.
        reqs = [erp.IngestOrdersRequest(batch_id="b%d" % i) for i in range(10)]
        got = []
        with self.assertRaises(grpc.RpcError) as cm:
            for r in stub.IngestOrders(iter(reqs), metadata=stack.auth(key), timeout=DEADLINE):
                got.append(r)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(stack.reason_of(cm.exception), "RATE_LIMITED")
        self.assertLess(len(got), 4)
        trailers = dict(cm.exception.trailing_metadata() or ())
        self.assertIn("retry-after-ms", trailers)

    def test_concurrent_streams_per_tenant_are_capped(self):
        _, admin = stack.create_tenant()
        _, key = stack.create_key(admin, ["ROLE_INTEGRATION"])
        stub = erp_grpc.ErpIntegrationServiceStub(channel)
        release = threading.Event()

        def held_requests():
            release.wait(DEADLINE)
            return
            yield  # a generator that sends nothing until released

        open_calls = []
        try:
            for _ in range(stack.MAX_STREAMS_PER_TENANT):
                call = stub.IngestOrders(held_requests(), metadata=stack.auth(key),
                                         timeout=DEADLINE)
                open_calls.append(call)
            # Wait until the gateway relays them all (its open-streams gauge).
            deadline = time.time() + DEADLINE
            while _streams_open() < stack.MAX_STREAMS_PER_TENANT and time.time() < deadline:
                time.sleep(0.05)
            self.assertGreaterEqual(_streams_open(), stack.MAX_STREAMS_PER_TENANT)
            extra = stub.IngestOrders(held_requests(), metadata=stack.auth(key), timeout=DEADLINE)
            with self.assertRaises(grpc.RpcError) as cm:
                list(extra)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertEqual(stack.reason_of(cm.exception), "TOO_MANY_STREAMS")
            # Another tenant is not affected.
            other = stub.IngestOrders(iter([]), metadata=self.md, timeout=DEADLINE)
            self.assertEqual(list(other), [])
        finally:
            release.set()
            for call in open_calls:
                try:
                    list(call)
                except grpc.RpcError:
                    pass
        # Once they ended, the tenant may stream again. The gateway frees a
        # slot when it has finished relaying the call, which can be a moment
        # after the client saw the end: wait for its gauge (bounded).
        deadline = time.time() + DEADLINE
        while _streams_open() >= stack.MAX_STREAMS_PER_TENANT and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(list(stub.IngestOrders(iter([]), metadata=stack.auth(key),
                                                timeout=DEADLINE)), [])


def _streams_open():
    import http.client
    conn = http.client.HTTPConnection(stack.HOST, stack.GATEWAY_METRICS_PORT, timeout=2)
    try:
        conn.request("GET", "/metrics")
        for line in conn.getresponse().read().decode().splitlines():
            if line.startswith("crm_gateway_grpc_streams_open"):
                return float(line.split()[-1])
    finally:
        conn.close()
    return 0.0


def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _len_field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _interaction_with_payload_depth(customer_id, depth):
    """CreateInteractionRequest bytes whose payload Struct nests `depth` levels."""
    value = _len_field(3, b"x")  # Value.string_value
    for _ in range(depth):
        entry = _len_field(1, b"k") + _len_field(2, value)  # Struct.fields map entry
        value = _len_field(5, _len_field(1, entry))          # Value.struct_value
    payload = _len_field(1, _len_field(1, b"k") + _len_field(2, value))  # the top Struct
    interaction = _varint(2 << 3) + _varint(1) + _len_field(7, payload)  # kind, payload
    return (_len_field(1, customer_id.encode()) + _len_field(2, interaction) +
            _len_field(3, uuid.uuid4().hex.encode()))  # request_id


if __name__ == "__main__":
    unittest.main(verbosity=2)
