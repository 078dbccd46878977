#!/usr/bin/python3
"""Client of bench/live_segments_bench.sh (127.0.0.1 only).

  live_segments_client.py rows MASTER REPLICAS TENANT OUT
      the COPY rows of segmentation.purchases: CDNOW_master.txt's purchases,
      REPLICAS times, each replica's customers new ones and its dates shifted
      so that its last day (1998-06-30) is yesterday minus (k % 28) days (the
      windows of the segments then hold real members). Prints "<rows>
      <customers>".
  live_segments_client.py segments ADDR STUBS TENANT CONTEXT_KEY N
      creates N segments (CreateSegment straight to the service, the tenant
      context sealed with CONTEXT_KEY), 3-condition expressions over orders
      with thresholds spread across the data, then
      "bought-last-hour" (purchased(1h)). Prints JSON: seconds of the first
      create (it loads the tenant) and of the others, member counts.
  live_segments_client.py count ADDR STUBS TENANT CONTEXT_KEY
      200 GetSegment calls of COUNT_SEGMENT (the live count) and 3
      PreviewSegment calls of its expression (a dry run over every customer).
      Prints JSON: the counts, p50/p99 ms of each.
  live_segments_client.py inject REDIS_PORT STUBS MASTER TENANT REPLICAS RATE SECONDS OUT
      open-loop order.placed envelopes straight onto the event streams (what
      the transaction engine's relay would add), RATE per second for SECONDS,
      each a new order of a distinct existing customer placed now; writes
      "<customer id>\\t<send time, unix us>" per event to OUT. Prints the
      events sent and the achieved rate.
"""
import argparse
import datetime
import hashlib
import hmac
import importlib
import json
import socket
import sys
import time
import uuid

NS = uuid.UUID("7a1c0b9e-2f3d-4e5a-8b6c-9d0e1f2a3b4c")
LAST = datetime.date(1998, 6, 30)


def customer_of(k, cid):
    return uuid.uuid5(NS, "c-%d-%d" % (k, cid))


def read_master(path):
    out = []
    with open(path, encoding="ascii") as f:
        next(f)
        for line in f:
            cid, day, _, dollars = line.split()
            out.append((int(cid), datetime.date(int(day[:4]), int(day[4:6]), int(day[6:])),
                        int(round(float(dollars) * 100))))
    return out


def rows(args):
    purchases = read_master(args.master)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    n = 0
    with open(args.out, "w", encoding="ascii") as out:
        for k in range(args.replicas):
            shift = (yesterday - datetime.timedelta(days=k % 28)) - LAST
            for i, (cid, day, cents) in enumerate(purchases):
                customer = customer_of(k, cid)
                order = uuid.uuid5(NS, "o-%d-%d" % (k, i))
                placed = datetime.datetime.combine(day + shift, datetime.time(12))
                out.write("%s\t%s\t%s\t%s\t%s+00\tUSD\t%d\tplaced\t1\n" % (
                    args.tenant, order, customer, customer, placed.isoformat(sep=" "), cents))
                n += 1
    print(n, len({c for c, _, _ in purchases}) * args.replicas)
    return 0


def metadata(args):
    """The sealed tenant context (libs/common/context_seal.h) for a call
    straight to the service, made fresh for each call (a seal lives 300 s)."""
    exp = int(time.time()) + 300
    mac = hmac.new(args.context_key.encode(), ("v1\n%d\n%s\n%s\n%s" % (
        exp, args.tenant, "bench", "admin")).encode(), hashlib.sha256).hexdigest()
    return (("x-crm-tenant-id", args.tenant), ("x-crm-principal", "bench"),
            ("x-crm-roles", "admin"), ("x-crm-context-seal", "v1.%d.%s" % (exp, mac)))


def stub(args):
    if not args.addr.startswith("127.0.0.1:"):
        raise SystemExit("refusing non-loopback address " + args.addr)
    sys.path.insert(0, args.stubs)
    import grpc  # noqa: E402
    pb = importlib.import_module("crm.segmentation.v1.segmentation_pb2")
    pb_grpc = importlib.import_module("crm.segmentation.v1.segmentation_pb2_grpc")
    ch = grpc.insecure_channel(args.addr, options=[("grpc.max_receive_message_length", 1 << 26)])
    return pb, pb_grpc.SegmentationServiceStub(ch)


# The segment the count compares with SQL (bench/live_segments_bench.sh has
# the same condition in SQL): lapsed customers of some value.
COUNT_SEGMENT = ("s002", "NOT purchased(365d) AND orders(3650d) >= 3 AND spent(3650d) >= 100")


