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


if __name__ == "__main__":
    unittest.main()
