#!/usr/bin/python3
"""Client of bench/segmentation_bench.sh (no generated stubs needed).

  refit_client.py rows MASTER REPLICAS TENANT OUT
      writes the COPY rows of segmentation.purchases: CDNOW_master.txt's
      69,659 purchases of 23,570 customers, REPLICAS times; replica k's
      customers are new customers and its dates are shifted by k % 28 days
      (so summaries differ between replicas, as a real base's would). One
      order per purchase, status placed, USD. Prints "<rows> <customers>".
  refit_client.py refit ADDR STUBS AS_OF [--md k=v ...]
      one RefitClvModel call (deadline 600 s); prints the wall seconds and the
      fitted model as JSON on one line.

Run with Debian's /usr/bin/python3 (python3-grpcio). 127.0.0.1 only.
"""
import argparse
import datetime
import importlib
import json
import sys
import time
import uuid

import grpc
from google.protobuf import json_format


def rows(args):
    purchases = []
    with open(args.master, encoding="ascii") as f:
        next(f)  # header
        for line in f:
            cid, day, _, dollars = line.split()
            purchases.append((int(cid), datetime.date(int(day[:4]), int(day[4:6]), int(day[6:])),
                              int(round(float(dollars) * 100))))
    customers = len({c for c, _, _ in purchases})
    n = 0
    ns = uuid.UUID("6f0b1c1e-5e7a-4c53-9a42-8e1c0c1d2b3a")
    with open(args.out, "w", encoding="ascii") as out:
        for k in range(args.replicas):
            shift = datetime.timedelta(days=k % 28)
            for i, (cid, day, cents) in enumerate(purchases):
                customer = uuid.uuid5(ns, "c-%d-%d" % (k, cid))
                order = uuid.uuid5(ns, "o-%d-%d" % (k, i))
                placed = datetime.datetime.combine(day + shift, datetime.time(12))
                out.write("%s\t%s\t%s\t%s\t%s+00\tUSD\t%d\tplaced\t1\n" % (
                    args.tenant, order, customer, customer, placed.isoformat(sep=" "), cents))
                n += 1
    print(n, customers * args.replicas)
    return 0


def refit(args):
    if not args.addr.startswith("127.0.0.1:"):
        raise SystemExit("refusing non-loopback address " + args.addr)
    sys.path.insert(0, args.stubs)
    pb = importlib.import_module("crm.segmentation.v1.segmentation_pb2")
    pb_grpc = importlib.import_module("crm.segmentation.v1.segmentation_pb2_grpc")
    md = tuple(tuple(kv.split("=", 1)) for kv in args.md)
    with grpc.insecure_channel(args.addr) as ch:
        stub = pb_grpc.SegmentationServiceStub(ch)
        req = pb.RefitClvModelRequest(request_id="bench-" + uuid.uuid4().hex, as_of=args.as_of)
        req.settings.time_unit = pb.TIME_UNIT_WEEKS
        t0 = time.monotonic()
        m = stub.RefitClvModel(req, metadata=md, timeout=600)
        seconds = time.monotonic() - t0
    print("%.3f %s" % (seconds, json.dumps(json_format.MessageToDict(m), separators=(",", ":"))))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rows")
    r.add_argument("master")
    r.add_argument("replicas", type=int)
    r.add_argument("tenant")
    r.add_argument("out")
    f = sub.add_parser("refit")
    f.add_argument("addr")
    f.add_argument("stubs")
    f.add_argument("as_of")
    f.add_argument("--md", action="append", default=[])
    args = ap.parse_args()
    return rows(args) if args.cmd == "rows" else refit(args)


if __name__ == "__main__":
    sys.exit(main())
