#!/usr/bin/python3
"""Load generator of bench/import_bench.sh (bulk import of customers).

  import_client.py protos OUTDIR
      generates the Python messages and gRPC stubs from proto/ into OUTDIR
  import_client.py grpc ADDR --stubs DIR --tag T --digit D [--md k=v ...] [shape]
      ImportCustomers client streams (one per batch, one after the other)
  import_client.py rest URL --key KEY --tag T --digit D [shape]
      POST /v1/customers:import?batchId=B with an NDJSON body per batch
  import_client.py copy --super-socket DIR:PORT --tenant UUID --tag T --digit D
                        --tables customers|customers+identities|customers+identities+outbox [shape]
      the ceiling: psql \\copy of the same rows into the same tables, one
      transaction per batch, in ONE psql session, as the superuser over the
      unix socket (COPY FROM refuses tables under row-level security)
  import_client.py copy --staged --psql-env FILE --tenant UUID ... --tables customers+identities+outbox
      the service's SQL shape by hand, as crm_owner over TCP under RLS: COPY
      into temp tables, INSERT .. SELECT into customers, identities, outbox

  shape: --batches N --rows R --per-msg M --warm W --out DIR

Every mode builds all its request bytes (or COPY files) BEFORE the clock
starts, then times only the calls (time.perf_counter, the same clock for
every mode) and prints one JSON line: rows, seconds (sum of the batch wall
times), per-batch seconds, the client's own CPU seconds during the timed part
(getrusage of this process and, for copy, of psql), and the servers' reports.
A warm-up batch of W rows (same shape, batch id TAG-warm) runs first,
unmeasured: it opens the channel / connection and warms the server's
prepared statements.

Rows (realistic, already normalized so the stored values are byte-for-byte
what the COPY ceiling writes): given + family name, 1 email, 1 phone, a
locale and 2 typed attributes (tier: string, score: int). Identities are
unique per (tag, batch, row): email ...@TAG.bench-import.example, phone
+417 D B RRRRRR. 127.0.0.1 only.
"""
import argparse
import glob
import http.client
import json
import os
import resource
import subprocess
import sys
import time
import uuid

GIVEN = ["Anna", "Luca", "Mia", "Noah", "Lea", "Elias", "Lina", "Leon", "Emma", "Nico",
         "Sofia", "Jonas", "Laura", "David", "Sara", "Jan", "Nina", "Tim", "Julia", "Marco"]
FAMILY = ["Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Meyer",
          "Steiner", "Fischer", "Gerber", "Brunner", "Baumann", "Frei", "Zimmermann",
          "Moser", "Widmer", "Wyss", "Graf", "Roth"]
ASCII = {"ü": "ue", "ö": "oe", "ä": "ae"}
LOCALES = ["de-CH", "fr-CH", "it-CH", "en-GB", "de-DE"]
TIERS = ["bronze", "silver", "gold", "platinum"]
GOOGLEAPIS_DIR = "/usr/share/gocode/src/github.com/gogo/googleapis"
METHOD = "/crm.customer_store.v1.CustomerStoreService/ImportCustomers"
CREATED_AT = "2026-01-01 00:00:00+00"


