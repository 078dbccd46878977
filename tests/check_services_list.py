#!/usr/bin/python3
"""ctest `services_list`: k8s/services.yaml, the one list of services that
./crm, tests/e2e/stack.py, tests/reliability and bench/lib.sh read (through
deploy/scripts/services.py), agrees with the tree:

  - every services/<dir>/CMakeLists.txt that calls crm_add_service(<dir> ...)
    is a service of the list (name = <dir> with '-' for '_'), and every
    service of the list has one;
  - every port of local_ports and test_ports is unique across the list, and
    test ports are below 20000 (the harnesses add up to 10300);
  - services/<dir>/schema/SCHEMA exists and holds the service's `schema:`;
  - every peer is a service of the list, listed before the service that
    calls it (the launchers start services in list order);
  - the gateway's backend table (BackendTable() in services/gateway) names
    exactly the gateway's peers, and GatewayPeerDefaults' local addresses
    are those peers' local grpc ports.

Each problem names the file to edit. Then a self-test runs the same checks
on altered copies of those files and fails if one of them goes unnoticed.

  check_services_list.py [SOURCE_DIR]
"""

import glob
import os
import re
import shutil
import sys
import tempfile

SPEC = "k8s/services.yaml"
MAX_TEST_PORT = 20000


def load_reader(root):
    sys.path.insert(0, os.path.join(root, "deploy", "scripts"))
    try:
        import services  # deploy/scripts/services.py
    finally:
        sys.path.pop(0)
    return services


def cmake_services(root):
    """{dir: the file} of services/<dir>/CMakeLists.txt calling crm_add_service."""
    out = {}
    for path in sorted(glob.glob(os.path.join(root, "services", "*", "CMakeLists.txt"))):
        text = open(path, encoding="utf-8").read()
        m = re.search(r"^\s*crm_add_service\(\s*([A-Za-z0-9_]+)", text, re.M)
        if m:
            d = os.path.basename(os.path.dirname(path))
            out[d] = (os.path.relpath(path, root), m.group(1))
    return out


def backend_table(root):
    """(file, peers named by BackendTable()'s rows, {peer: local default address})."""
    for path in sorted(glob.glob(os.path.join(root, "services", "gateway", "**", "*.cc"),
                             recursive=True)):
        text = open(path, encoding="utf-8").read()
        m = re.search(r"BackendTable\(\)\s*\{(.*?)\n\}", text, re.S)
        if not m:
            continue
        peers = re.findall(r'service_full_name\(\),\s*"([^"]+)"', m.group(1))
        defaults = dict(re.findall(
            r'peer\s*==\s*"([^"]+)"\)\s*defaults\.addr\s*=\s*"([^"]+)"', text))
        return os.path.relpath(path, root), peers, defaults
    return None, [], {}


def check(root):
    problems = []

    def bad(where, msg):
        problems.append("%s: %s" % (where, msg))

    reader = load_reader(root)
    try:
        services = reader.load(os.path.join(root, SPEC))
    except reader.SpecError as e:
        return ["%s: %s" % (SPEC, e)]
    by_name = {s.name: s for s in services}

    # services/<dir> with crm_add_service <-> the list.
    built = cmake_services(root)
    for d, (path, arg) in built.items():
        if arg != d:
            bad(path, "crm_add_service(%s ...) in folder services/%s: name them alike" % (arg, d))
        if d.replace("_", "-") not in by_name:
            bad(SPEC, "services/%s builds a service (%s) but `services:` has no entry "
                "`name: %s`; add one (with local_ports, test_ports, peers)"
                % (d, path, d.replace("_", "-")))
    for s in services:
        if s.dir not in built:
            bad(SPEC, "service %s: no services/%s/CMakeLists.txt calling crm_add_service(%s); "
                "remove the entry or add the service" % (s.name, s.dir, s.dir))

    # Ports: unique across services and across the local and test sets.
    seen = {}
    for s in services:
        for which in ("local", "test"):
            for pname, port in s.ports(which).items():
                key = "%s %s_ports.%s" % (s.name, which, pname)
                if port in seen:
                    bad(SPEC, "port %d is used twice: %s and %s" % (port, seen[port], key))
                seen.setdefault(port, key)
                if which == "test" and port >= MAX_TEST_PORT:
                    bad(SPEC, "%s = %d: test ports stay below %d (the reliability tests and "
                        "benches add up to 10300, below the ephemeral range)"
                        % (key, port, MAX_TEST_PORT))

    # Schema folders.
    for s in services:
        path = os.path.join(s.schema_dir, "SCHEMA")
        full = os.path.join(root, path)
        if not os.path.isfile(full):
            bad(path, "missing: one line, the PostgreSQL schema of %s (%s says %r)"
                % (s.name, SPEC, s.schema))
            continue
        got = open(full, encoding="utf-8").read().strip()
        if got != s.schema:
            bad(SPEC, "service %s: schema: %r, but %s holds %r; make them agree"
                % (s.name, s.schema, path, got))

    # Peers: in the list, started before their callers.
    order = {s.name: i for i, s in enumerate(services)}
    for s in services:
        for p in s.peers:
            if p not in order:
                bad(SPEC, "service %s: peer %r is not a service of the list" % (s.name, p))
            elif order[p] > order[s.name]:
                bad(SPEC, "service %s calls %s, listed after it; list %s first (start order)"
                    % (s.name, p, p))

    # The gateway's backend table.
    gw = by_name.get("gateway")
    path, table_peers, defaults = backend_table(root)
    if gw is None:
        bad(SPEC, "no service `gateway`")
    elif path is None:
        bad("services/gateway/api/backends.cc", "no BackendTable() definition found")
    else:
        for p in sorted(set(table_peers) - set(gw.peers)):
            bad(SPEC, "the gateway's backend table (%s) forwards to %r, which is not in the "
                "gateway's peers; add it to `peers:` of gateway" % (path, p))
        for p in sorted(set(gw.peers) - set(table_peers)):
            bad(path, "gateway peer %r (%s) has no row in BackendTable(); add its row, or "
                "remove the peer from %s" % (p, SPEC, SPEC))
        for p, addr in sorted(defaults.items()):
            if p in by_name:
                want = "127.0.0.1:%d" % by_name[p].port("grpc", "local")
                if addr != want:
                    bad(path, "GatewayPeerDefaults: %s defaults to %s, but its local grpc port "
                        "(%s) makes it %s" % (p, addr, SPEC, want))
    return problems


