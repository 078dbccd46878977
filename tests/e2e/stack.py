"""Shared harness of the end-to-end suite.

Starts the real services as processes against the private PostgreSQL + Redis
of the `datastores` ctest fixture, in a database of its own (crm_e2e), and
offers small REST and gRPC clients that talk to the gateway only.

Every test file calls start() in setUpModule and stop() in tearDownModule;
stop() kills the processes even when the start or a test failed, and prints
the tail of every service log when something went wrong.

The services are those of k8s/services.yaml (deploy/scripts/services.py),
started in its order on their test_ports plus PORT_OFFSET (0 here; the
reliability suite sets its own with use_port_offset()), each peer's address
in CRM_<PEER>_ADDR.

Paths come from the environment: CRM_BUILD_DIR, CRM_SOURCE_DIR.
All traffic goes to 127.0.0.1. Every loop is bounded.
"""

import atexit
import hashlib
import hmac
import http.client
import importlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import uuid

SOURCE_DIR = os.path.abspath(
    os.environ.get("CRM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.path.abspath(os.environ.get("CRM_BUILD_DIR", os.path.join(SOURCE_DIR, "build")))
RUN_DIR = os.path.join(BUILD_DIR, "e2e-run")
LOG_DIR = os.path.join(RUN_DIR, "logs")
MAIL_DIR = os.path.join(RUN_DIR, "mail")
PY_DIR = os.path.join(RUN_DIR, "py")
# The fixture's PostgreSQL keeps its socket in a short folder the postgres user
# can reach; <build>/test-run/pg links to it (deploy/scripts/datastores.sh).
PG_SOCK = os.path.join(os.path.realpath(os.path.join(BUILD_DIR, "test-run", "pg")), "sock")

HOST = "127.0.0.1"
PG_PORT = 55432
REDIS_ADDR = "127.0.0.1:56379"
DB_NAME = "crm_e2e"
OWNER_DSN = "postgresql://crm_owner:crm@127.0.0.1:%d/%s" % (PG_PORT, DB_NAME)
APP_DSN = "postgresql://crm_app:crm@127.0.0.1:%d/%s" % (PG_PORT, DB_NAME)

sys.path.insert(0, os.path.join(SOURCE_DIR, "deploy", "scripts"))
import services as service_list  # noqa: E402  (deploy/scripts/services.py)

# The services in start order (k8s/services.yaml).
SERVICES = service_list.load(os.path.join(SOURCE_DIR, "k8s", "services.yaml"))
GATEWAY = "gateway"  # the edge the tests talk to


def use_port_offset(offset):
    """Every service port is its test port + offset (set before start()).
    Sets PORT_OFFSET, ALL_PORTS and the named ports the tests use."""
    global PORT_OFFSET, ALL_PORTS, HTTP_PORT, GATEWAY_GRPC_PORT, GATEWAY_METRICS_PORT
    global MAIL_SINK_PORT
    global STORE_GRPC_PORT, STORE_METRICS_PORT, TXN_GRPC_PORT, TXN_METRICS_PORT
    PORT_OFFSET = offset
    # The SMTP sink the delivery engine sends to (deploy/scripts/mail_sink.py).
    MAIL_SINK_PORT = 15025 + offset
    ALL_PORTS = tuple(p for s in SERVICES for p in s.ports("test", offset).values()) + (
        MAIL_SINK_PORT,)
    HTTP_PORT = port(GATEWAY, "http")
    GATEWAY_GRPC_PORT = port(GATEWAY, "grpc")
    GATEWAY_METRICS_PORT = port(GATEWAY, "metrics")
    STORE_GRPC_PORT = port("customer-store", "grpc")
    STORE_METRICS_PORT = port("customer-store", "metrics")
    TXN_GRPC_PORT = port("transaction", "grpc")
    TXN_METRICS_PORT = port("transaction", "metrics")


def port(service, name="grpc"):
    """A port of a service as this harness starts it (test port + PORT_OFFSET)."""
    return service_list.by_name(SERVICES)[service].port(name, "test", PORT_OFFSET)


use_port_offset(0)  # HTTP_PORT 18080, GATEWAY_GRPC_PORT 15051, STORE_GRPC_PORT 15061, ...

ALLOWED_ORIGIN = "https://app.example.com"
MAX_BODY_BYTES = 65536
MAX_UPLOAD_BYTES = 1048576  # NDJSON import bodies and gRPC client streams
KEY_CACHE_TTL_S = 1
MAX_STREAMS_PER_TENANT = 3
READY_TIMEOUT_S = 30
GOOGLEAPIS_DIR = "/usr/share/gocode/src/github.com/gogo/googleapis"

_procs = []          # (name, Popen, log file)
_envs = {}           # service name -> the environment start() gave it
_failed = False      # set when start() or any test failed: stop() prints log tails
platform_key = None  # the platform operator's key (platform-admin only: creates tenants)
# The deployment's context key (CRM_CONTEXT_KEY): the gateway seals the tenant
# context it sends to the services with it; tests that call a service port
# directly seal with it too (sealed_metadata) or show that forging fails.
CONTEXT_KEY = secrets.token_urlsafe(48)


def mark_failed():
    global _failed
    _failed = True


class E2ETestCase(unittest.TestCase):
    """Records failures so tearDownModule knows to print the service logs."""

    maxDiff = None

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            mark_failed()
        return out

    def assertError(self, r, status, reason, field=None):
        """A REST error: the HTTP status, the body's code and message, its reason and field."""
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        self.assertEqual(err["code"], status, r)
        self.assertTrue(err["message"], r)
        self.assertEqual(r.reason(), reason, r)
        if field is not None:
            self.assertEqual(r.error_field(), field, r)


# ------------------------------------------------------------------- process

CRM_ADMIN = os.path.join(BUILD_DIR, "services", "gateway", "crm-admin")


def _run(cmd, timeout=60, env=None, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       env=env, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\nstdout: %s\nstderr: %s" %
                           (p.returncode, " ".join(cmd), p.stdout[-4000:], p.stderr[-4000:]))
    return p


def _port_in_use(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _psql_super(sql, db="postgres"):
    return _run(["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql", "-X", "-q",
                 "-v", "ON_ERROR_STOP=1", "-h", PG_SOCK, "-p", str(PG_PORT), "-d", db, "-c", sql])


def wait_for(what, fn, timeout=30):
    """fn()'s first truthy answer, polled every 0.2 s; AssertionError after timeout s."""
    deadline = time.time() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def query_db(sql):
    """Rows of `sql` in the e2e database as the superuser (RLS does not apply):
    a list of rows, each a list of column texts."""
    out = _run(["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql", "-X", "-q",
                "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-h", PG_SOCK, "-p",
                str(PG_PORT), "-d", DB_NAME, "-c", sql]).stdout
    return [line.split("\x1f") for line in out.splitlines() if line]


def _recreate_database():
    _psql_super("DROP DATABASE IF EXISTS %s WITH (FORCE)" % DB_NAME)
    _psql_super("CREATE DATABASE %s OWNER crm_owner" % DB_NAME)
    _psql_super("REVOKE ALL ON DATABASE %s FROM PUBLIC" % DB_NAME)
    _psql_super("GRANT CONNECT, TEMPORARY ON DATABASE %s TO crm_app" % DB_NAME)
    _psql_super("ALTER SCHEMA public OWNER TO crm_owner; REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
                " GRANT USAGE ON SCHEMA public TO crm_app", db=DB_NAME)


def _migrate():
    migrate = os.path.join(BUILD_DIR, "libs", "pg", "crm-migrate")
    for s in SERVICES:
        _run([migrate, "--dsn", OWNER_DSN, "--service", s.dir,
              "--dir", os.path.join(SOURCE_DIR, s.schema_dir)])


def _spawn(name, binary, extra_env, args=(), log_mode="wb"):
    env = dict(os.environ)
    env.update(extra_env)
    log_path = os.path.join(LOG_DIR, name + ".log")
    log = open(log_path, log_mode)
    p = subprocess.Popen([binary] + list(args), stdout=log, stderr=subprocess.STDOUT, env=env,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    _procs.append((name, p, log))
    return p


def _check_alive():
    for name, p, _ in _procs:
        if p.poll() is not None:
            raise RuntimeError("%s exited early with status %s" % (name, p.returncode))


def _grpc_serving(p):
    """grpc.health.v1 overall health of the server on port p is SERVING
    (empty request; SERVING encodes as 0x08 0x01)."""
    import grpc
    ch = grpc.insecure_channel("%s:%d" % (HOST, p))
    try:
        return ch.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=2) == b"\x08\x01"
    except grpc.RpcError:
        return False
    finally:
        ch.close()


def _wait_ready():
    """Every service answers SERVING on its gRPC health, and /readyz on its
    http port (the gateway's) answers 200."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = None
    pending = list(SERVICES)
    while time.monotonic() < deadline:
        _check_alive()
        s = pending[0]
        try:
            if not _grpc_serving(s.port("grpc", "test", PORT_OFFSET)):
                last = "%s: gRPC health not SERVING" % s.name
            elif "http" in s.ports("test") and \
                    _http_get(s.port("http", "test", PORT_OFFSET), "/readyz").status != 200:
                last = "%s: /readyz not 200" % s.name
            else:
                pending.pop(0)
                if not pending:
                    return
                continue
        except OSError as e:
            last = "%s: %r" % (s.name, e)
        time.sleep(0.2)
    raise RuntimeError("%s not ready within %ds (last: %s)"
                       % (pending[0].name, READY_TIMEOUT_S, last))


def generate_protos():
    """Generates the python messages and gRPC stubs from the .proto files only."""
    os.makedirs(PY_DIR, exist_ok=True)
    protos = []
    for root, _, files in os.walk(os.path.join(SOURCE_DIR, "proto")):
        protos += [os.path.join(root, f) for f in files if f.endswith(".proto")]
    protos = sorted(protos)
    google = [os.path.join(GOOGLEAPIS_DIR, "google", p) for p in
              ("api/annotations.proto", "api/http.proto", "rpc/status.proto",
               "rpc/error_details.proto")]
    _run(["protoc", "-I", os.path.join(SOURCE_DIR, "proto"), "-I", GOOGLEAPIS_DIR,
          "--python_out=" + PY_DIR, "--grpc_python_out=" + PY_DIR,
          "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos + google)
    if PY_DIR not in sys.path:
        sys.path.insert(0, PY_DIR)
    importlib.invalidate_caches()


def start():
    """Fresh database, migrations, every service, bootstrap key. Idempotent per process."""
    global platform_key, _failed
    if _procs:
        return
    _failed = False
    atexit.register(stop)
    try:
        os.makedirs(LOG_DIR, exist_ok=True)
        for port in ALL_PORTS:
            if _port_in_use(port):
                raise RuntimeError("port %d on %s is already in use (a leftover e2e process?)"
                                   % (port, HOST))
        if not os.path.isdir(PG_SOCK):
            raise RuntimeError("no PostgreSQL socket folder %s: run with the datastores fixture"
                               % PG_SOCK)
        generate_protos()
        _recreate_database()
        _migrate()
        secret = secrets.token_urlsafe(32)
        common = {"CRM_PG_DSN": APP_DSN, "CRM_REDIS_ADDR": REDIS_ADDR,
                  "CRM_PAGE_TOKEN_SECRET": secret, "CRM_CONTEXT_KEY": CONTEXT_KEY,
                  "CRM_BIND_HOST": HOST}
        # Settings of one service that the tests rely on.
        own = {GATEWAY: {"CRM_CORS_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
                         "CRM_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
                         "CRM_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
                         "CRM_KEY_CACHE_TTL": "%ds" % KEY_CACHE_TTL_S,
                         "CRM_MAX_STREAMS_PER_TENANT": str(MAX_STREAMS_PER_TENANT),
                         "CRM_DEFAULT_RATE_LIMIT": "1000"},
               # test_behaviour.Retention waits for purge rounds.
               "customer-store": {"CRM_BEHAVIOUR_RETENTION_CHECK": "1s"},
               "segmentation": {"CRM_BEHAVIOUR_RETENTION_CHECK": "1s"},
               # Survey links through this stack's gateway, swept often.
               "service-desk": {"CRM_SURVEY_BASE_URL": "http://%s:%d" % (HOST, HTTP_PORT),
                                "CRM_SURVEY_SWEEP_EVERY": "500ms"},
               # The sink below; webhooks to the tests' own receivers on
               # loopback, allowed explicitly; retries fast enough to watch.
               "delivery": {"CRM_DELIVERY_SMTP_URL": "smtp://%s:%d" % (HOST, MAIL_SINK_PORT),
                            "CRM_DELIVERY_ALLOW_NETWORKS": "127.0.0.0/8",
                            "CRM_DELIVERY_RETRY_BASE": "300ms",
                            "CRM_DELIVERY_RETRY_CAP": "1s",
                            "CRM_DELIVERY_MAX_ATTEMPTS": "3",
                            "CRM_DELIVERY_REQUEUE_AFTER": "2s",
                            "CRM_DELIVERY_CLAIM_LEASE": "35s",
                            # Tracking links through this stack's gateway.
                            "CRM_DELIVERY_TRACKING_BASE_URL": "http://%s:%d" % (HOST, HTTP_PORT)}}
        if os.path.isdir(MAIL_DIR):
            shutil.rmtree(MAIL_DIR)
        start_mail_sink()
        for s in SERVICES:
            # CRM_<NAME>_PORT of each port, CRM_<PEER>_ADDR of each peer.
            env = service_list.env(s, SERVICES, "test", PORT_OFFSET, HOST)
            _envs[s.name] = dict(common, **env, **own.get(s.name, {}))
            _spawn(s.name, os.path.join(BUILD_DIR, s.binary), _envs[s.name])
        _wait_ready()
        key_file = os.path.join(RUN_DIR, "platform-key")
        if os.path.exists(key_file):
            os.remove(key_file)
        out = _run([CRM_ADMIN, "platform-key", "--dsn", APP_DSN, "--tenant-name", "e2e-platform",
                    "--key-file", key_file])
        platform_key = out.stdout.strip().splitlines()[-1].strip()
        if not platform_key.startswith("crm_"):
            raise RuntimeError("crm-admin printed no key: %r" % out.stdout)
    except BaseException:
        mark_failed()
        stop()
        raise


def start_mail_sink(reply=0):
    """Starts the SMTP sink on MAIL_SINK_PORT (reply: answer every DATA
    with that code instead of storing it); returns once it listens."""
    args = ["--host", HOST, "--port", str(MAIL_SINK_PORT), "--dir", MAIL_DIR]
    if reply:
        args += ["--reply", str(reply)]
    _spawn("mail-sink", "/usr/bin/python3", {},
           [os.path.join(SOURCE_DIR, "deploy", "scripts", "mail_sink.py")] + args,
           log_mode="ab")
    deadline = time.time() + 20
    while not _port_in_use(MAIL_SINK_PORT):
        if time.time() > deadline:
            raise RuntimeError("the mail sink did not listen on %d" % MAIL_SINK_PORT)
        time.sleep(0.1)


def mails():
    """Every message the sink stored, oldest first, as email.message.Message."""
    import email
    if not os.path.isdir(MAIL_DIR):
        return []
    names = sorted((f for f in os.listdir(MAIL_DIR) if f.endswith(".eml")),
                   key=lambda f: int(f[:-4]))
    out = []
    for n in names:
        with open(os.path.join(MAIL_DIR, n), "rb") as f:
            out.append(email.message_from_bytes(f.read()))
    return out


def stop_service(name):
    """Stops one process of the stack (SIGTERM, bounded wait) for good;
    returns its exit status."""
    for i, (n, p, log) in enumerate(_procs):
        if n == name:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=20)
            log.close()
            del _procs[i]
            return p.returncode
    raise AssertionError("no running service %s in the stack" % name)


def start_service(service, name=None, ready_timeout=60, **overrides):
    """Starts another process of `service` (named `name` in the logs and for
    stop_service) with the environment start() gave the service, `overrides`
    on top (e.g. CRM_GRPC_PORT); returns once its gRPC health answers
    SERVING."""
    name = name or service
    env = dict(_envs[service], **overrides)
    svc = service_list.by_name(SERVICES)[service]
    p = _spawn(name, os.path.join(BUILD_DIR, svc.binary), env)
    grpc_port = int(env["CRM_GRPC_PORT"])
    deadline = time.monotonic() + ready_timeout
    while not _grpc_serving(grpc_port):
        if p.poll() is not None:
            raise RuntimeError("%s exited early with status %s" % (name, p.returncode))
        if time.monotonic() > deadline:
            raise RuntimeError("%s not SERVING within %ds" % (name, ready_timeout))
        time.sleep(0.2)
    return p


def stop():
    """Stops every process this module started (SIGTERM, then SIGKILL), prints logs on failure."""
    global _failed
    while _procs:
        name, p, log = _procs.pop()
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        elif p.returncode not in (0, None):
            mark_failed()
        log.close()
    if _failed:
        _failed = False  # print once (stop() runs from tearDownModule and atexit)
        print_log_tails()


def print_log_tails(lines=30):
    if not os.path.isdir(LOG_DIR):
        return
    for name in sorted(os.listdir(LOG_DIR)):
        path = os.path.join(LOG_DIR, name)
        with open(path, "rb") as f:
            tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
        sys.stderr.write("\n----- tail of %s -----\n%s\n" % (path, "\n".join(tail)))


# ---------------------------------------------------------------------- REST

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = body
        self._json = None

    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode("utf-8"))
        return self._json

    def header(self, name):
        return self.headers.get(name.lower())

    def reason(self):
        """ErrorInfo.reason of an error response ('' when absent)."""
        try:
            for d in self.json()["error"]["details"]:
                if d.get("@type") == "type.googleapis.com/google.rpc.ErrorInfo":
                    return d.get("reason", "")
        except (ValueError, KeyError, TypeError):
            pass
        return ""

    def error_field(self):
        try:
            for d in self.json()["error"]["details"]:
                if d.get("@type") == "type.googleapis.com/google.rpc.ErrorInfo":
                    return d.get("metadata", {}).get("field", "")
        except (ValueError, KeyError, TypeError):
            pass
        return ""

    def __repr__(self):
        return "<%d %s %s>" % (self.status, self.headers, self.body[:600])


def _http_get(p, path):
    conn = http.client.HTTPConnection(HOST, p, timeout=2)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def rest(method, path, key=None, body=None, headers=None, raw=None, timeout=10):
    """One HTTP/1.1 request to the gateway. body: JSON-encoded; raw: bytes sent as they are."""
    h = {}
    if key is not None:
        h["Authorization"] = "Bearer " + key
    data = None
    if raw is not None:
        data = raw
    elif body is not None:
        data = json.dumps(body).encode("utf-8")
        h["Content-Type"] = "application/json"
    if headers:
        h.update(headers)
    conn = http.client.HTTPConnection(HOST, HTTP_PORT, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        return Response(r.status, hdrs, payload)
    finally:
        conn.close()


def unique(prefix="e2e"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def create_tenant(name=None):
    """Returns (tenant json, admin secret) of a new tenant, created with the platform key."""
    r = rest("POST", "/v1/tenants", platform_key, {"displayName": name or unique("tenant")})
    if r.status != 200:
        raise AssertionError("create tenant failed: %r" % r)
    j = r.json()
    return j["tenant"], j["adminKey"]["secret"]


def new_customer(key, **fields):
    """Creates a customer in the key's tenant (orders and opportunities must
    name an existing one); returns its id."""
    body = {"givenName": "E2E", "emails": ["%s@example.com" % unique("c")]}
    body.update(fields)
    r = rest("POST", "/v1/customers", key, body)
    if r.status != 200:
        raise AssertionError("create customer failed: %r" % r)
    return r.json()["id"]


def create_key(admin_key, roles, **extra):
    """Returns (key json, secret)."""
    body = {"displayName": unique("key"), "roles": roles}
    body.update(extra)
    r = rest("POST", "/v1/apiKeys", admin_key, body)
    if r.status != 200:
        raise AssertionError("create key failed: %r" % r)
    j = r.json()
    return j["key"], j["secret"]


def count_customers(key, page_size=500, max_pages=50):
    n = 0
    token = ""
    for _ in range(max_pages):
        q = "/v1/customers?pageSize=%d" % page_size + ("&pageToken=" + token if token else "")
        r = rest("GET", q, key)
        if r.status != 200:
            raise AssertionError("list customers failed: %r" % r)
        n += len(r.json().get("customers", []))
        token = r.json().get("nextPageToken", "")
        if not token:
            return n
    raise AssertionError("more than %d pages" % max_pages)


# ---------------------------------------------------------------------- gRPC

def grpc_modules():
    """(customer_store_pb2, customer_store_pb2_grpc, admin_pb2, admin_pb2_grpc)."""
    generate_protos() if PY_DIR not in sys.path else None
    cs = importlib.import_module("crm.customer_store.v1.customer_store_pb2")
    cs_grpc = importlib.import_module("crm.customer_store.v1.customer_store_pb2_grpc")
    ad = importlib.import_module("crm.gateway.v1.admin_pb2")
    ad_grpc = importlib.import_module("crm.gateway.v1.admin_pb2_grpc")
    return cs, cs_grpc, ad, ad_grpc


def grpc_channel(port=None):
    """A channel to `port` (default: the gateway's gRPC port)."""
    import grpc
    return grpc.insecure_channel("%s:%d" % (HOST, GATEWAY_GRPC_PORT if port is None else port))


def auth(key):
    return (("authorization", "Bearer " + key),)


def sealed_metadata(tenant, principal="e2e-direct", roles="admin", key=None, ttl_s=60):
    """Tenant context as the gateway sends it to a service, sealed with the
    deployment's context key (libs/common/context_seal.h)."""
    expiry = int(time.time()) + ttl_s
    text = "v1\n%d\n%s\n%s\n%s" % (expiry, tenant, principal, roles)
    mac = hmac.new((key or CONTEXT_KEY).encode(), text.encode(), hashlib.sha256).hexdigest()
    return (("x-crm-tenant-id", tenant), ("x-crm-principal", principal), ("x-crm-roles", roles),
            ("x-crm-context-seal", "v1.%d.%s" % (expiry, mac)))


def reason_of(rpc_error):
    """crm-error-reason trailer of a grpc.RpcError ('' when absent)."""
    for k, v in (rpc_error.trailing_metadata() or ()):
        if k == "crm-error-reason":
            return v
    return ""