def row(tag, digit, batch, r):
    g = GIVEN[r % len(GIVEN)]
    f = FAMILY[(r // len(GIVEN)) % len(FAMILY)]
    fa = "".join(ASCII.get(ch, ch) for ch in f).lower()
    return {
        "given": g, "family": f,
        "email": f"{g.lower()}.{fa}.{batch}x{r}@{tag}.bench-import.example",
        "phone": f"+417{digit}{batch}{r:06d}",
        "locale": LOCALES[r % len(LOCALES)],
        "tier": TIERS[r % len(TIERS)], "score": (r * 7919) % 1000,
    }


def batches(a):
    """[(batch_id, batch_digit, rows)]: the warm-up batch first."""
    out = []
    if a.warm > 0:
        out.append((f"{a.tag}-warm", 9, a.warm))
    for b in range(a.batches):
        out.append((f"{a.tag}-b{b}-{uuid.uuid4().hex[:8]}", b, a.rows))
    return out


def cpu_self():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def cpu_children():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def check_loopback(hostport):
    if not hostport.startswith("127.0.0.1:"):
        raise SystemExit(f"refusing non-loopback address {hostport}")
    return hostport


def summarize(mode, a, results, cpu_s, prep_s, extra=None):
    """results: [(batch_id, rows, seconds, report dict)] of measured batches."""
    rows = sum(r[1] for r in results)
    secs = sum(r[2] for r in results)
    rep = {"created": 0, "updated": 0, "failed": 0, "replayed": 0, "rows_received": 0}
    for _, _, _, report in results:
        for k in rep:
            rep[k] += int(report.get(k, 0))
    out = {"mode": mode, "tag": a.tag, "rows": rows, "seconds": round(secs, 4),
           "rows_per_s": round(rows / secs, 1) if secs > 0 else 0,
           "batch_seconds": [round(r[2], 3) for r in results],
           "client_cpu_s": round(cpu_s, 3), "prepare_s": round(prep_s, 2),
           "batch_ids": [r[0] for r in results], "report": rep}
    out.update(extra or {})
    print(json.dumps(out))


# ------------------------------------------------------------------ protos

def cmd_protos(a):
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "proto"))
    os.makedirs(a.outdir, exist_ok=True)
    protos = sorted(glob.glob(os.path.join(src, "**", "*.proto"), recursive=True))
    google = [os.path.join(GOOGLEAPIS_DIR, "google", p) for p in
              ("api/annotations.proto", "api/http.proto", "rpc/status.proto")]
    subprocess.run(["protoc", "-I", src, "-I", GOOGLEAPIS_DIR, "--python_out=" + a.outdir,
                    "--grpc_python_out=" + a.outdir,
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos + google,
                   check=True)
    return 0


# -------------------------------------------------------------------- gRPC

def cmd_grpc(a):
    sys.path.insert(0, a.stubs)
    import grpc
    from crm.customer_store.v1 import customer_store_pb2 as pb

    md = []
    for p in a.md or []:
        k, _, v = p.partition("=")
        md.append((k, v))

    t0 = time.perf_counter()
    plan = []  # (batch_id, rows, [serialized messages])
    for batch_id, bdigit, n in batches(a):
        msgs = []
        for start in range(0, n, a.per_msg):
            req = pb.ImportCustomersRequest()
            if start == 0:
                req.batch_id = batch_id
            for r in range(start, min(n, start + a.per_msg)):
                d = row(a.tag, a.digit, bdigit, r)
                ir = req.rows.add()
                ir.line = r + 1
                c = ir.customer
                c.given_name, c.family_name, c.locale = d["given"], d["family"], d["locale"]
                c.emails.append(d["email"])
                c.phones.append(d["phone"])
                c.attributes["tier"].string_value = d["tier"]
                c.attributes["score"].int_value = d["score"]
            msgs.append(req.SerializeToString())
        plan.append((batch_id, n, msgs))
    prep = time.perf_counter() - t0
    stream_bytes = sum(len(m) for m in plan[-1][2])

    channel = grpc.insecure_channel(
        check_loopback(a.addr),
        options=[("grpc.max_receive_message_length", 64 << 20),
                 ("grpc.max_send_message_length", 64 << 20)])
    call = channel.stream_unary(METHOD, request_serializer=None,
                                response_deserializer=pb.ImportCustomersResponse.FromString)
    results = []
    cpu0 = None
    for i, (batch_id, n, msgs) in enumerate(plan):
        if i == (1 if a.warm > 0 else 0):
            cpu0 = cpu_self()
        t = time.perf_counter()
        try:
            resp = call(iter(msgs), metadata=md, timeout=600)
        except grpc.RpcError as e:
            raise SystemExit(f"{batch_id}: {e.code().name}: {e.details()}")
        dt = time.perf_counter() - t
        rep = {"created": resp.created, "updated": resp.updated, "failed": resp.failed,
               "replayed": int(resp.replayed), "rows_received": resp.rows_received}
        if resp.errors:
            e = resp.errors[0]
            print(f"{batch_id}: first error line {e.line} {e.field} {e.reason}: {e.message}",
                  file=sys.stderr)
        if a.warm > 0 and i == 0:
            warm_rep = rep
            continue
        results.append((batch_id, n, dt, rep))
    cpu = cpu_self() - cpu0
    channel.close()
    summarize("grpc", a, results, cpu, prep,
              {"stream_bytes_per_batch": stream_bytes, "messages_per_batch": len(plan[-1][2]),
               "warm_report": warm_rep if a.warm > 0 else None})
    return 0


# -------------------------------------------------------------------- REST

def ndjson_line(d):
    return json.dumps({
        "givenName": d["given"], "familyName": d["family"], "emails": [d["email"]],
        "phones": [d["phone"]], "locale": d["locale"],
        "attributes": {"tier": {"stringValue": d["tier"]}, "score": {"intValue": str(d["score"])}},
    }, ensure_ascii=False, separators=(",", ":"))


def cmd_rest(a):
    if not a.url.startswith("http://127.0.0.1:"):
        raise SystemExit(f"refusing non-loopback URL {a.url}")
    hostport = a.url[len("http://"):].rstrip("/")
    t0 = time.perf_counter()
    plan = []
    for batch_id, bdigit, n in batches(a):
        body = ("\n".join(ndjson_line(row(a.tag, a.digit, bdigit, r)) for r in range(n)) + "\n").encode()
        plan.append((batch_id, n, body))
    prep = time.perf_counter() - t0
    headers = {"Authorization": "Bearer " + a.key, "Content-Type": "application/x-ndjson"}
    conn = http.client.HTTPConnection(hostport, timeout=600)
    results = []
    cpu0 = None
    warm_rep = None
    for i, (batch_id, n, body) in enumerate(plan):
        if i == (1 if a.warm > 0 else 0):
            cpu0 = cpu_self()
        t = time.perf_counter()
        conn.request("POST", f"/v1/customers:import?batchId={batch_id}", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        dt = time.perf_counter() - t
        if resp.status != 200:
            raise SystemExit(f"{batch_id}: HTTP {resp.status}: {data[:300]!r}")
        j = json.loads(data)
        rep = {"created": int(j.get("created", 0)), "updated": int(j.get("updated", 0)),
               "failed": int(j.get("failed", 0)), "replayed": int(bool(j.get("replayed", False))),
               "rows_received": int(j.get("rowsReceived", 0))}
        if j.get("errors"):
            print(f"{batch_id}: first error {j['errors'][0]}", file=sys.stderr)
        if a.warm > 0 and i == 0:
            warm_rep = rep
            continue
        results.append((batch_id, n, dt, rep))
    cpu = cpu_self() - cpu0
    conn.close()
    summarize("rest", a, results, cpu, prep,
              {"body_bytes_per_batch": len(plan[-1][2]), "warm_report": warm_rep})
    return 0


# -------------------------------------------------------------------- COPY

def copy_text(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def cmd_copy(a):
    """Raw COPY (superuser: PostgreSQL refuses COPY FROM into a table with
    row-level security for a role subject to it, and the tables FORCE it even
    for their owner) or, with --staged, the service's own SQL shape as
    crm_owner under RLS: COPY into temp tables, INSERT .. SELECT."""
    tables = a.tables.split("+")
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    lines = ["\\set ON_ERROR_STOP 1", "\\timing off"]
    plan = []
    cust_cols = ("tenant_id, id, given_name, family_name, display_name, postal_address, birthday, "
                 "anniversaries, locale, time_zone, lifecycle_stage, owner, attributes, version, "
                 "created_at, updated_at")
    for batch_id, bdigit, n in batches(a):
        base = os.path.join(a.out, f"copy-{a.tag}-{bdigit}")
        fc = open(base + ".customers.tsv", "w", encoding="utf-8")
        fi = open(base + ".identities.tsv", "w", encoding="utf-8") if "identities" in tables else None
        fo = open(base + ".outbox.tsv", "w", encoding="utf-8") if "outbox" in tables and not a.staged else None
        for r in range(n):
            d = row(a.tag, a.digit, bdigit, r)
            cid = str(uuid.uuid4())
            attrs = json.dumps({"score": {"i": str(d["score"])}, "tier": {"s": d["tier"]}},
                               separators=(",", ":"))
            # The same columns and values the service's set-based INSERT writes.
            fc.write("\t".join([a.tenant, cid, copy_text(d["given"]), copy_text(d["family"]), "",
                                "\\N", "\\N", "[]", d["locale"], "", "0", "", copy_text(attrs), "1",
                                CREATED_AT, CREATED_AT]) + "\n")
            if fi:
                fi.write(f"{a.tenant}\t1\t\t{d['email']}\t{cid}\t0\n")
                fi.write(f"{a.tenant}\t2\t\t{d['phone']}\t{cid}\t0\n")
            if fo:
                payload = json.dumps({"customer_id": cid, "import_batch": batch_id, "version": 1},
                                     separators=(",", ":"))
                fo.write(f"{uuid.uuid4()}\t{a.tenant}\t{cid}\tcustomer.created\t{payload}\n")
        for fh in (fc, fi, fo):
            if fh:
                fh.close()
        lines += ["BEGIN;", f"SET LOCAL app.tenant_id = '{a.tenant}';"]
        if not a.staged:
            lines.append(f"\\copy customer_store.customers ({cust_cols}) FROM '{base}.customers.tsv'")
            if fi:
                lines.append("\\copy customer_store.identities (tenant_id, kind, source, value, "
                             f"customer_id, position) FROM '{base}.identities.tsv'")
            if fo:
                lines.append("\\copy customer_store.outbox (event_id, tenant_id, customer_id, "
                             f"event_type, payload) FROM '{base}.outbox.tsv'")
        else:
            lines += [
                "CREATE TEMP TABLE s_c (LIKE customer_store.customers INCLUDING DEFAULTS) ON COMMIT DROP;",
                f"\\copy s_c ({cust_cols}) FROM '{base}.customers.tsv'",
                f"INSERT INTO customer_store.customers ({cust_cols}) SELECT {cust_cols} FROM s_c;",
                "CREATE TEMP TABLE s_i (LIKE customer_store.identities INCLUDING DEFAULTS) ON COMMIT DROP;",
                "\\copy s_i (tenant_id, kind, source, value, customer_id, position) FROM "
                f"'{base}.identities.tsv'",
                "INSERT INTO customer_store.identities (tenant_id, kind, source, value, customer_id, "
                "position) SELECT tenant_id, kind, source, value, customer_id, position FROM s_i;",
                "INSERT INTO customer_store.outbox (event_id, tenant_id, customer_id, event_type, "
                "payload) SELECT gen_random_uuid(), tenant_id, id, 'customer.created', "
                "jsonb_build_object('customer_id', id::text, 'version', version, 'import_batch', "
                f"'{batch_id}') FROM s_c;"]
        lines.append("COMMIT;")
        if bdigit == 9:  # warm-up batch: its own session, unmeasured
            warm = lines
            lines = ["\\set ON_ERROR_STOP 1"]
            continue
        plan.append((batch_id, n))
    script = os.path.join(a.out, f"copy-{a.tag}.sql")
    with open(script, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    prep = time.perf_counter() - t0

    env = dict(os.environ)
    if a.staged:
        with open(a.psql_env) as fh:
            for ln in fh:
                k, _, v = ln.strip().partition("=")
                if k:
                    env[k] = v
        if env.get("PGHOST") != "127.0.0.1":
            raise SystemExit("copy: PGHOST must be 127.0.0.1")
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    else:
        sock, _, port = a.super_socket.rpartition(":")
        psql = ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", sock, "-p", port, "-d", "crm"]
    if a.warm > 0:
        wscript = script + ".warm"
        with open(wscript, "w") as fh:
            fh.write("\n".join(warm) + "\n")
        subprocess.run(psql + ["-f", wscript], env=env, check=True, stdout=subprocess.DEVNULL)
    c0, s0 = cpu_children(), cpu_self()
    t = time.perf_counter()
    # One psql session for all batches (one connection, like the service's
    # pooled one); its start-up (a few ms) is inside the timed window.
    subprocess.run(psql + ["-f", script], env=env, check=True, stdout=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    cpu = (cpu_children() - c0) + (cpu_self() - s0)
    rows = sum(n for _, n in plan)
    results = [(plan[0][0] + "..", rows, dt, {"created": rows})]
    summarize("copy", a, results, cpu, prep,
              {"tables": a.tables, "staged": a.staged, "batches": len(plan), "batch_seconds": [],
               "batch_ids": [b for b, _ in plan]})
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("protos")
    p.add_argument("outdir")

    def shape(sp):
        sp.add_argument("--tag", required=True)
        sp.add_argument("--digit", type=int, required=True)
        sp.add_argument("--batches", type=int, default=5)
        sp.add_argument("--rows", type=int, default=20000)
        sp.add_argument("--per-msg", type=int, default=500)
        sp.add_argument("--warm", type=int, default=200)
        sp.add_argument("--out", default=".")

    g = sub.add_parser("grpc")
    g.add_argument("addr")
    g.add_argument("--stubs", required=True)
    g.add_argument("--md", action="append")
    shape(g)
    r = sub.add_parser("rest")
    r.add_argument("url")
    r.add_argument("--key", required=True)
    shape(r)
    c = sub.add_parser("copy")
    c.add_argument("--psql-env", help="staged: KEY=VALUE lines (PGHOST=127.0.0.1 ...) for crm_owner")
    c.add_argument("--super-socket", help="raw: SOCKET_DIR:PORT of the superuser's unix socket")
    c.add_argument("--staged", action="store_true")
    c.add_argument("--tenant", required=True)
    c.add_argument("--tables", required=True,
                   choices=["customers", "customers+identities", "customers+identities+outbox"])
    shape(c)
    a = ap.parse_args()
    if a.cmd != "protos" and not (0 <= a.digit <= 9 and a.rows <= 999999 and a.batches <= 9):
        raise SystemExit("--digit 0..9, --rows <= 999999, --batches <= 9 (phone numbering)")
    return {"protos": cmd_protos, "grpc": cmd_grpc, "rest": cmd_rest, "copy": cmd_copy}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
