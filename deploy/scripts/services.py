#!/usr/bin/python3
"""The suite's services as the local launchers see them, read from k8s/services.yaml.

k8s/services.yaml is the one list of services: k8s/generate.py writes the
Kubernetes objects from it, and ./crm, tests/e2e/stack.py, tests/reliability
and bench/lib.sh start, stop, check and migrate what this reader prints, in
the order listed (a service after the peers it calls).

  services.py [--ports local|test] [--offset N] [--host H] [FORMAT]

FORMAT
  list    (default) one line per service, fields separated by one TAB:
          name, binary (relative to the build dir), schema folder (relative to
          the repository), ports as name=port[,name=port...], peers as
          name[,name...] (empty when none)
  names   one service name per line
  shell   bash assignments for deploy/scripts/services.sh to eval: the array
          CRM_SERVICES and the associative arrays CRM_SVC_* (see there)
  json    a JSON array of the services, every field above

--ports local: the `local_ports` of each service (./crm); test: its
`test_ports` (tests/e2e/stack.py). --offset N adds N to every port (the
reliability tests and each bench script shift the test ports by their own
offset, so that they never collide with the tests or with each other).
Peer addresses are --host (default 127.0.0.1) and the peer's grpc port of the
same set.

As a module (Debian's /usr/bin/python3 with python3-yaml):
  import services; for s in services.load(): s.name, s.binary, s.ports("test"), s.env("test")

Exit status 1, naming the file, when the spec lacks what a launcher needs.
"""

import argparse
import json
import os
import re
import shlex
import sys

try:
    import yaml
except ImportError:  # Debian: python3-yaml (deploy/scripts/install_deps.sh)
    sys.stderr.write("services.py: %s lacks the yaml module; apt-get install python3-yaml "
                     "(deploy/scripts/install_deps.sh)\n" % sys.executable)
    raise

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SPEC = os.path.join(REPO, "k8s", "services.yaml")
PORT_SETS = ("local", "test")
# Every service listens on these; more (e.g. the gateway's http) come from `ports`.
REQUIRED_PORTS = ("grpc", "metrics")
NAME_RE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")


class SpecError(Exception):
    pass


def env_name(name):
    """customer-store -> CUSTOMER_STORE (CRM_<NAME>_ADDR, CRM_<NAME>_PORT)."""
    return name.upper().replace("-", "_")


class Service:
    def __init__(self, name, schema, peers, port_sets):
        self.name = name
        self.dir = name.replace("-", "_")                 # services/<dir>, crm-migrate --service
        self.binary = "services/%s/%s" % (self.dir, name)  # under the build dir
        self.schema_dir = "services/%s/schema" % self.dir  # under the repository
        self.schema = schema                              # its PostgreSQL schema
        self.peers = list(peers)
        self._ports = port_sets                           # "local"/"test" -> {name: port}

    def ports(self, which="local", offset=0):
        """{port name: port}, in the spec's order."""
        return {k: v + offset for k, v in self._ports[which].items()}

    def port(self, name, which="local", offset=0):
        return self._ports[which][name] + offset


def _port_map(svc, field, value):
    if not isinstance(value, dict) or not value:
        raise SpecError("%s: `%s` missing or not a map {name: port}" % (svc, field))
    for k, v in value.items():
        if not isinstance(k, str) or not NAME_RE.fullmatch(k) or isinstance(v, bool) \
                or not isinstance(v, int) or not 0 < v < 65536:
            raise SpecError("%s: %s.%s: %r is not a port" % (svc, field, k, v))
    return dict(value)


