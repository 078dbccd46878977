#!/usr/bin/env python3
"""Load generator of bench/personalization_bench.sh.

  personalization_client.py inject REDIS_PORT STUBS TENANT CUSTOMERS PRODUCTS ORDERS RATE
      puts ORDERS order.placed envelopes straight on the event streams (as the
      transaction engine's relay would) at RATE per second: each of a random
      seeded customer (md5('pc-' || g)::uuid, g in 1..CUSTOMERS) with 3 lines of
      products drawn as the seeded ones are (log-uniform over 1..PRODUCTS, a
      Zipf-like head), order ids 'bench-<n>'. Prints "sent seconds".
"""
import hashlib
import importlib
import json
import math
import random
import socket
import sys
import time
import uuid

from live_segments_client import resp, stream_for


def customer(g):
    return str(uuid.UUID(hashlib.md5(b"pc-%d" % g).hexdigest()))


def sku(products, rng):
    return "SKU-%d" % int(math.exp(rng.random() * math.log(products)))


def inject(redis_port, stubs, tenant, customers, products, orders, rate):
    sys.path.insert(0, stubs)
    env_pb = importlib.import_module("crm.events.v1.envelope_pb2")
    rng = random.Random(7)
    sock = socket.create_connection(("127.0.0.1", redis_port))
    start = time.monotonic()
    for n in range(orders):
        due = start + n / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        cid = customer(rng.randint(1, customers))
        at_us = int(time.time() * 1e6)
        lines = [{"sku": sku(products, rng), "quantity": 1, "returned_quantity": 0,
                  "line_total_minor": "1000"} for _ in range(3)]
        payload = json.dumps({"order_id": "bench-%d" % n, "customer_id": cid,
                              "external_id": "", "currency_code": "USD", "status": "placed",
                              "version": 1, "total_minor": "3000", "net_minor": "3000",
                              "returned_minor": "0", "placed_at_us": str(at_us),
                              "lines": lines})
        e = env_pb.EventEnvelope(event_id=str(uuid.uuid4()), tenant_id=tenant,
                                 type="order.placed", customer_id=cid, producer="bench",
                                 schema_version=1, payload_json=payload)
        e.occurred_at.FromMicroseconds(at_us)
        sock.sendall(resp("XADD", stream_for(cid), "*", "envelope", e.SerializeToString()))
        sock.setblocking(False)
        try:
            while sock.recv(65536):
                pass
        except BlockingIOError:
            pass
        sock.setblocking(True)
    print(orders, "%.3f" % (time.monotonic() - start))


if __name__ == "__main__":
    if len(sys.argv) != 9 or sys.argv[1] != "inject":
        sys.exit(__doc__)
    a = sys.argv[2:]
    inject(int(a[0]), a[1], a[2], int(a[3]), int(a[4]), int(a[5]), float(a[6]))
