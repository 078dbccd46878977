"""Segmentation engine (engine 2) through the gateway: REST and gRPC."""

import importlib
import unittest

import grpc

import stack
from stack import rest

DEADLINE = 10  # seconds, on every gRPC call

seg = seg_grpc = None
channel = None


def setUpModule():
    global seg, seg_grpc, channel
    stack.start()
    seg = importlib.import_module("crm.segmentation.v1.segmentation_pb2")
    seg_grpc = importlib.import_module("crm.segmentation.v1.segmentation_pb2_grpc")
    channel = stack.grpc_channel()
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)


def tearDownModule():
    if channel is not None:
        channel.close()
    stack.stop()


class ClvModelBeforeRefit(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()

    def test_rest_not_found_until_refit(self):
        r = rest("GET", "/v1/models/clv", self.key)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.reason(), "MODEL_NOT_FOUND", r)

    def test_grpc_not_found_until_refit(self):
        stub = seg_grpc.SegmentationServiceStub(channel)
        with self.assertRaises(grpc.RpcError) as e:
            stub.GetClvModel(seg.GetClvModelRequest(), metadata=stack.auth(self.key),
                             timeout=DEADLINE)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_needs_a_key(self):
        self.assertEqual(rest("GET", "/v1/models/clv", None).status, 401)


class BadInput(stack.E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls.tenant, cls.key = stack.create_tenant()

    def assertField(self, r, status, reason, field):
        self.assertEqual((r.status, r.reason(), r.error_field()), (status, reason, field), r)

    def test_refit_input_is_checked(self):
        def refit(body):
            return rest("POST", "/v1/models/clv:refit", self.key,
                        dict(body, requestId=stack.unique("r")))
        self.assertField(refit({"asOf": "1997-02-30"}), 400, "INVALID_FIELD", "as_of")
        self.assertField(refit({"asOf": "2999-01-01"}), 400, "INVALID_FIELD", "as_of")
        self.assertField(refit({"settings": {"timeZone": "Mars/Olympus"}}), 400,
                         "INVALID_FIELD", "settings.time_zone")
        self.assertField(refit({"settings": {"currencyCode": "XYZ"}}), 400, "INVALID_FIELD",
                         "settings.currency_code")
        r = refit({"unknownField": 1})
        self.assertEqual((r.status, r.reason()), (400, "UNKNOWN_FIELD"), r)
        # No purchases at all: a clear refusal, and still no model.
        r = refit({})
        self.assertEqual((r.status, r.reason()), (400, "INSUFFICIENT_DATA"), r)
        self.assertEqual(rest("GET", "/v1/models/clv", self.key).status, 404)

    def test_query_parameters_are_checked(self):
        self.assertField(rest("GET", "/v1/rfm:summary?settings.currencyCode=XYZ", self.key), 400,
                         "INVALID_FIELD", "settings.currency_code")
        self.assertField(rest("GET", "/v1/customers/not-a-uuid/scores", self.key), 400,
                         "INVALID_FIELD", "customer_id")
        r = rest("GET", "/v1/customers/%s/scores?horizon=-1" % "00000000-0000-4000-8000-000000000001",
                 self.key)
        self.assertField(r, 400, "INVALID_FIELD", "horizon")
        r = rest("POST", "/v1/models/clv:evaluate", self.key, {"calibrationEnd": "1997-09-30"})
        self.assertField(r, 400, "INVALID_FIELD", "holdout_end")

    def test_read_only_keys_cannot_refit(self):
        _, reader = stack.create_key(self.key, ["ROLE_READ_ONLY"])
        r = rest("POST", "/v1/models/clv:refit", reader, {"requestId": "x"})
        self.assertEqual((r.status, r.reason()), (403, "PERMISSION_DENIED_FOR_ROLE"), r)
        self.assertEqual(rest("GET", "/v1/models/clv", reader).status, 404)


if __name__ == "__main__":
    unittest.main()
