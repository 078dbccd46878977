"""Harness of the reliability suite: the end-to-end stack (tests/e2e/stack.py)
on ports and a database of its own, a private Redis this suite may kill and
restart empty, kill -9 and restart of one service, concurrent order clients
that retry with the same request id, and the consistency checks, made in
PostgreSQL directly.

stack.py is used as it is: this module points its module-level settings
(ports through stack.use_port_offset, database, run folder, Redis address)
elsewhere before start(), and
wraps its _spawn() to remember how each service was started so that it can
be started again after a kill -9.

Every wait and every loop is bounded.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import stack  # noqa: E402

# ----------------------------------------------------------------- settings

DB_NAME = "crm_reliability"
REDIS_PORT = 26379  # below the ephemeral port range, apart from the fixture's 56379
RUN_DIR = os.path.join(stack.BUILD_DIR, "reliability-run")
PSQL = "/usr/lib/postgresql/15/bin/psql"

stack.DB_NAME = DB_NAME
stack.OWNER_DSN = "postgresql://crm_owner:crm@127.0.0.1:%d/%s" % (stack.PG_PORT, DB_NAME)
stack.APP_DSN = "postgresql://crm_app:crm@127.0.0.1:%d/%s" % (stack.PG_PORT, DB_NAME)
stack.REDIS_ADDR = "127.0.0.1:%d" % REDIS_PORT
stack.RUN_DIR = RUN_DIR
stack.LOG_DIR = os.path.join(RUN_DIR, "logs")
stack.PY_DIR = os.path.join(RUN_DIR, "py")
# Every service on its test port + 10000 (k8s/services.yaml): REST 28080,
# gRPC 25051, customer-store 25061, transaction 25062, metrics 2946x.
stack.use_port_offset(10000)

# Transient answers a client retries with the same request id (the service
# died under the call, the gateway could not reach it, or a conflict).
RETRYABLE = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "INTERNAL", "UNKNOWN", "ABORTED",
             "RESOURCE_EXHAUSTED")

_specs = {}  # service name -> (binary, extra env) as stack started it
_original_spawn = stack._spawn
_redis = None  # Popen of the private redis-server


def _recording_spawn(name, binary, extra_env, *args, **kwargs):
    _specs[name] = (binary, dict(extra_env))
    return _original_spawn(name, binary, extra_env, *args, **kwargs)


stack._spawn = _recording_spawn


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# -------------------------------------------------------------------- redis

def _redis_cli(*args, timeout=5):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(REDIS_PORT)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def start_redis():
    """Starts the private Redis without persistence: a restart is an empty dataset."""
    global _redis
    d = os.path.join(RUN_DIR, "redis")
    os.makedirs(d, exist_ok=True)
    logf = open(os.path.join(stack.LOG_DIR, "redis.log"), "ab")
    _redis = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", d],
                              stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    logf.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis.poll() is not None:
            raise RuntimeError("redis-server exited with %s" % _redis.returncode)
        try:
            if _redis_cli("PING", timeout=2).stdout.strip() == "PONG":
                return
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.05)
    raise RuntimeError("private redis did not answer PING within 10 s")


def kill_redis():
    global _redis
    if _redis is not None and _redis.poll() is None:
        _redis.send_signal(signal.SIGKILL)
        _redis.wait(timeout=10)
    _redis = None


def restart_redis_empty():
    """kill -9 of the private Redis and a start with an empty dataset."""
    kill_redis()
    start_redis()  # no persistence: the dataset is empty (the services refill it at once)


def redis_cmd(*args):
    return _redis_cli(*args).stdout.strip()


# --------------------------------------------------------------- services

def start(name):
    """Private Redis, then the stack (fresh database crm_reliability). Logs go to
    reliability-run/logs/<name>/."""
    stack.LOG_DIR = os.path.join(RUN_DIR, "logs", name)
    os.makedirs(stack.LOG_DIR, exist_ok=True)
    for name in os.listdir(stack.LOG_DIR):
        os.remove(os.path.join(stack.LOG_DIR, name))
    if stack._port_in_use(REDIS_PORT):
        raise RuntimeError("port %d is already in use (a leftover reliability redis?)" % REDIS_PORT)
    start_redis()
    try:
        stack.start()
    except BaseException:
        kill_redis()
        raise


def stop():
    try:
        stack.stop()
    finally:
        kill_redis()


def _proc_index(name):
    for i, (n, _, _) in enumerate(stack._procs):
        if n == name:
            return i
    raise KeyError(name)


def kill9(name):
    """SIGKILL of one service process; returns once it is gone."""
    i = _proc_index(name)
    _, p, logf = stack._procs.pop(i)
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    logf.close()


def restart(name, timeout=30, **env_overrides):
    """Starts a killed service again with the same binary and environment
    (plus `env_overrides`, for this start only)."""
    binary, env = _specs[name]
    env = dict(env, **env_overrides)
    deadline = time.monotonic() + timeout
    # Keep the killed process' log: stack._spawn truncates <name>.log.
    log_path = os.path.join(stack.LOG_DIR, name + ".log")
    if os.path.exists(log_path):
        k = 1
        while os.path.exists(os.path.join(stack.LOG_DIR, "%s.%d.log" % (name, k))):
            k += 1
        os.rename(log_path, os.path.join(stack.LOG_DIR, "%s.%d.log" % (name, k)))
    grpc_port = stack.port(name, "grpc")
    # The old socket may linger a moment after a kill -9.
    while stack._port_in_use(grpc_port) and time.monotonic() < deadline:
        time.sleep(0.05)
    p = _original_spawn(name, binary, env)
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError("%s exited during its restart (status %s); see %s" %
                               (name, p.returncode, log_path))
        if stack._port_in_use(grpc_port):
            return
        time.sleep(0.05)
    raise RuntimeError("%s not listening on %d within %.0f s after its restart; see %s" %
                       (name, grpc_port, timeout, log_path))


# ------------------------------------------------------------- PostgreSQL

def sql(query, timeout=30):
    """Rows of a query run as the PostgreSQL superuser (row-level security does
    not apply), each a list of strings."""
    p = subprocess.run(["runuser", "-u", "postgres", "--", PSQL, "-X", "-q", "-A", "-t", "-F",
                        "\t", "-v", "ON_ERROR_STOP=1", "-h", stack.PG_SOCK, "-p",
                        str(stack.PG_PORT), "-d", DB_NAME, "-c", query],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (query, p.stderr[-2000:]))
    return [line.split("\t") for line in p.stdout.splitlines() if line != ""]


def scalar(query):
    rows = sql(query)
    return int(rows[0][0])


# ------------------------------------------------------------ the workload

def grpc_modules():
    stack.generate_protos()
    import importlib
    pb = importlib.import_module("crm.transaction.v1.transaction_pb2")
    pb_grpc = importlib.import_module("crm.transaction.v1.transaction_pb2_grpc")
    return pb, pb_grpc


class Tenant:
    """A tenant with customers and one product, made through the gateway."""

    def __init__(self, customers=12):
        self.tenant, self.key = stack.create_tenant()
        self.tenant_id = self.tenant["id"]
        self.sku = stack.unique("REL")
        r = stack.rest("POST", "/v1/products", self.key,
                       {"sku": self.sku, "name": "Reliable", "categoryPath": ["Test", "Chaos"],
                        "price": {"amountMinor": "700", "currencyCode": "CHF"}, "active": True})
        if r.status != 200:
            raise AssertionError("create product: %r" % r)
        self.customers = []
        for _ in range(customers):
            r = stack.rest("POST", "/v1/customers", self.key,
                           {"givenName": "Chaos",
                            "emails": [stack.unique("rel") + "@example.com"]})
            if r.status != 200:
                raise AssertionError("create customer: %r" % r)
            self.customers.append(r.json()["id"])


class OrderClients:
    """N threads creating orders through the gateway's gRPC port until stop()
    (or orders_per_thread each). Each order has its own request id; a transient
    failure is retried with the SAME request id until it is acknowledged or the
    per-order bound is reached."""

    def __init__(self, tenant, threads=6, orders_per_thread=2000, per_order_timeout_s=45.0,
                 pause_s=0.01):
        self.t = tenant
        self.threads = threads
        self.orders_per_thread = orders_per_thread
        self.per_order_timeout_s = per_order_timeout_s
        self.pause_s = pause_s
        self.lock = threading.Lock()
        self.acked = {}          # request id -> (order id, customer id, total)
        self.failed = {}         # request id -> last error (not acknowledged within the bound)
        self.refused = {}        # request id -> non-retryable error
        self.retries = 0
        self._workers = []
        self.done = threading.Event()

    def _one(self, stub, pb, rng, request_id):
        import grpc
        customer = rng.choice(self.t.customers)
        qty = rng.randint(1, 5)
        req = pb.CreateOrderRequest(
            request_id=request_id,
            order=pb.Order(customer_id=customer, currency_code="CHF",
                           lines=[pb.OrderLine(sku=self.t.sku, quantity=qty,
                                               unit_price_minor=700)]))
        deadline = time.monotonic() + self.per_order_timeout_s
        last = None
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            try:
                o = stub.CreateOrder(req, metadata=stack.auth(self.t.key), timeout=5)
                with self.lock:
                    self.acked[request_id] = (o.id, customer, qty * 700)
                return
            except grpc.RpcError as e:
                last = "%s %s" % (e.code().name, e.details())
                if e.code().name not in RETRYABLE:
                    with self.lock:
                        self.refused[request_id] = last
                    return
                with self.lock:
                    self.retries += 1
            time.sleep(min(0.05 * attempt, 0.5))
        with self.lock:
            self.failed[request_id] = last

    def _run(self, idx):
        pb, pb_grpc = grpc_modules()
        rng = random.Random(idx * 7919 + int(time.time()))
        ch = stack.grpc_channel(stack.GATEWAY_GRPC_PORT)
        stub = pb_grpc.TransactionServiceStub(ch)
        try:
            for n in range(self.orders_per_thread):
                if self.done.is_set():
                    return
                self._one(stub, pb, rng, "rel-%d-%d-%s" % (idx, n, uuid.uuid4().hex[:8]))
                if self.pause_s:
                    time.sleep(self.pause_s)
        finally:
            ch.close()

    def start(self):
        grpc_modules()  # generate once, before the threads import
        for i in range(self.threads):
            th = threading.Thread(target=self._run, args=(i,), daemon=True)
            th.start()
            self._workers.append(th)

    def stop(self):
        self.done.set()

    def count(self):
        with self.lock:
            return len(self.acked)

    def wait_progress(self, n=20, timeout=20.0):
        """Waits until n more orders are acknowledged (traffic flows again)."""
        target = self.count() + n
        deadline = time.monotonic() + timeout
        while self.count() < target and time.monotonic() < deadline and self.alive():
            time.sleep(0.02)
        if self.count() < target and self.alive():
            raise AssertionError("no progress of the order clients within %.0f s" % timeout)

    def alive(self):
        return any(th.is_alive() for th in self._workers)

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for th in self._workers:
            th.join(max(0.0, deadline - time.monotonic()))
        if self.alive():
            raise AssertionError("order clients still running after %.0f s" % timeout)


# ------------------------------------------------------------ the checks

def wait_drained(tenant_id, timeout=60):
    """Waits until the transaction outbox is published and customer-store's
    purchases equal the orders of the tenant (or the bound). Returns the
    seconds it took."""
    start = time.monotonic()
    deadline = start + timeout
    last = None
    while time.monotonic() < deadline:
        unpublished = scalar("SELECT count(*) FROM txn.outbox WHERE published_at IS NULL")
        diff = scalar(
            "SELECT count(*) FROM ("
            " (SELECT id, version, total_minor FROM txn.orders WHERE tenant_id = '%s'"
            "  EXCEPT SELECT order_id, order_version, total_minor FROM customer_store.purchases"
            "  WHERE tenant_id = '%s')"
            " UNION ALL"
            " (SELECT order_id, order_version, total_minor FROM customer_store.purchases"
            "  WHERE tenant_id = '%s'"
            "  EXCEPT SELECT id, version, total_minor FROM txn.orders WHERE tenant_id = '%s')"
            ") d" % (tenant_id, tenant_id, tenant_id, tenant_id))
        last = (unpublished, diff)
        if unpublished == 0 and diff == 0:
            return time.monotonic() - start
        time.sleep(0.25)
    raise AssertionError("not drained within %d s: unpublished outbox rows %d, purchases "
                         "differing from orders %d" % (timeout, last[0], last[1]))


def consistency_report(tenant_id, acked):
    """The invariants, each a count that must be 0. `acked`: request id ->
    (order id, customer id, total) as acknowledged to the clients."""
    t = tenant_id
    orders = {r[0]: (r[1], int(r[2])) for r in sql(
        "SELECT id::text, customer_id::text, total_minor FROM txn.orders "
        "WHERE tenant_id = '%s'" % t)}
    report = {}
    report["acknowledged_orders_missing"] = sum(1 for (oid, _, _) in acked.values()
                                                if oid not in orders)
    report["acknowledged_orders_with_other_content"] = sum(
        1 for (oid, c, total) in acked.values() if oid in orders and orders[oid] != (c, total))
    report["acknowledged_twice_as_different_orders"] = (
        len(acked) - len({oid for (oid, _, _) in acked.values()}))
    report["committed_orders_without_outbox_event"] = scalar(
        "SELECT count(*) FROM txn.orders o WHERE o.tenant_id = '%s' AND NOT EXISTS ("
        " SELECT 1 FROM txn.outbox x WHERE x.tenant_id = o.tenant_id"
        " AND x.event_type = 'order.placed' AND x.payload->>'order_id' = o.id::text)" % t)
    report["outbox_events_without_order"] = scalar(
        "SELECT count(*) FROM txn.outbox x WHERE x.tenant_id = '%s'"
        " AND x.event_type LIKE 'order.%%' AND NOT EXISTS ("
        " SELECT 1 FROM txn.orders o WHERE o.tenant_id = x.tenant_id"
        " AND o.id::text = x.payload->>'order_id')" % t)
    report["orders_with_several_placed_events"] = scalar(
        "SELECT count(*) FROM (SELECT payload->>'order_id' FROM txn.outbox"
        " WHERE tenant_id = '%s' AND event_type = 'order.placed'"
        " GROUP BY 1 HAVING count(*) > 1) d" % t)
    report["unpublished_outbox_rows"] = scalar(
        "SELECT count(*) FROM txn.outbox WHERE tenant_id = '%s' AND published_at IS NULL" % t)
    # The purchase projection: one row per order, each counted once.
    report["orders_missing_from_purchases"] = scalar(
        "SELECT count(*) FROM txn.orders o WHERE o.tenant_id = '%s' AND NOT EXISTS ("
        " SELECT 1 FROM customer_store.purchases p WHERE p.tenant_id = o.tenant_id"
        " AND p.order_id = o.id)" % t)
    report["purchases_without_order"] = scalar(
        "SELECT count(*) FROM customer_store.purchases p WHERE p.tenant_id = '%s' AND NOT EXISTS ("
        " SELECT 1 FROM txn.orders o WHERE o.tenant_id = p.tenant_id AND o.id = p.order_id)" % t)
    report["purchases_differing_from_order"] = scalar(
        "SELECT count(*) FROM customer_store.purchases p JOIN txn.orders o"
        " ON o.tenant_id = p.tenant_id AND o.id = p.order_id WHERE p.tenant_id = '%s'"
        " AND (p.total_minor <> o.total_minor OR p.order_version <> o.version"
        " OR p.customer_id <> o.customer_id)" % t)
    # Per customer: order count and total spend equal to txn.orders.
    report["customers_with_wrong_aggregates"] = scalar(
        "SELECT count(*) FROM ("
        " (SELECT customer_id, count(*), sum(total_minor) FROM txn.orders"
        "  WHERE tenant_id = '%s' GROUP BY 1"
        "  EXCEPT SELECT customer_id, count(*), sum(total_minor) FROM customer_store.purchases"
        "  WHERE tenant_id = '%s' GROUP BY 1)"
        " UNION ALL"
        " (SELECT customer_id, count(*), sum(total_minor) FROM customer_store.purchases"
        "  WHERE tenant_id = '%s' GROUP BY 1"
        "  EXCEPT SELECT customer_id, count(*), sum(total_minor) FROM txn.orders"
        "  WHERE tenant_id = '%s' GROUP BY 1)) d" % (t, t, t, t))
    # The purchase timeline entry: exactly once per order (its id is the order's).
    report["orders_without_one_timeline_entry"] = scalar(
        "SELECT count(*) FROM txn.orders o WHERE o.tenant_id = '%s' AND (SELECT count(*)"
        " FROM customer_store.interactions i WHERE i.tenant_id = o.tenant_id AND i.id = o.id)"
        " <> 1" % t)
    return report, len(orders)


def assert_consistent(test, tenant_id, clients):
    report, n_orders = consistency_report(tenant_id, clients.acked)
    log("orders %d, acknowledged %d, retries %d, not acknowledged %d, refused %d; %s" %
        (n_orders, len(clients.acked), clients.retries, len(clients.failed),
         len(clients.refused), report))
    test.assertEqual(clients.refused, {}, "non-retryable refusals")
    test.assertEqual(clients.failed, {}, "orders not acknowledged within the bound")
    test.assertEqual({k: v for k, v in report.items() if v != 0}, {})
    # Everything acknowledged is there; anything committed but not acknowledged
    # (none, since every order ends acknowledged) would still be consistent.
    test.assertGreaterEqual(n_orders, len(clients.acked))
    return n_orders


def metric(port, name, labels=""):
    """Sum of the samples of a Prometheus metric whose label text contains `labels`."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode("utf-8", "replace")
    finally:
        conn.close()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name) and (line[len(name)] in " {") and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


class ReliabilityTestCase(stack.E2ETestCase):
    pass