# ------------------------------------------------------------------ self-test

def copy_tree(root, dst):
    files = [SPEC, "deploy/scripts/services.py"]
    files += [os.path.relpath(p, root) for p in
              glob.glob(os.path.join(root, "services", "*", "CMakeLists.txt"))
              + glob.glob(os.path.join(root, "services", "*", "schema", "SCHEMA"))
              + glob.glob(os.path.join(root, "services", "gateway", "**", "*.cc"), recursive=True)]
    for rel in files:
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy(os.path.join(root, rel), os.path.join(dst, rel))


def edit(dst, rel, old, new):
    """Replaces every `old` in the copy of rel."""
    p = os.path.join(dst, rel)
    text = open(p, encoding="utf-8").read()
    if old not in text:
        raise AssertionError("self-test: %r not in %s" % (old, rel))
    with open(p, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new))


def write(dst, rel, text):
    os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
    with open(os.path.join(dst, rel), "w", encoding="utf-8") as f:
        f.write(text)


def selftest(root):
    backends, _, _ = backend_table(root)
    cases = [
        ("a service folder not in the list", SPEC,
         lambda d: write(d, "services/hello/CMakeLists.txt", "crm_add_service(hello\n  CORE x.cc)\n")),
        ("a listed service without its folder", SPEC,
         lambda d: os.remove(os.path.join(d, "services/transaction/CMakeLists.txt"))),
        ("a port used twice", SPEC,
         lambda d: edit(d, SPEC, "test_ports: {grpc: 15062", "test_ports: {grpc: 15061")),
        ("a test port too high", SPEC,
         lambda d: edit(d, SPEC, "test_ports: {grpc: 15062", "test_ports: {grpc: 25062")),
        ("a schema name that differs", SPEC,
         lambda d: write(d, "services/transaction/schema/SCHEMA", "orders\n")),
        ("a missing SCHEMA file", "services/transaction/schema/SCHEMA",
         lambda d: os.remove(os.path.join(d, "services/transaction/schema/SCHEMA"))),
        ("an unknown peer", SPEC,
         lambda d: edit(d, SPEC, "peers: [customer-store]", "peers: [customer-stor]")),
        ("a gateway peer without a backend row", backends,
         lambda d: edit(d, backends, 'service_full_name(), "transaction"',
                        "service_full_name(), kInProcessPeer")),
        ("a backend row for a peer the gateway does not list", SPEC,
         lambda d: edit(d, SPEC, "peers: [customer-store, transaction, segmentation]",
                        "peers: [customer-store, segmentation]")),
        ("a local default address off the local port", backends,
         lambda d: edit(d, backends, '"127.0.0.1:50062"', '"127.0.0.1:50099"')),
    ]
    failed = []
    for what, want_file, mutate in cases:
        with tempfile.TemporaryDirectory() as d:
            copy_tree(root, d)
            mutate(d)
            got = check(d)
            if not any(p.startswith(want_file + ":") for p in got):
                failed.append("%s: not reported against %s (got %s)" % (what, want_file, got))
    return failed, len(cases)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    problems = check(root)
    for p in problems:
        print("FAIL services_list: " + p)
    failed, n = selftest(root)
    for f in failed:
        print("FAIL services_list self-test: " + f)
    if problems or failed:
        return 1
    print("ok   services_list: %s agrees with services/, the schema folders and the gateway's "
          "backend table; self-test: %d altered copies caught" % (SPEC, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