def expressions(n):
    """n 3-condition expressions over orders (what most marketing segments
    are), thresholds spread so each holds about 0.1 % to 15 % of the
    customers, as targeted segments do."""
    out = []
    for i in range(n):
        t = i % 5
        a = 50 + 25 * (i // 5)           # 50 .. 525 USD
        k = 2 + (i // 5) % 5             # 2 .. 6 orders
        if (("s%03d" % i) == COUNT_SEGMENT[0]):
            out.append(COUNT_SEGMENT)
            continue
        if t == 0:
            e = "spent(365d) >= %d AND orders(365d) >= %d AND NOT purchased(7d)" % (a, k)
        elif t == 1:
            e = "orders(90d) >= %d AND spent(90d) >= %d AND purchased(30d)" % (k, a)
        elif t == 2:
            e = "NOT purchased(365d) AND orders(3650d) >= %d AND spent(3650d) >= %d" % (k + 1, 2 * a)
        elif t == 3:
            e = "(spent(30d) >= %d OR orders(30d) >= %d) AND NOT purchased(3d)" % (a, k)
        else:
            e = "purchased(180d) AND NOT purchased(60d) AND spent(180d) >= %d" % a
        out.append(("s%03d" % i, e))
    return out


def segments(args):
    pb, s = stub(args)
    times, counts = [], {}
    todo = expressions(args.n) + [("bought-last-hour", "purchased(1h)")]
    for sid, expr in todo:
        t0 = time.monotonic()
        seg = s.CreateSegment(pb.CreateSegmentRequest(
            segment=pb.Segment(segment_id=sid, display_name=sid, expression=expr),
            request_id="bench-" + sid), metadata=metadata(args), timeout=600)
        times.append(time.monotonic() - t0)
        counts[sid] = seg.member_count
    rest = sorted(times[1:])
    print(json.dumps({"first_s": times[0], "others_mean_s": sum(rest) / len(rest),
                      "others_p50_s": rest[len(rest) // 2], "others_max_s": rest[-1],
                      "segments": len(todo), "member_counts": counts}))
    return 0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def count(args):
    pb, s = stub(args)
    md = metadata(args)
    got, lat = None, []
    for _ in range(200):
        t0 = time.perf_counter()
        got = s.GetSegment(pb.GetSegmentRequest(segment_id=COUNT_SEGMENT[0]), metadata=md,
                           timeout=60).member_count
        lat.append((time.perf_counter() - t0) * 1000)
    prev, plat = None, []
    for _ in range(3):
        t0 = time.perf_counter()
        prev = s.PreviewSegment(pb.PreviewSegmentRequest(expression=COUNT_SEGMENT[1]),
                                metadata=metadata(args), timeout=600).count
        plat.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"segment": COUNT_SEGMENT[0], "expression": COUNT_SEGMENT[1],
                      "count": got, "get_p50_ms": pct(lat, 50), "get_p99_ms": pct(lat, 99),
                      "preview_count": prev, "preview_median_ms": pct(plat, 50)}))
    return 0


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        if isinstance(p, str):
            p = p.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def stream_for(customer, partitions=8):
    h = 2166136261
    for c in customer.encode():
        h ^= c
        h = (h * 16777619) & 0xFFFFFFFF
    return "crm:events:p%d" % (h % partitions)


def inject(args):
    sys.path.insert(0, args.stubs)
    env_pb = importlib.import_module("crm.events.v1.envelope_pb2")
    master = read_master(args.master)
    cids = sorted({c for c, _, _ in master})
    sock = socket.create_connection(("127.0.0.1", args.redis_port))
    total = int(args.rate * args.seconds)
    interval = 1.0 / args.rate
    start = time.monotonic()
    sent = []
    for n in range(total):
        due = start + n * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        k, cid = n % args.replicas, cids[(n // args.replicas) % len(cids)]
        customer = str(customer_of(k, cid))
        sent_us = int(time.time() * 1e6)
        payload = json.dumps({"order_id": str(uuid.uuid4()), "customer_id": customer,
                              "currency_code": "USD", "status": "placed", "version": 1,
                              "total_minor": "1000", "net_minor": "1000",
                              "returned_minor": "0", "placed_at_us": str(sent_us)})
        e = env_pb.EventEnvelope(event_id=str(uuid.uuid4()), tenant_id=args.tenant,
                                 type="order.placed", customer_id=customer, producer="bench",
                                 schema_version=1, payload_json=payload)
        e.occurred_at.FromMicroseconds(sent_us)
        sock.sendall(resp("XADD", stream_for(customer), "*", "envelope", e.SerializeToString()))
        sent.append((customer, sent_us))
        # Drop the replies (entry ids) as they come, so the socket never backs up.
        sock.setblocking(False)
        try:
            while sock.recv(65536):
                pass
        except BlockingIOError:
            pass
        sock.setblocking(True)
    elapsed = time.monotonic() - start
    with open(args.out, "w", encoding="ascii") as f:
        for c, us in sent:
            f.write("%s\t%d\n" % (c, us))
    print(total, "%.1f" % (total / elapsed))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rows")
    r.add_argument("master")
    r.add_argument("replicas", type=int)
    r.add_argument("tenant")
    r.add_argument("out")
    for name in ("segments", "count"):
        c = sub.add_parser(name)
        c.add_argument("addr")
        c.add_argument("stubs")
        c.add_argument("tenant")
        c.add_argument("context_key")
        if name == "segments":
            c.add_argument("n", type=int)
    i = sub.add_parser("inject")
    i.add_argument("redis_port", type=int)
    i.add_argument("stubs")
    i.add_argument("master")
    i.add_argument("tenant")
    i.add_argument("replicas", type=int)
    i.add_argument("rate", type=float)
    i.add_argument("seconds", type=float)
    i.add_argument("out")
    args = p.parse_args()
    return {"rows": rows, "segments": segments, "count": count, "inject": inject}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
