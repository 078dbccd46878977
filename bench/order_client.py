#!/usr/bin/python3
"""Load generator of bench/transaction_bench.sh (bulk order ingest) and
bench/order_latency_bench.sh (order write -> customer-store visibility).

  order_client.py catalog ADDR --stubs DIR --md k=v... --skus K
      BatchUpsertProducts: SKU-00001..K (one request per 1,000 products)
  order_client.py ingest ADDR --stubs DIR --md k=v... --tag T --orders N
                  --batch B --streams S --customers C --skus K [--warm W]
      IngestOrders bidi streams: S concurrent streams (one connection each),
      N orders in batches of B (3 lines each), split round-robin over the
      streams; each stream sends its batches without waiting (the server
      answers them in order, one at a time). A warm-up batch of W orders
      (TAG-warm) goes first on a stream of its own, unmeasured.
  order_client.py copy --super-socket DIR:PORT --tenant UUID --tag T --orders N
                  --batch B --streams S --customers C --skus K [--warm W]
                  [--audit] --out DIR
      the ceiling: psql \\copy of the same orders into txn.orders,
      txn.order_lines and one txn.outbox event per order (+ txn.audit_log
      with --audit), one transaction per batch of B orders, S psql sessions
      in parallel, as the PostgreSQL superuser over the unix socket (COPY
      FROM is refused under row-level security, which these tables FORCE).
  order_client.py pace ADDR --stubs DIR --md k=v... --tag T --rate R
                  --duration D --warm W --procs P --proc I --start-at EPOCH
                  --customers C --skus K --out FILE
      open-loop CreateOrder: order k (k = I, I+P, I+2P, ...) is SENT at
      EPOCH + k/R whatever happened to the earlier ones (never waits for a
      reply); W seconds of warm-up then D measured seconds. One line per order
      to FILE: k, scheduled, sent, acked (wall clock, s), gRPC code, order id.
  order_client.py latency --sends FILE... --db FILE --warm-s W --rate R
      joins the client's lines with the database's (order id, commit times)
      and prints the percentiles as one JSON line.

All request bytes are built BEFORE any clock starts. 127.0.0.1 only.

Orders: customer md5('bench-cust-<n>')::uuid (n in 1..C, seeded by the
scripts), currency CHF, 3 lines with SKUs of the catalog (SKU-<5 digits>,
quantity 1..3, the catalog price, every 4th line with a discount), channel
ERP (ingest) or WEB (pace), store_id, placed_time 2026-11-01T00:00:00Z.
"""
import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid

INGEST = "/crm.transaction.v1.ErpIntegrationService/IngestOrders"
UPSERT = "/crm.transaction.v1.TransactionService/BatchUpsertProducts"
CREATE = "/crm.transaction.v1.TransactionService/CreateOrder"
PLACED_AT_US = 1793491200 * 1000000          # 2026-11-01T00:00:00Z
PLACED_AT = "2026-11-01 00:00:00+00"
CREATED_AT = "2026-11-01 00:05:00+00"
CREATED_AT_US = PLACED_AT_US + 300 * 1000000


def check_loopback(hostport):
    if not hostport.startswith("127.0.0.1:"):
        raise SystemExit(f"refusing non-loopback address {hostport}")
    return hostport


def cpu_self():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def cpu_children():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def customer_id(n):
    return str(uuid.UUID(hashlib.md5(f"bench-cust-{n}".encode()).hexdigest()))


def sku_of(n):
    return f"SKU-{n:05d}"


def price_of(n):
    return 100 + (n * 3779) % 9900  # minor units, 1.00 .. 99.99


