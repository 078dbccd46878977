#!/usr/bin/python3
"""Client of bench/delivery_trigger_bench.sh: trigger latency, end to end.

  trigger_client.py run --rest URL --key KEY --customers FILE --sku SKU
                        --receiver-port P --rate R --warm W --out FILE

Listens on 127.0.0.1:P as the campaigns' webhook endpoint (one thread per
connection, keep-alive) and records when each POST arrives, by its
customerId. Then, paced at R per second (open loop: each request is sent
at its time whatever happened to the earlier ones), for each customer of
FILE (one id per line; the first W of each kind are warm-up, unmeasured):

  order     POST /v1/orders for the customer (transaction's order.placed ->
            the ORDER_PLACED campaign's message);
  segment   PATCH the customer's attribute tier = "vip" (customer-store's
            customer.updated -> segmentation's live segment ->
            segment.entered -> the SEGMENT_ENTERED campaign's message).

The latency of one is from the moment its request was sent to the moment
its webhook arrived. The ceiling, in the same run: the same receiver's
round trip for a direct POST of a message-sized body (what the last hop
alone costs). Prints one JSON line: per kind the count, arrived, p50, p90,
p99, max (ms), and the ceiling's p50 and p99. 127.0.0.1 only.
"""
import argparse
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


class Receiver:
    def __init__(self, port):
        self.arrived = {}  # customer id -> arrival (time.time())
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer's header and body are two writes: without this,
            # Nagle holds the second for the client's delayed ACK (40 ms).
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = time.time()
                try:
                    customer = json.loads(body).get("customerId", "")
                except ValueError:
                    customer = ""
                with outer.lock:
                    outer.arrived.setdefault(customer, now)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Api:
    def __init__(self, rest, key):
        u = urllib.parse.urlparse(rest)
        self.host, self.port, self.key = u.hostname, u.port, key
        self.local = threading.local()

    def call(self, method, path, body):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        data = json.dumps(body).encode()
        conn.request(method, path, body=data, headers={
            "Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        return r.status


def run(a):
    receiver = Receiver(a.receiver_port)
    api = Api(a.rest, a.key)
    customers = [line.strip() for line in open(a.customers) if line.strip()]
    half = len(customers) // 2
    plan = [("order", c) for c in customers[:half]] + [("segment", c) for c in customers[half:]]
    sent = {}
    errors = []

    def fire(kind, customer, seq):
        t = time.time()
        sent[customer] = (kind, t, seq)
        if kind == "order":
            status = api.call("POST", "/v1/orders?requestId=bench-%s" % customer, {
                "customerId": customer, "currencyCode": "CHF", "channel": "SALES_CHANNEL_WEB",
                "lines": [{"sku": a.sku, "quantity": "1", "unitPriceMinor": "500"}]})
        else:
            status = api.call("PATCH", "/v1/customers/%s?updateMask=attributes" % customer,
                              {"attributes": {"tier": {"stringValue": "vip"}}})
        if status != 200:
            errors.append((kind, customer, status))

    # Open loop, a few workers so a slow answer delays no later send.
    start = time.time() + 0.5
    threads = []
    for i, (kind, customer) in enumerate(plan):
        at = start + i / a.rate
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        seq = i if kind == "order" else i - half
        th = threading.Thread(target=fire, args=(kind, customer, seq))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    deadline = time.time() + 30
    while time.time() < deadline:
        with receiver.lock:
            if all(c in receiver.arrived for c in sent):
                break
        time.sleep(0.05)

    # The ceiling: direct POSTs of a message-sized body to the receiver.
    body = json.dumps({"messageId": "0" * 36, "customerId": "ceiling", "templateId": "hook",
                       "purpose": "transactional", "data": {"name": "x"}}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", a.receiver_port, timeout=10)
    direct = []
    for _ in range(500):
        t = time.time()
        conn.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        direct.append((time.time() - t) * 1000)

    out = {"errors": len(errors)}
    for kind in ("order", "segment"):
        lat, count = [], 0
        for customer, (k, t, seq) in sent.items():
            if k != kind or seq < a.warm:
                continue
            count += 1
            arrived = receiver.arrived.get(customer)
            if arrived is not None:
                lat.append((arrived - t) * 1000)
        out[kind] = {"count": count, "arrived": len(lat),
                     "p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90),
                     "p99_ms": percentile(lat, 99), "max_ms": max(lat) if lat else None}
    out["ceiling"] = {"p50_ms": percentile(direct, 50), "p99_ms": percentile(direct, 99)}
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(json.dumps(out))
    return 0 if not errors else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--rest", required=True)
    r.add_argument("--key", required=True)
    r.add_argument("--customers", required=True)
    r.add_argument("--sku", required=True)
    r.add_argument("--receiver-port", type=int, required=True)
    r.add_argument("--rate", type=float, default=20)
    r.add_argument("--warm", type=int, default=10)
    r.add_argument("--out", required=True)
    a = p.parse_args()
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