def load(path=SPEC):
    """The services in start order; SpecError when a launcher's field is missing."""
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f) or {}
    entries = spec.get("services") or []
    defaults, kinds = spec.get("defaults") or {}, spec.get("kinds") or {}
    names = [e.get("name") for e in entries]
    out = []
    for e in entries:
        name = e.get("name") or ""
        if not NAME_RE.fullmatch(name):
            raise SpecError("service name %r is not a DNS label" % name)
        sets = {}
        for which in PORT_SETS:
            ports = _port_map(name, which + "_ports", e.get(which + "_ports"))
            # `ports` merges like k8s/generate.py's: defaults, kind, service.
            extra = {}
            for layer in (defaults, kinds.get(e.get("kind", "backend")) or {}, e):
                extra.update(layer.get("ports") or {})
            want = set(REQUIRED_PORTS) | set(extra)
            if set(ports) != want:
                raise SpecError("%s: %s_ports names %s; it needs exactly %s (grpc, metrics and "
                                "the names of `ports`)" % (name, which, sorted(ports), sorted(want)))
            sets[which] = ports
        peers = e.get("peers") or []
        for p in peers:
            if p not in names or p == name:
                raise SpecError("%s: peer %r is not another service of the list" % (name, p))
        out.append(Service(name, e.get("schema") or "", peers, sets))
    if not out or len(set(names)) != len(names):
        raise SpecError("services: missing, or a name twice")
    return out


def by_name(services):
    return {s.name: s for s in services}


def env(svc, services, which="local", offset=0, host="127.0.0.1"):
    """What the launchers set for `svc` from the list: CRM_<PORT>_PORT for each
    of its ports, CRM_<PEER>_ADDR=host:<peer's grpc port> for each peer."""
    idx = by_name(services)
    out = {}
    for k, v in svc.ports(which, offset).items():
        out["CRM_%s_PORT" % env_name(k)] = str(v)
    for p in svc.peers:
        out["CRM_%s_ADDR" % env_name(p)] = "%s:%d" % (host, idx[p].port("grpc", which, offset))
    return out


def as_dict(svc, services, which, offset, host):
    return {"name": svc.name, "dir": svc.dir, "binary": svc.binary, "schema_dir": svc.schema_dir,
            "schema": svc.schema, "ports": svc.ports(which, offset), "peers": svc.peers,
            "env": env(svc, services, which, offset, host)}


def shell(services, which, offset, host):
    q = shlex.quote
    lines = ["CRM_SERVICES=(%s)" % " ".join(q(s.name) for s in services)]

    def assoc(var, pairs):
        body = " ".join("[%s]=%s" % (q(k), q(v)) for k, v in pairs)
        lines.append("declare -gA %s=(%s)" % (var, body))

    assoc("CRM_SVC_DIR", [(s.name, s.dir) for s in services])
    assoc("CRM_SVC_BIN", [(s.name, s.binary) for s in services])
    assoc("CRM_SVC_SCHEMA_DIR", [(s.name, s.schema_dir) for s in services])
    assoc("CRM_SVC_PEERS", [(s.name, " ".join(s.peers)) for s in services])
    assoc("CRM_SVC_PORT_NAMES", [(s.name, " ".join(s.ports(which))) for s in services])
    assoc("CRM_SVC_PORT", [("%s.%s" % (s.name, k), str(v))
                           for s in services for k, v in s.ports(which, offset).items()])
    assoc("CRM_SVC_ENV", [(s.name, "\n".join("%s=%s" % kv for kv in
                                             env(s, services, which, offset, host).items()))
                          for s in services])
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("format", nargs="?", default="list", choices=("list", "names", "shell", "json"))
    ap.add_argument("--ports", default="local", choices=PORT_SETS)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--spec", default=SPEC)
    args = ap.parse_args(argv)
    try:
        services = load(args.spec)
    except (OSError, SpecError, yaml.YAMLError) as e:
        sys.stderr.write("services.py: %s: %s\n" % (os.path.relpath(args.spec, REPO), e))
        return 1
    w, o, h = args.ports, args.offset, args.host
    if args.format == "names":
        print("\n".join(s.name for s in services))
    elif args.format == "shell":
        print(shell(services, w, o, h))
    elif args.format == "json":
        print(json.dumps([as_dict(s, services, w, o, h) for s in services], indent=2))
    else:
        for s in services:
            ports = ",".join("%s=%d" % kv for kv in s.ports(w, o).items())
            print("\t".join([s.name, s.binary, s.schema_dir, ports, ",".join(s.peers)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