def order_shape(i, customers, skus):
    """(customer_id, [(sku, qty, unit_price, discount)], total) of order i."""
    lines = []
    for j in range(3):
        s = 1 + (i * 7 + j * 131) % skus
        qty = 1 + (i + j) % 3
        price = price_of(s)
        disc = (price // 10) if (i + j) % 4 == 0 else 0
        lines.append((sku_of(s), qty, price, disc))
    total = sum(q * p - d for _, q, p, d in lines)
    return customer_id(1 + (i * 2654435761) % customers), lines, total


def metadata(a):
    md = []
    for p in a.md or []:
        k, _, v = p.partition("=")
        md.append((k, v))
    return md


def channel_to(addr, separate=True):
    import grpc
    opts = [("grpc.max_receive_message_length", 64 << 20),
            ("grpc.max_send_message_length", 64 << 20)]
    if separate:  # its own TCP connection, like a separate client
        opts.append(("grpc.use_local_subchannel_pool", 1))
    return grpc.insecure_channel(check_loopback(addr), options=opts)


# ----------------------------------------------------------------- catalog

def cmd_catalog(a):
    sys.path.insert(0, a.stubs)
    from crm.transaction.v1 import transaction_pb2 as tpb
    ch = channel_to(a.addr)
    call = ch.unary_unary(UPSERT, request_serializer=tpb.BatchUpsertProductsRequest.SerializeToString,
                          response_deserializer=tpb.BatchUpsertProductsResponse.FromString)
    created = updated = errors = 0
    for start in range(1, a.skus + 1, 1000):
        req = tpb.BatchUpsertProductsRequest(request_id=f"bench-catalog-{start}-{uuid.uuid4().hex[:8]}")
        for n in range(start, min(a.skus, start + 999) + 1):
            p = req.products.add()
            p.sku = sku_of(n)
            p.name = f"Bench product {n}"
            p.category_path.extend(["Bench", f"Group {n % 10}"])
            p.price.amount_minor = price_of(n)
            p.price.currency_code = "CHF"
            p.active = True
        resp = call(req, metadata=metadata(a), timeout=60)
        created += resp.created
        updated += resp.updated
        errors += len(resp.errors)
        if resp.errors:
            print(f"catalog: first error {resp.errors[0]}", file=sys.stderr)
    ch.close()
    print(json.dumps({"created": created, "updated": updated, "errors": errors}))
    return 0 if errors == 0 else 1


# ------------------------------------------------------------------ ingest

def plan_batches(a):
    """[(stream, batch_id, first_order_index, count)] round-robin over streams."""
    out = []
    nb = (a.orders + a.batch - 1) // a.batch
    for b in range(nb):
        first = b * a.batch
        out.append((b % a.streams, f"{a.tag}-b{b:04d}", first, min(a.batch, a.orders - first)))
    return out


def ingest_request(epb, tpb, a, batch_id, first, n, tag):
    req = epb.IngestOrdersRequest(batch_id=batch_id)
    for i in range(first, first + n):
        cust, lines, total = order_shape(i, a.customers, a.skus)
        o = req.orders.add()
        o.external_id = f"{tag}-{i:07d}"
        o.customer_id = cust
        o.currency_code = "CHF"
        o.total_minor = total
        o.channel = tpb.SALES_CHANNEL_ERP
        o.store_id = "erp-bench"
        o.placed_time.seconds = PLACED_AT_US // 1000000
        for sku, qty, price, disc in lines:
            ln = o.lines.add()
            ln.sku, ln.quantity, ln.unit_price_minor, ln.discount_minor = sku, qty, price, disc
    return req.SerializeToString()


def cmd_ingest(a):
    sys.path.insert(0, a.stubs)
    import grpc
    from crm.transaction.v1 import erp_pb2 as epb
    from crm.transaction.v1 import transaction_pb2 as tpb
    md = metadata(a)
    t0 = time.perf_counter()
    plan = plan_batches(a)
    per_stream = [[] for _ in range(a.streams)]
    for s, bid, first, n in plan:
        per_stream[s].append((bid, n, ingest_request(epb, tpb, a, bid, first, n, a.tag)))
    warm = ingest_request(epb, tpb, a, f"{a.tag}-warm", 0, a.warm, f"{a.tag}-warm") if a.warm else None
    prep = time.perf_counter() - t0
    req_bytes = sum(len(m) for _, _, m in per_stream[0][:1])

    def run_stream(ch, msgs):
        call = ch.stream_stream(INGEST, request_serializer=None,
                                response_deserializer=epb.IngestOrdersResponse.FromString)
        return call(iter(msgs), metadata=md, timeout=900)

    report = {"created": 0, "already_existing": 0, "rejected": 0, "responses": 0}
    warm_rep = None
    if warm:
        ch = channel_to(a.addr)
        try:
            for r in run_stream(ch, [warm]):
                warm_rep = {"created": r.created, "rejected": r.rejected,
                            "already_existing": r.already_existing}
        except grpc.RpcError as e:
            raise SystemExit(f"warm-up: {e.code().name}: {e.details()}")
        ch.close()

    chans = [channel_to(a.addr) for _ in range(a.streams)]
    for ch in chans:  # connect before the clock starts
        grpc.channel_ready_future(ch).result(timeout=10)
    barrier = threading.Barrier(a.streams + 1)
    ends = [0.0] * a.streams
    batch_lat = [[] for _ in range(a.streams)]
    errors = []
    lock = threading.Lock()

    def worker(k):
        msgs = [m for _, _, m in per_stream[k]]
        barrier.wait()
        start = time.perf_counter()
        try:
            got = 0
            for r in run_stream(chans[k], msgs):
                now = time.perf_counter()
                batch_lat[k].append(now - start)
                with lock:
                    report["created"] += r.created
                    report["already_existing"] += r.already_existing
                    report["rejected"] += r.rejected
                    report["responses"] += 1
                    if r.rejected and len(errors) < 3:
                        bad = [x for x in r.results if x.outcome == 3][:1]
                        errors.append(f"{r.batch_id}: rejected {r.rejected}: "
                                      f"{bad[0].field} {bad[0].reason} {bad[0].message}" if bad else "")
                got += 1
            if got != len(msgs):
                with lock:
                    errors.append(f"stream {k}: {got} responses for {len(msgs)} batches")
        except grpc.RpcError as e:
            with lock:
                errors.append(f"stream {k}: {e.code().name}: {e.details()}")
        ends[k] = time.perf_counter()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.streams)]
    for t in threads:
        t.start()
    c0 = cpu_self()
    barrier.wait()
    t_start = time.perf_counter()
    for t in threads:
        t.join()
    wall = max(ends) - t_start
    cpu = cpu_self() - c0
    for ch in chans:
        ch.close()
    # Per-batch intervals: gaps between consecutive responses of a stream.
    gaps = []
    for lst in batch_lat:
        prev = 0.0
        for x in lst:
            gaps.append(x - prev)
            prev = x
    gaps.sort()
    out = {"mode": "ingest", "tag": a.tag, "orders": a.orders, "lines": 3 * a.orders,
           "seconds": round(wall, 4), "orders_per_s": round(a.orders / wall, 1),
           "client_cpu_s": round(cpu, 3), "prepare_s": round(prep, 2),
           "streams": a.streams, "batches": len(plan), "request_bytes_per_batch": req_bytes,
           "stream_seconds": [round(e - t_start, 3) for e in ends],
           "batch_interval_p50_s": round(gaps[len(gaps) // 2], 4) if gaps else None,
           "batch_interval_max_s": round(gaps[-1], 4) if gaps else None,
           "report": report, "warm_report": warm_rep, "errors": errors}
    print(json.dumps(out))
    return 0 if not errors else 1


# -------------------------------------------------------------------- COPY

def cmd_copy(a):
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    plan = plan_batches(a)
    scripts = [["\\set ON_ERROR_STOP 1"] for _ in range(a.streams)]

    def write_batch(lines_out, bid, first, n, tag):
        base = os.path.join(a.out, f"copy-{bid}")
        with open(base + ".orders.tsv", "w") as fo, open(base + ".lines.tsv", "w") as fl, \
                open(base + ".outbox.tsv", "w") as fe, \
                (open(base + ".audit.tsv", "w") if a.audit else open(os.devnull, "w")) as fa:
            for i in range(first, first + n):
                cust, lines, total = order_shape(i, a.customers, a.skus)
                oid = str(uuid.uuid4())
                ext = f"{tag}-{i:07d}"
                # The columns and values erp_insert_orders writes (channel 5 =
                # ERP, status 1 = placed, version 1).
                fo.write(f"{a.tenant}\t{oid}\t{cust}\tCHF\t{total}\t5\terp-bench\t1\t"
                         f"{PLACED_AT}\t1\t{CREATED_AT}\t{CREATED_AT}\t{ext}\n")
                jl = []
                for no, (sku, qty, price, disc) in enumerate(lines):
                    fl.write(f"{a.tenant}\t{oid}\t{no}\t{sku}\t{qty}\t{price}\t{disc}\n")
                    jl.append({"line_total_minor": str(qty * price - disc), "quantity": qty,
                               "returned_quantity": 0, "sku": sku})
                # The payload OrderEventPayload builds (nlohmann: sorted keys).
                payload = json.dumps({
                    "currency_code": "CHF", "customer_id": cust, "external_id": ext,
                    "lines": jl, "net_minor": str(total), "order_id": oid,
                    "placed_at_us": str(PLACED_AT_US), "returned_minor": "0",
                    "status": "placed", "total_minor": str(total), "version": 1},
                    sort_keys=True, separators=(",", ":"))
                fe.write(f"{uuid.uuid4()}\t{a.tenant}\t{cust}\torder.placed\t{payload}\n")
                if a.audit:
                    fa.write(f"{a.tenant}\tbench-key\tIngestOrders\t{oid}\tOK\t\n")
        lines_out += ["BEGIN;",
                      f"\\copy txn.orders (tenant_id, id, customer_id, currency, total_minor, channel, "
                      f"store_id, status, placed_at, version, created_at, updated_at, external_id) "
                      f"FROM '{base}.orders.tsv'",
                      f"\\copy txn.order_lines (tenant_id, order_id, line_no, sku, quantity, "
                      f"unit_price_minor, discount_minor) FROM '{base}.lines.tsv'",
                      f"\\copy txn.outbox (event_id, tenant_id, customer_id, event_type, payload) "
                      f"FROM '{base}.outbox.tsv'"]
        if a.audit:
            lines_out.append(f"\\copy txn.audit_log (tenant_id, principal, method, resource, outcome, "
                             f"request_id) FROM '{base}.audit.tsv'")
        lines_out.append("COMMIT;")

    for s, bid, first, n in plan:
        write_batch(scripts[s], bid, first, n, a.tag)
    files = []
    for k, lines in enumerate(scripts):
        path = os.path.join(a.out, f"copy-{a.tag}-s{k}.sql")
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        files.append(path)
    warm_file = None
    if a.warm:
        wl = ["\\set ON_ERROR_STOP 1"]
        write_batch(wl, f"{a.tag}-warm", 0, a.warm, f"{a.tag}-warm")
        warm_file = os.path.join(a.out, f"copy-{a.tag}-warm.sql")
        with open(warm_file, "w") as fh:
            fh.write("\n".join(wl) + "\n")
    prep = time.perf_counter() - t0

    sock, _, port = a.super_socket.rpartition(":")
    psql = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
            "-h", sock, "-p", port, "-d", "crm"]
    if warm_file:
        subprocess.run(psql + ["-f", warm_file], check=True, stdout=subprocess.DEVNULL)
    c0, s0 = cpu_children(), cpu_self()
    t = time.perf_counter()
    procs = [subprocess.Popen(psql + ["-f", f], stdout=subprocess.DEVNULL) for f in files]
    rcs = [p.wait(timeout=900) for p in procs]
    wall = time.perf_counter() - t
    cpu = (cpu_children() - c0) + (cpu_self() - s0)
    if any(rcs):
        raise SystemExit(f"copy: psql exit codes {rcs}")
    print(json.dumps({"mode": "copy", "tag": a.tag, "orders": a.orders, "lines": 3 * a.orders,
                      "seconds": round(wall, 4), "orders_per_s": round(a.orders / wall, 1),
                      "client_cpu_s": round(cpu, 3), "prepare_s": round(prep, 2),
                      "streams": a.streams, "batches": len(plan), "audit": a.audit,
                      "report": {"created": a.orders, "already_existing": 0, "rejected": 0,
                                 "responses": len(plan)},
                      "warm_report": {"created": a.warm, "rejected": 0}, "errors": []}))
    return 0


# -------------------------------------------------------------------- pace

def cmd_pace(a):
    sys.path.insert(0, a.stubs)
    import grpc
    from crm.transaction.v1 import transaction_pb2 as tpb
    md = metadata(a)
    total = int(round(a.rate * (a.warm + a.duration)))
    mine = list(range(a.proc, total, a.procs))
    reqs = []
    for k in mine:
        cust, lines, total_minor = order_shape(k, a.customers, a.skus)
        req = tpb.CreateOrderRequest(request_id=f"{a.tag}-{k}")
        o = req.order
        o.external_id = f"{a.tag}-{k:07d}"
        o.customer_id = cust
        o.currency_code = "CHF"
        o.total_minor = total_minor
        o.channel = tpb.SALES_CHANNEL_WEB
        o.store_id = "web-bench"
        o.placed_time.seconds = PLACED_AT_US // 1000000
        for sku, qty, price, disc in lines:
            ln = o.lines.add()
            ln.sku, ln.quantity, ln.unit_price_minor, ln.discount_minor = sku, qty, price, disc
        reqs.append(req.SerializeToString())
    ch = channel_to(a.addr)
    grpc.channel_ready_future(ch).result(timeout=10)
    call = ch.unary_unary(CREATE, request_serializer=None, response_deserializer=None)
    n = len(mine)
    sched = [0.0] * n
    sent = [0.0] * n
    acked = [0.0] * n
    codes = [""] * n
    replies = [b""] * n
    pending = threading.Semaphore(0)

    def done(j, fut):
        acked[j] = time.time()
        try:
            replies[j] = fut.result()
            codes[j] = "OK"
        except grpc.RpcError as e:
            codes[j] = e.code().name
        pending.release()

    if a.start_at - time.time() > 60:
        raise SystemExit("--start-at is more than 60 s away")
    c0 = cpu_self()
    for j, k in enumerate(mine):
        ts = a.start_at + k / a.rate
        sched[j] = ts
        d = ts - time.time()
        if d > 0:
            time.sleep(d)
        sent[j] = time.time()
        fut = call.future(reqs[j], metadata=md, timeout=a.timeout)
        fut.add_done_callback(lambda f, j=j: done(j, f))
    last_sent = time.time()
    for _ in range(n):
        if not pending.acquire(timeout=a.timeout + 10):
            break
    cpu = cpu_self() - c0
    ch.close()
    with open(a.out, "w") as fh:
        for j, k in enumerate(mine):
            oid = tpb.Order.FromString(replies[j]).id if codes[j] == "OK" else ""
            oid = oid or "-"
            fh.write(f"{k}\t{sched[j]:.6f}\t{sent[j]:.6f}\t{acked[j]:.6f}\t{codes[j] or 'NONE'}\t{oid}\n")
    print(json.dumps({"proc": a.proc, "orders": n, "ok": codes.count("OK"),
                      "send_seconds": round(last_sent - sent[0], 3) if n else 0,
                      "client_cpu_s": round(cpu, 3)}))
    return 0


# ----------------------------------------------------------------- latency

def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = max(1, int(-(-len(sorted_vals) * p // 1)))  # nearest rank
    return sorted_vals[min(i, len(sorted_vals)) - 1]


def summary_ms(vals):
    v = sorted(vals)
    return {"n": len(v), "p50": round(pct(v, 0.50) * 1000, 2), "p95": round(pct(v, 0.95) * 1000, 2),
            "p99": round(pct(v, 0.99) * 1000, 2), "max": round(v[-1] * 1000, 2) if v else None,
            "mean": round(sum(v) / len(v) * 1000, 2) if v else None}


def cmd_latency(a):
    client = {}
    for f in a.sends:
        with open(f) as fh:
            for ln in fh:
                k, sc, se, ac, code, oid = ln.rstrip("\n").split("\t")
                client[int(k)] = (float(sc), float(se), float(ac), code, oid)
    db = {}
    with open(a.db or os.devnull) as fh:  # no --db: client-side figures only
        for ln in fh:
            # order id, order created_at (service clock, before its transaction),
            # order commit, relay stamp (published_at: the relay's transaction
            # start), projection row commit
            oid, created, ocommit, published, pcommit = ln.rstrip("\n").split("\t")
            db[oid] = (float(created), float(ocommit), float(published) if published else None,
                       float(pcommit) if pcommit else None)
    total = len(client)
    t0 = min(v[0] for v in client.values())
    measured = {k: v for k, v in client.items() if v[0] >= t0 + a.warm_s}
    ok = [v for v in measured.values() if v[3] == "OK"]
    codes = {}
    for v in measured.values():
        codes[v[3]] = codes.get(v[3], 0) + 1
    # Overload answers: RESOURCE_EXHAUSTED (a service's queue is full: load
    # shed) and DEADLINE_EXCEEDED (queued longer than the deadline). They are
    # what an open-loop generator above capacity gets, and are reported as
    # such ("shed"), not as errors of the measurement; anything else not OK
    # is an error.
    shed = codes.get("RESOURCE_EXHAUSTED", 0) + codes.get("DEADLINE_EXCEEDED", 0)
    errors = len(measured) - len(ok) - shed
    commit_to_visible, ack_to_visible, send_to_visible, commit_to_relay, relay_to_visible = [], [], [], [], []
    send_to_ack, lateness = [], []
    missing = 0
    for sc, se, ac, code, oid in measured.values():
        lateness.append(se - sc)
        if code != "OK":
            continue
        send_to_ack.append(ac - se)
        if not a.db:
            continue
        row = db.get(oid)
        if row is None or row[3] is None:
            missing += 1
            continue
        created, ocommit, published, pcommit = row
        commit_to_visible.append(pcommit - ocommit)
        ack_to_visible.append(pcommit - ac)
        send_to_visible.append(pcommit - se)
        if published is not None:
            commit_to_relay.append(published - ocommit)
            relay_to_visible.append(pcommit - published)
    sends = sorted(v[1] for v in measured.values())
    acks = sorted(v[2] for v in ok)
    span = (sends[-1] - sends[0]) if len(sends) > 1 else 0
    ack_span = (acks[-1] - acks[0]) if len(acks) > 1 else 0
    commits = sorted(db[v[4]][1] for v in ok if v[4] in db)
    vis = sorted(db[v[4]][3] for v in ok if v[4] in db and db[v[4]][3] is not None)
    out = {
        "orders_total": total, "orders_measured": len(measured), "ok": len(ok), "errors": errors,
        "shed": shed, "codes": codes,
        "missing_projection": missing, "target_rate": a.rate,
        "send_rate": round((len(sends) - 1) / span, 1) if span > 0 else 0,
        "ack_rate": round((len(acks) - 1) / ack_span, 1) if ack_span > 0 else 0,
        "commit_rate": round((len(commits) - 1) / (commits[-1] - commits[0]), 1) if len(commits) > 1 else 0,
        "visible_rate": round((len(vis) - 1) / (vis[-1] - vis[0]), 1) if len(vis) > 1 else 0,
        "send_lateness_ms": summary_ms(lateness),
        "send_to_ack_ms": summary_ms(send_to_ack),
        "commit_to_visible_ms": summary_ms(commit_to_visible),
        "ack_to_visible_ms": summary_ms(ack_to_visible),
        "send_to_visible_ms": summary_ms(send_to_visible),
        "commit_to_relay_ms": summary_ms(commit_to_relay),
        "relay_to_visible_ms": summary_ms(relay_to_visible),
        "ack_before_visible_share": round(sum(1 for x in ack_to_visible if x > 0) / len(ack_to_visible), 4)
        if ack_to_visible else None,
    }
    print(json.dumps(out))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(sp, addr=True):
        if addr:
            sp.add_argument("addr")
            sp.add_argument("--stubs", required=True)
            sp.add_argument("--md", action="append")
        sp.add_argument("--customers", type=int, default=10000)
        sp.add_argument("--skus", type=int, default=1000)

    c = sub.add_parser("catalog")
    common(c)
    for name in ("ingest", "copy"):
        p = sub.add_parser(name)
        common(p, addr=(name == "ingest"))
        p.add_argument("--tag", required=True)
        p.add_argument("--orders", type=int, required=True)
        p.add_argument("--batch", type=int, default=1000)
        p.add_argument("--streams", type=int, default=4)
        p.add_argument("--warm", type=int, default=200)
        if name == "copy":
            p.add_argument("--super-socket", required=True)
            p.add_argument("--tenant", required=True)
            p.add_argument("--audit", action="store_true")
            p.add_argument("--out", required=True)
    p = sub.add_parser("pace")
    common(p)
    p.add_argument("--tag", required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--warm", type=float, default=2)
    p.add_argument("--procs", type=int, default=1)
    p.add_argument("--proc", type=int, default=0)
    p.add_argument("--start-at", type=float, required=True)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--out", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--sends", nargs="+", required=True)
    p.add_argument("--db", default="", help="database times (none: client-side figures only)")
    p.add_argument("--warm-s", type=float, default=2)
    p.add_argument("--rate", type=float, required=True)
    a = ap.parse_args()
    return {"catalog": cmd_catalog, "ingest": cmd_ingest, "copy": cmd_copy, "pace": cmd_pace,
            "latency": cmd_latency}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
