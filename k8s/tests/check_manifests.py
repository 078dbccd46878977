#!/usr/bin/python3
"""Checks rendered CRM manifests; renders them itself when kubectl is absent.

  check_manifests.py --case DIR [--rendered FILE]
  check_manifests.py --static K8S_DIR

With --rendered, FILE is `kubectl kustomize DIR` output; the small fallback
renderer below is run as well and must produce the same objects, so it cannot
drift unnoticed. Without --rendered, the fallback's output is what is checked.

The fallback is deliberately small: it implements exactly the kustomize
features this tree uses (resources, components, namespace, images, patches as
strategic merge or JSON 6902 with simple paths, secret/configMap generators
with literals and disableNameSuffixHash) and refuses anything else, rather
than guessing.
"""

import argparse
import base64
import copy
import os
import re
import sys
import tempfile

import yaml

POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding",
                  "CustomResourceDefinition", "PersistentVolume", "StorageClass",
                  "PriorityClass"}
KNOWN_KEYS = {"apiVersion", "kind", "metadata", "resources", "components",
              "namespace", "images", "patches", "patchesStrategicMerge",
              "secretGenerator", "configMapGenerator", "generatorOptions"}
DEV_COMPONENT = os.path.join("components", "in-cluster-datastores")
DEV_LABEL = "crm.dev/dev-only"
# Environment variables that hold secrets: only ever from a Secret reference,
# never a literal (env value or ConfigMap). CRM_CONTEXT_KEY is also required in
# every Deployment (the gateway signs the tenant/principal context with it and
# every service verifies it).
SECRET_ENV = ("CRM_PG_DSN", "CRM_PAGE_TOKEN_SECRET", "CRM_CONTEXT_KEY")
REQUIRED_SECRET_ENV = ("CRM_PG_DSN", "CRM_CONTEXT_KEY")
# Every listener binds CRM_BIND_HOST (code default 127.0.0.1): in a pod it
# must be a wildcard or probes and Services on the pod IP get no answer.
POD_BIND_HOSTS = ("0.0.0.0", "::")
# gRPC health service names: liveness and start-up ask "liveness" (SERVING
# while the process runs); readiness asks the overall health "" (dependencies).
LIVENESS_SERVICE = "liveness"
MIN_STARTUP_SECONDS = 120
# Labels the services put on their own metrics (docs/operations.md, Metrics).
# A target label of the same name makes Prometheus rename the metric's label
# to exported_<name> (honor_labels false), so scrape configs must not set one.
METRIC_LABELS = {"service", "method", "code", "query", "command", "outcome", "route",
                 "producer", "group", "stream", "rpc", "direction"}
# The Prometheus Operator always sets these target labels on ServiceMonitor
# targets; each must be dropped (or honorLabels set) when a metric has it.
OPERATOR_TARGET_LABELS = {"service", "namespace", "pod", "container", "endpoint", "job"}
PROMETHEUS_CONFIG = os.path.join("..", "deploy", "prometheus", "prometheus.yml")
COMPOSE_FILE = os.path.join("..", "deploy", "compose", "docker-compose.yaml")
# The services' spec (k8s/generate.py writes their manifests from it).
SPEC_FILE = "services.yaml"


class Unsupported(Exception):
    pass


# ------------------------------------------------------------------ fallback


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def kustomization_file(d):
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    raise Unsupported(f"no kustomization file in {d}")


def obj_key(o):
    md = o.get("metadata", {})
    return (o.get("kind"), md.get("namespace", ""), md.get("name"))


def strategic_merge(base, patch):
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            if isinstance(k, str) and k.startswith("$"):
                raise Unsupported(f"strategic-merge directive {k}")
            out[k] = strategic_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if (isinstance(base, list) and isinstance(patch, list) and base and patch
            and all(isinstance(i, dict) and "name" in i for i in base + patch)):
        out = [copy.deepcopy(i) for i in base]
        for item in patch:
            for idx, cur in enumerate(out):
                if cur["name"] == item["name"]:
                    out[idx] = strategic_merge(cur, item)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def json6902(obj, ops):
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = obj
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        kind = op["op"]
        if isinstance(parent, list):
            idx = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(idx, copy.deepcopy(op["value"]))
            elif kind == "replace":
                parent[idx] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del parent[idx]
            else:
                raise Unsupported(f"json6902 op {kind}")
        else:
            if kind in ("add", "replace"):
                if kind == "replace" and last not in parent:
                    raise Unsupported(f"json6902 replace of missing {op['path']}")
                parent[last] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del parent[last]
            else:
                raise Unsupported(f"json6902 op {kind}")
    return obj


def target_matches(o, target):
    md = o.get("metadata", {})
    for field, actual in (("kind", o.get("kind")), ("name", md.get("name")),
                          ("namespace", md.get("namespace"))):
        if field in target and target[field] != actual:
            return False
    extra = set(target) - {"kind", "name", "namespace", "group", "version"}
    if extra:
        raise Unsupported(f"patch target fields {sorted(extra)}")
    return True


def apply_patches(objs, base_dir, patches, legacy):
    for entry in list(patches) + [{"path": p} for p in legacy]:
        if "path" in entry:
            docs = load_docs(os.path.join(base_dir, entry["path"]))
        else:
            docs = [yaml.safe_load(entry["patch"])]
        target = entry.get("target")
        for doc in docs:
            if isinstance(doc, list):  # JSON 6902
                if target is None:
                    raise Unsupported("json6902 patch without target")
                hits = [i for i, o in enumerate(objs) if target_matches(o, target)]
                if not hits:
                    raise Unsupported(f"patch target {target} matches nothing")
                for i in hits:
                    objs[i] = json6902(objs[i], doc)
                continue
            t = target or {"kind": doc["kind"], "name": doc["metadata"]["name"]}
            hits = [i for i, o in enumerate(objs) if target_matches(o, t)]
            if not hits:
                raise Unsupported(f"patch for {t} matches nothing")
            for i in hits:
                patch = copy.deepcopy(doc)
                if target is not None:
                    patch.pop("metadata", None)
                objs[i] = strategic_merge(objs[i], patch)


def generate(base_dir, k):
    opts = k.get("generatorOptions", {})
    if not opts.get("disableNameSuffixHash", False):
        raise Unsupported("generators without disableNameSuffixHash (name hashes)")
    out = []
    for kind, field in (("Secret", "secretGenerator"), ("ConfigMap", "configMapGenerator")):
        for g in k.get(field, []):
            extra = set(g) - {"name", "literals", "files", "type"}
            if extra:
                raise Unsupported(f"{field} fields {sorted(extra)}")
            data = {}
            for lit in g.get("literals", []):
                key, _, val = lit.partition("=")
                data[key] = val
            for spec in g.get("files", []):
                key, _, path = spec.rpartition("=")
                path = path or spec
                with open(os.path.join(base_dir, path), encoding="utf-8") as f:
                    data[key or os.path.basename(path)] = f.read()
            o = {"apiVersion": "v1", "kind": kind, "metadata": {"name": g["name"]}}
            if opts.get("labels"):
                o["metadata"]["labels"] = dict(opts["labels"])
            if opts.get("annotations"):
                o["metadata"]["annotations"] = dict(opts["annotations"])
            if kind == "Secret":
                o["type"] = g.get("type", "Opaque")
                o["data"] = {key: base64.b64encode(v.encode()).decode() for key, v in data.items()}
            else:
                o["data"] = data
            out.append(o)
    return out


def split_image(ref):
    if "@" in ref:
        return ref.split("@", 1)[0], None
    slash, colon = ref.rfind("/"), ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, None


def set_images(objs, images):
    for o in objs:
        for c in iter_containers(o):
            name, tag = split_image(c.get("image", ""))
            for img in images:
                if img["name"] != name:
                    continue
                new_name = img.get("newName", name)
                if "digest" in img:
                    c["image"] = f"{new_name}@{img['digest']}"
                else:
                    tag = img.get("newTag", tag)
                    c["image"] = f"{new_name}:{tag}" if tag else new_name


def render(d, allow_component=False):
    """Renders kustomization directory d into a list of objects."""
    k = yaml.safe_load(open(kustomization_file(d), encoding="utf-8"))
    unknown = set(k) - KNOWN_KEYS
    if unknown:
        raise Unsupported(f"{d}: kustomization fields {sorted(unknown)}")
    is_component = k.get("kind") == "Component"
    if is_component and not allow_component:
        raise Unsupported(f"{d} is a Component used as a resource")
    objs = []
    for r in k.get("resources", []):
        p = os.path.normpath(os.path.join(d, r))
        objs.extend(render(p) if os.path.isdir(p) else load_docs(p))
    objs.extend(generate(d, k) if ("secretGenerator" in k or "configMapGenerator" in k) else [])
    for c in k.get("components", []):
        objs = apply_component(objs, os.path.normpath(os.path.join(d, c)))
    apply_patches(objs, d, k.get("patches", []), k.get("patchesStrategicMerge", []))
    set_images(objs, k.get("images", []))
    if "namespace" in k:
        for o in objs:
            if o.get("kind") not in CLUSTER_SCOPED:
                o.setdefault("metadata", {})["namespace"] = k["namespace"]
    keys = [obj_key(o) for o in objs]
    dup = {x for x in keys if keys.count(x) > 1}
    if dup:
        raise Unsupported(f"{d}: duplicate objects {sorted(dup)}")
    return objs


def apply_component(objs, cdir):
    k = yaml.safe_load(open(kustomization_file(cdir), encoding="utf-8"))
    if k.get("kind") != "Component":
        raise Unsupported(f"{cdir} is not a Component")
    unknown = set(k) - KNOWN_KEYS
    if unknown:
        raise Unsupported(f"{cdir}: component fields {sorted(unknown)}")
    objs = list(objs)
    for r in k.get("resources", []):
        p = os.path.normpath(os.path.join(cdir, r))
        objs.extend(render(p) if os.path.isdir(p) else load_docs(p))
    if "secretGenerator" in k or "configMapGenerator" in k:
        objs.extend(generate(cdir, k))
    for c in k.get("components", []):
        objs = apply_component(objs, os.path.normpath(os.path.join(cdir, c)))
    apply_patches(objs, cdir, k.get("patches", []), k.get("patchesStrategicMerge", []))
    set_images(objs, k.get("images", []))
    if "namespace" in k:
        raise Unsupported(f"{cdir}: namespace in a component")
    return objs


# -------------------------------------------------------------------- checks


def pod_spec(o):
    spec = o.get("spec", {})
    return spec.get("template", {}).get("spec")


def is_app_workload(o):
    """A service of the suite: a Deployment, or a partitioned service's
    StatefulSet, running a crm/ image (not an in-cluster datastore)."""
    return o.get("kind") in ("Deployment", "StatefulSet") and any(
        split_image(c.get("image", ""))[0].startswith("crm/") for c in iter_containers(o))


def check_partitioned(o, objs, services, configmaps, err):
    """A partitioned service's StatefulSet: its headless Service names every
    pod, CRM_<NAME>_REPLICAS lists them in ordinal order (as many as it
    runs), and no HorizontalPodAutoscaler changes its scale."""
    name = o["metadata"]["name"]
    labels = o["spec"]["template"]["metadata"].get("labels") or {}
    head = services.get(o["spec"].get("serviceName"))
    if head is None or head["spec"].get("clusterIP") != "None" or \
            not selects(head["spec"].get("selector") or {}, labels):
        err(o, "serviceName names no headless Service selecting its pods")
    data = {}
    for c in o["spec"]["template"]["spec"].get("containers", []):
        for ef in c.get("envFrom", []):
            data.update((configmaps.get((ef.get("configMapRef") or {}).get("name")) or {}).get("data") or {})
    var = "CRM_" + name.upper().replace("-", "_") + "_REPLICAS"
    want = ",".join(f"{name}-{i}.{o['spec'].get('serviceName')}:50051"
                    for i in range(int(o["spec"].get("replicas", 1))))
    if data.get(var) != want:
        err(o, f"{var} is {data.get(var)!r}, not its {o['spec'].get('replicas', 1)} pods {want!r}")
    if any(h.get("kind") == "HorizontalPodAutoscaler" and
           h["spec"]["scaleTargetRef"].get("name") == name for h in objs):
        err(o, "a HorizontalPodAutoscaler would change its replicas without its address list")


def iter_containers(o):
    ps = pod_spec(o) if o.get("kind") in POD_KINDS else None
    if not ps:
        return []
    return list(ps.get("initContainers", [])) + list(ps.get("containers", []))


def parse_duration(s):
    m = re.fullmatch(r"(\d+)(ms|s|m)", str(s).strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2)
    return {"ms": n / 1000, "s": n, "m": n * 60}[unit]


def check(objs, case):
    errors = []

    def err(o, msg):
        k = obj_key(o)
        errors.append(f"{case}: {k[0]}/{k[2]}: {msg}")

    by_key = {obj_key(o): o for o in objs}
    configmaps = {o["metadata"]["name"]: o for o in objs if o.get("kind") == "ConfigMap"}
    for o in objs:
        kind = o.get("kind")
        labels = o.get("metadata", {}).get("labels") or {}
        if labels.get("app.kubernetes.io/part-of") != "crm":
            err(o, "missing label app.kubernetes.io/part-of: crm")
        if kind not in CLUSTER_SCOPED and not o.get("metadata", {}).get("namespace"):
            err(o, "no metadata.namespace (set `namespace:` in the overlay or case)")

        if kind == "Secret":
            if labels.get(DEV_LABEL) != "true" or labels.get("app.kubernetes.io/component") != "dev-datastores":
                err(o, "Secret outside components/in-cluster-datastores (secrets must not be committed)")
            for key, val in (o.get("data") or {}).items():
                if "dev-only" not in base64.b64decode(val).decode(errors="replace"):
                    err(o, f"dev Secret key {key} does not hold an obviously dev-only value")
            if o.get("stringData"):
                err(o, "stringData in a rendered Secret")

        if kind == "ServiceMonitor":
            for ep in o["spec"].get("endpoints") or []:
                if ep.get("honorLabels"):
                    continue
                for label in sorted(METRIC_LABELS & OPERATOR_TARGET_LABELS):
                    dropped = any(r.get("action") == "labeldrop" and re.fullmatch(r.get("regex", ""), label)
                                  for r in ep.get("relabelings") or [])
                    if not dropped:
                        err(o, f"endpoint {ep.get('port')}: target label {label!r} overwrites the "
                               f"metrics' own {label!r} label (drop it in relabelings)")

        if kind == "ConfigMap":
            for key in (o.get("data") or {}):
                if key in SECRET_ENV:
                    err(o, f"{key} in a ConfigMap: it must come from a Secret")

        if kind == "Service":
            for p in o["spec"].get("ports", []):
                if not p.get("name"):
                    err(o, f"Service port {p.get('port')} has no name")
            if o["spec"].get("type", "ClusterIP") != "ClusterIP":
                err(o, "Service type is not ClusterIP")

        if kind not in POD_KINDS:
            continue
        ps = pod_spec(o) or {}
        psc = ps.get("securityContext") or {}
        if psc.get("runAsUser") == 0:
            err(o, "pod runs as uid 0")
        for c in iter_containers(o):
            cname = c.get("name")
            csc = c.get("securityContext") or {}
            image = c.get("image", "")
            last = image.rsplit("/", 1)[-1]
            if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
                err(o, f"container {cname}: image {image!r} has no pinned tag")
            res = c.get("resources") or {}
            for section in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(section) or {}):
                        err(o, f"container {cname}: resources.{section}.{r} missing")
            if not (csc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                err(o, f"container {cname}: runAsNonRoot not set")
            if csc.get("runAsUser") == 0:
                err(o, f"container {cname}: runs as uid 0")
            if csc.get("readOnlyRootFilesystem") is not True:
                err(o, f"container {cname}: readOnlyRootFilesystem not true")
            if csc.get("allowPrivilegeEscalation") is not False:
                err(o, f"container {cname}: allowPrivilegeEscalation not false")
            if csc.get("privileged"):
                err(o, f"container {cname}: privileged")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                err(o, f"container {cname}: capabilities do not drop ALL")
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp != "RuntimeDefault":
                err(o, f"container {cname}: seccompProfile is not RuntimeDefault")

        if not is_app_workload(o):
            continue
        name = o["metadata"]["name"]
        tmpl_labels = o["spec"]["template"]["metadata"].get("labels") or {}
        sel = o["spec"]["selector"].get("matchLabels") or {}
        if not sel or any(tmpl_labels.get(k) != v for k, v in sel.items()):
            err(o, "selector does not match template labels")
        if tmpl_labels.get("app.kubernetes.io/name") != name:
            err(o, "template label app.kubernetes.io/name differs from the Deployment name")
        grace = ps.get("terminationGracePeriodSeconds")
        for c in ps.get("containers", []):
            cname = c.get("name")
            rp, lp, sp = c.get("readinessProbe"), c.get("livenessProbe"), c.get("startupProbe")
            if not rp or not lp or not sp:
                err(o, f"container {cname}: readinessProbe, livenessProbe and startupProbe required")
                continue
            for pname, p in (("readinessProbe", rp), ("livenessProbe", lp), ("startupProbe", sp)):
                if (p.get("grpc") or {}).get("port") != 50051:
                    err(o, f"container {cname}: {pname} is not a native grpc probe on 50051")
            # A liveness probe on the overall health would restart every pod
            # when PostgreSQL (or a backend) is down.
            for pname, p in (("livenessProbe", lp), ("startupProbe", sp)):
                if (p.get("grpc") or {}).get("service") != LIVENESS_SERVICE:
                    err(o, f"container {cname}: {pname} must ask grpc service {LIVENESS_SERVICE!r}")
            if (rp.get("grpc") or {}).get("service", ""):
                err(o, f"container {cname}: readinessProbe must ask the overall health (no grpc service), "
                       f"not {rp['grpc']['service']!r}")
            budget = sp.get("failureThreshold", 3) * sp.get("periodSeconds", 10)
            if budget < MIN_STARTUP_SECONDS:
                err(o, f"container {cname}: startupProbe allows {budget}s, less than "
                       f"{MIN_STARTUP_SECONDS}s for PostgreSQL to answer")
            if lp.get("failureThreshold", 3) <= rp.get("failureThreshold", 3):
                err(o, f"container {cname}: liveness failureThreshold must exceed readiness")
            env_seen = {}
            for ef in c.get("envFrom", []):
                cm = configmaps.get((ef.get("configMapRef") or {}).get("name"))
                if cm is None:
                    err(o, f"container {cname}: envFrom ConfigMap {ef} not rendered")
                    continue
                env_seen.update(cm.get("data") or {})
                sg = parse_duration(cm.get("data", {}).get("CRM_SHUTDOWN_GRACE", "")) if \
                    "CRM_SHUTDOWN_GRACE" in cm.get("data", {}) else None
                if sg is not None and (grace is None or grace <= sg):
                    err(o, f"terminationGracePeriodSeconds {grace} must exceed CRM_SHUTDOWN_GRACE {sg}s")
            for e in c.get("env", []):
                vf = e.get("valueFrom") or {}
                if "value" in e and e["name"] in SECRET_ENV:
                    err(o, f"container {cname}: {e['name']} must come from a Secret")
                if "secretKeyRef" in vf and not vf["secretKeyRef"].get("name"):
                    err(o, f"container {cname}: secretKeyRef without name")
                env_seen[e["name"]] = e.get("value", vf)
            for var in REQUIRED_SECRET_ENV:
                if not isinstance(env_seen.get(var), dict) or "secretKeyRef" not in env_seen[var]:
                    err(o, f"container {cname}: {var} from a secretKeyRef required")
            if env_seen.get("CRM_BIND_HOST") not in POD_BIND_HOSTS:
                err(o, f"container {cname}: CRM_BIND_HOST is {env_seen.get('CRM_BIND_HOST')!r}, "
                       f"must be one of {POD_BIND_HOSTS} (probes and Services use the pod IP)")
        ns = o["metadata"].get("namespace", "")
        hpa = by_key.get(("HorizontalPodAutoscaler", ns, name))
        if kind == "StatefulSet":
            check_partitioned(o, objs, {x["metadata"]["name"]: x for x in objs
                                        if x.get("kind") == "Service"}, configmaps, err)
        elif not hpa or hpa["spec"]["scaleTargetRef"].get("name") != name:
            err(o, "no HorizontalPodAutoscaler targeting it")
        pdb = by_key.get(("PodDisruptionBudget", ns, name))
        if not pdb or (pdb["spec"]["selector"].get("matchLabels") or {}) != sel:
            err(o, "no PodDisruptionBudget selecting its pods")
    errors.extend(check_wiring(objs, case))
    return errors


def selects(selector, labels):
    """True when a label selector (matchLabels, matchExpressions In/Exists)
    selects `labels`; an empty selector selects everything."""
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        op = e.get("operator")
        if op == "In":
            if labels.get(e["key"]) not in e.get("values", []):
                return False
        elif op == "Exists":
            if e["key"] not in labels:
                return False
        else:
            raise Unsupported(f"selector operator {op}")
    return True


def port_in(rule_ports, port, name=None):
    return any(p.get("port") in (port, name) for p in rule_ports or [])


def check_wiring(objs, case):
    """Every backend Deployment is wired into whatever the render contains:
    one image tag per render, Services behind the gateway's CRM_*_ADDR,
    ServiceMonitors, network policies and a migrations step. Catches a new
    service that was added to the base but forgotten elsewhere."""
    errors = []

    def err(kind, name, msg):
        errors.append(f"{case}: {kind}/{name}: {msg}")

    deployments = [o for o in objs if is_app_workload(o)]
    services = {o["metadata"]["name"]: o for o in objs if o.get("kind") == "Service"}

    # Overlays retag every crm/* image; a forgotten `images:` entry leaves a
    # service on the base tag.
    tags = {}
    for o in objs:
        for c in iter_containers(o):
            name, tag = split_image(c.get("image", ""))
            if name.startswith("crm/"):
                tags.setdefault(tag, []).append(f"{o['metadata']['name']}/{c.get('name')}")
    if len(tags) > 1:
        err("images", "crm/*", f"more than one tag in one render: {tags}")

    # Backend addresses (CRM_<X>_ADDR, not Redis: an external datastore).
    for o in objs:
        if o.get("kind") != "ConfigMap":
            continue
        for key, val in (o.get("data") or {}).items():
            if not re.fullmatch(r"CRM_\w+_ADDR", key) or key == "CRM_REDIS_ADDR":
                continue
            host, _, port = str(val).rpartition(":")
            svc = services.get(host)
            if svc is None or not any(str(p.get("port")) == port for p in svc["spec"].get("ports", [])):
                err("ConfigMap", o["metadata"]["name"], f"{key}={val!r} names no rendered Service port")

    monitors = [o for o in objs if o.get("kind") == "ServiceMonitor"]
    policies = [o for o in objs if o.get("kind") == "NetworkPolicy"]

    # Every overlay (dev included) runs behind the network policies: a
    # default deny selecting every pod for ingress and egress.
    if f"{os.sep}overlays{os.sep}" in f"{os.sep}{case}{os.sep}" and not any(
            p["spec"].get("podSelector") == {} and
            set(p["spec"].get("policyTypes") or []) >= {"Ingress", "Egress"} and
            not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies):
        err("overlay", case, "no default-deny NetworkPolicy (include components/network-policies)")

    # One context key for all: services reject context signed with another.
    refs = set()
    for d in deployments:
        for c in d["spec"]["template"]["spec"].get("containers", []):
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if e.get("name") == "CRM_CONTEXT_KEY" and ref:
                    refs.add((ref.get("name"), ref.get("key")))
    if len(refs) > 1:
        err("Deployment", "*", f"CRM_CONTEXT_KEY comes from different Secret keys: {sorted(refs)}")
    jobs = [o for o in objs if o.get("kind") == "Job"
            and o["metadata"]["name"] == "crm-migrate"]
    migrated = set()
    for j in jobs:
        for c in iter_containers(j):
            args = c.get("args") or []
            if "--service" in args[:-1]:
                migrated.add(args[args.index("--service") + 1])

    for d in deployments:
        name = d["metadata"]["name"]
        labels = d["spec"]["template"]["metadata"].get("labels") or {}
        svc = services.get(name)
        if svc is None or not selects(svc["spec"].get("selector") or {}, labels):
            err("Deployment", name, "no Service of the same name selecting its pods")
        elif not any(p.get("name") == "metrics" for p in svc["spec"].get("ports", [])):
            err("Service", name, "no port named metrics")
        if monitors and not any(selects(m["spec"].get("selector") or {}, svc["metadata"].get("labels") or {})
                                for m in monitors if svc):
            err("Deployment", name, "no ServiceMonitor selects its Service")
        if jobs and name.replace("-", "_") not in migrated:
            err("Deployment", name, f"the crm-migrate Job has no step --service {name.replace('-', '_')}")
        if not policies:
            continue
        mine = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], labels)]
        if not any(port_in(r.get("ports"), 5432) for p in mine for r in p["spec"].get("egress") or []):
            err("Deployment", name, "no NetworkPolicy allows egress to PostgreSQL 5432")
        if not any(port_in(r.get("ports"), 9464, "metrics") and
                   any("namespaceSelector" in f for f in r.get("from") or [])
                   for p in mine for r in p["spec"].get("ingress") or []):
            err("Deployment", name, "no NetworkPolicy allows metrics ingress from monitoring")
        # In-cluster datastores (dev): their ingress must admit every service.
        for store in (o for o in objs if o.get("kind") == "StatefulSet" and not is_app_workload(o)):
            s_labels = store["spec"]["template"]["metadata"].get("labels") or {}
            s_pols = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], s_labels)]
            if not any(any(selects(f.get("podSelector") or {}, labels) for f in r.get("from") or []
                           if "podSelector" in f and "namespaceSelector" not in f)
                       for p in s_pols for r in p["spec"].get("ingress") or []):
                err("Deployment", name, f"no NetworkPolicy admits it to StatefulSet {store['metadata']['name']}")

    # caller -> peer on 50051 (each CRM_<PEER>_ADDR of a Deployment's
    # ConfigMap), both directions of the policy pair.
    for caller in deployments if policies else []:
        c_labels = caller["spec"]["template"]["metadata"].get("labels") or {}
        c_pols = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], c_labels)]
        for key, val in deployment_config(caller, objs).items():
            if not re.fullmatch(r"CRM_\w+_ADDR", key) or key == "CRM_REDIS_ADDR":
                continue
            host = str(val).rpartition(":")[0]
            backend = next((d for d in deployments if d["metadata"]["name"] == host), None)
            if backend is None:
                continue  # reported above when the Service is missing too
            cname = caller["metadata"]["name"]
            b_labels = backend["spec"]["template"]["metadata"].get("labels") or {}
            if not any(port_in(r.get("ports"), 50051) and
                       any(selects(f.get("podSelector") or {}, b_labels) for f in r.get("to") or []
                           if "podSelector" in f and "namespaceSelector" not in f)
                       for p in c_pols for r in p["spec"].get("egress") or []):
                err("NetworkPolicy", host, f"no egress from {cname} to it on 50051")
            b_pols = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], b_labels)]
            if not any(port_in(r.get("ports"), 50051, "grpc") and
                       any(selects(f.get("podSelector") or {}, c_labels) for f in r.get("from") or []
                           if "podSelector" in f and "namespaceSelector" not in f)
                       for p in b_pols for r in p["spec"].get("ingress") or []):
                err("NetworkPolicy", host, f"no ingress to it from {cname} on grpc")
    errors.extend(check_spec(objs, case, policies, jobs))
    return errors


def deployment_config(d, objs):
    """The data of the ConfigMaps a Deployment's containers take envFrom."""
    names = {(ef.get("configMapRef") or {}).get("name")
             for c in d["spec"]["template"]["spec"].get("containers", []) for ef in c.get("envFrom", [])}
    data = {}
    for o in objs:
        if o.get("kind") == "ConfigMap" and o["metadata"]["name"] in names:
            data.update(o.get("data") or {})
    return data


def find_spec(case):
    """k8s/services.yaml above the case directory (k8s/overlays/x, k8s/tests/x)."""
    d = os.path.abspath(case)
    while True:
        p = os.path.join(d, SPEC_FILE)
        if os.path.isfile(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def check_spec(objs, case, policies, jobs):
    """Every service of k8s/services.yaml is in the render and fully wired:
    its objects, one CRM_<PEER>_ADDR per peer (the policy pair is checked
    with every address above), ingress from outside for a public one, the
    crm-migrate steps in spec order, and in an overlay the environment's image
    tag. A Deployment of a crm/ image that the spec does not list fails too."""
    errors = []

    def err(kind, name, msg):
        errors.append(f"{case}: {kind}/{name}: {msg}")

    path = find_spec(case)
    if path is None:
        return [f"{case}: no {SPEC_FILE} above the case"]
    spec = yaml.safe_load(open(path, encoding="utf-8"))
    services = spec.get("services") or []
    names = [s["name"] for s in services]
    by_key = {(o.get("kind"), o["metadata"].get("name")): o for o in objs}
    for o in objs:
        if is_app_workload(o) and o["metadata"]["name"] not in names:
            err("Deployment", o["metadata"]["name"], f"not in {SPEC_FILE} (add it there and run k8s/generate.py)")
    for s in services:
        name = s["name"]
        workload = "StatefulSet" if s.get("partitioned") else "Deployment"
        scale = (("Service", f"{name}-replicas") if s.get("partitioned")
                 else ("HorizontalPodAutoscaler", name))
        missing = [f"{k}/{n}" for k, n in (
            ("ServiceAccount", name), ("ConfigMap", f"{name}-config"), (workload, name),
            ("Service", name), scale, ("PodDisruptionBudget", name))
            if (k, n) not in by_key]
        if missing:
            err("spec", name, f"not rendered: {', '.join(missing)}")
            continue
        d = by_key[(workload, name)]
        cfg = deployment_config(d, objs)
        for peer in s.get("peers") or []:
            key = "CRM_" + peer.upper().replace("-", "_") + "_ADDR"
            if cfg.get(key) != f"{peer}:50051":
                err("ConfigMap", f"{name}-config", f"{key} is {cfg.get(key)!r}, not {peer}:50051 (peers)")
        if s.get("public") and policies:
            labels = d["spec"]["template"]["metadata"].get("labels") or {}
            if not any(port_in(r.get("ports"), 50051, "grpc") and not r.get("from")
                       for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], labels)
                       for r in p["spec"].get("ingress") or []):
                err("NetworkPolicy", name, "public, but no ingress from anywhere on grpc")
    for j in jobs:
        steps = []
        for c in iter_containers(j):
            args = c.get("args") or []
            if "--service" in args[:-1]:
                steps.append(args[args.index("--service") + 1])
        want = [n.replace("-", "_") for n in names]
        if steps != want:
            err("Job", "crm-migrate", f"steps {steps}, not the spec's order {want}")
    env = os.path.basename(os.path.normpath(case))
    if f"{os.sep}overlays{os.sep}" in f"{os.sep}{case}{os.sep}" and env in (spec.get("environments") or {}):
        tag = str(spec["environments"][env]["tag"])
        for n in names + ["migrate"]:
            for o in objs:
                for c in iter_containers(o):
                    image, got = split_image(c.get("image", ""))
                    if image == f"crm/{n}" and got != tag:
                        err(o.get("kind"), o["metadata"]["name"], f"image crm/{n}:{got}, environment {env} has tag {tag}")
    return errors


def static_check(k8s_dir):
    """No Secret manifests or generators outside the dev datastores component."""
    errors = []
    for root, _, files in os.walk(k8s_dir):
        rel_root = os.path.relpath(root, k8s_dir)
        if rel_root == DEV_COMPONENT or rel_root.startswith(DEV_COMPONENT + os.sep):
            continue
        for fn in files:
            if not fn.endswith((".yaml", ".yml")) and fn != "Kustomization":
                continue
            p = os.path.join(root, fn)
            for doc in load_docs(p):
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind") == "Secret":
                    errors.append(f"{p}: Secret manifest outside {DEV_COMPONENT}")
                if "secretGenerator" in doc:
                    errors.append(f"{p}: secretGenerator outside {DEV_COMPONENT}")
    errors.extend(check_prometheus_config(os.path.join(k8s_dir, PROMETHEUS_CONFIG)))
    errors.extend(check_compose(os.path.join(k8s_dir, COMPOSE_FILE)))
    return errors


def check_compose(path):
    """The compose services (those with CRM_GRPC_PORT) bind a wildcard inside
    their containers and share one CRM_CONTEXT_KEY."""
    errors = []
    if not os.path.isfile(path):
        return [f"{path}: missing"]
    cfg = yaml.safe_load(open(path, encoding="utf-8")) or {}
    keys = {}
    for name, svc in (cfg.get("services") or {}).items():
        env = svc.get("environment") or {}
        if not isinstance(env, dict) or "CRM_GRPC_PORT" not in env:
            continue
        if env.get("CRM_BIND_HOST") not in POD_BIND_HOSTS:
            errors.append(f"{path}: {name}: CRM_BIND_HOST {env.get('CRM_BIND_HOST')!r} is not a "
                          f"wildcard; other containers could not reach it")
        key = str(env.get("CRM_CONTEXT_KEY", ""))
        if len(key) < 32:
            errors.append(f"{path}: {name}: CRM_CONTEXT_KEY missing or shorter than 32 characters")
        keys[name] = key
    if len(set(keys.values())) > 1:
        errors.append(f"{path}: CRM_CONTEXT_KEY differs between services {sorted(keys)}")
    if not keys:
        errors.append(f"{path}: no service with CRM_GRPC_PORT found")
    return errors


def check_prometheus_config(path):
    """The bundled Prometheus config sets no target label that the metrics
    carry themselves (it would be renamed to exported_<label>)."""
    errors = []
    if not os.path.isfile(path):
        return [f"{path}: missing"]
    cfg = yaml.safe_load(open(path, encoding="utf-8")) or {}
    for sc in cfg.get("scrape_configs") or []:
        if sc.get("honor_labels"):
            continue
        job = sc.get("job_name")
        for st in sc.get("static_configs") or []:
            for label in sorted(set(st.get("labels") or {}) & METRIC_LABELS):
                errors.append(f"{path}: job {job}: target label {label!r} overwrites the metrics' own label")
        for r in sc.get("relabel_configs") or []:
            if r.get("target_label") in METRIC_LABELS:
                errors.append(f"{path}: job {job}: relabeling sets target label "
                              f"{r['target_label']!r}, which the metrics carry themselves")
    return errors


def normalize(objs):
    """Keyed by (kind, namespace, name); Secret data compared without the
    line breaks kustomize puts into long base64 strings."""
    out = {}
    for o in objs:
        o = copy.deepcopy(o)
        if o.get("kind") == "Secret":
            o["data"] = {k: re.sub(r"\s", "", v) for k, v in (o.get("data") or {}).items()}
        out[obj_key(o)] = o
    return out


def selftest(case):
    """Proves the checks bite: each mutation of a good render must fail."""
    good = render(case)
    if check(good, case):
        print(f"FAIL selftest {case}: the unmodified render does not pass")
        return 1

    def first(objs, kind):
        return next(o for o in objs if o["kind"] == kind)

    def no_probe(objs):
        first(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0].pop("readinessProbe")

    def latest(objs):
        first(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] = "crm/x:latest"

    def untagged(objs):
        first(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"] = "crm/x"

    def root(objs):
        ps = first(objs, "Deployment")["spec"]["template"]["spec"]
        ps["securityContext"].pop("runAsNonRoot")
        for c in ps["containers"]:
            c["securityContext"].pop("runAsNonRoot")

    def no_limits(objs):
        first(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits")

    def writable_root(objs):
        first(objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["securityContext"][
            "readOnlyRootFilesystem"] = False

    def secret(objs):
        objs.append({"apiVersion": "v1", "kind": "Secret",
                     "metadata": {"name": "leak", "namespace": "crm",
                                  "labels": {"app.kubernetes.io/part-of": "crm"}},
                     "data": {"dsn": base64.b64encode(b"postgresql://u:p@h/db").decode()}})

    def short_grace(objs):
        first(objs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 5

    def no_pdb(objs):
        objs.remove(first(objs, "PodDisruptionBudget"))

    def named(objs, kind, name):
        return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)

    def mixed_tags(objs):
        c = named(objs, "Deployment", "transaction")["spec"]["template"]["spec"]["containers"][0]
        c["image"] = c["image"].rsplit(":", 1)[0] + ":0.0.9"

    def dangling_backend(objs):
        named(objs, "ConfigMap", "gateway-config")["data"]["CRM_TRANSACTION_ADDR"] = "txn:50051"

    def no_monitor(objs):
        objs.remove(named(objs, "ServiceMonitor", "transaction"))

    def no_migration(objs):
        ps = named(objs, "Job", "crm-migrate")["spec"]["template"]["spec"]
        ps["initContainers"] = [c for c in ps["initContainers"] if "transaction" not in c["args"]]

    def no_backend_egress(objs):
        objs.remove(named(objs, "NetworkPolicy", "gateway-egress-transaction"))

    def no_metrics_ingress(objs):
        p = named(objs, "NetworkPolicy", "metrics-ingress-from-monitoring")
        for e in p["spec"]["podSelector"]["matchExpressions"]:
            e["values"] = [v for v in e["values"] if v != "transaction"]

    def container(objs, name):
        return named(objs, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]

    def liveness_default_service(objs):
        container(objs, "transaction")["livenessProbe"]["grpc"].pop("service")

    def readiness_liveness_service(objs):
        container(objs, "gateway")["readinessProbe"]["grpc"]["service"] = LIVENESS_SERVICE

    def no_startup(objs):
        container(objs, "customer-store").pop("startupProbe")

    def short_startup(objs):
        container(objs, "customer-store")["startupProbe"]["failureThreshold"] = 3

    def literal_context_key(objs):
        for e in container(objs, "gateway")["env"]:
            if e["name"] == "CRM_CONTEXT_KEY":
                e.pop("valueFrom")
                e["value"] = "x" * 40

    def context_key_in_configmap(objs):
        c = container(objs, "transaction")
        c["env"] = [e for e in c["env"] if e["name"] != "CRM_CONTEXT_KEY"]
        named(objs, "ConfigMap", "transaction-config")["data"]["CRM_CONTEXT_KEY"] = "x" * 40

    def no_context_key(objs):
        c = container(objs, "customer-store")
        c["env"] = [e for e in c["env"] if e["name"] != "CRM_CONTEXT_KEY"]

    def other_context_key(objs):
        for e in container(objs, "transaction")["env"]:
            if e["name"] == "CRM_CONTEXT_KEY":
                e["valueFrom"]["secretKeyRef"]["key"] = "other-context-key"

    def loopback_bind(objs):
        named(objs, "ConfigMap", "gateway-config")["data"]["CRM_BIND_HOST"] = "127.0.0.1"

    def no_bind_host(objs):
        named(objs, "ConfigMap", "customer-store-config")["data"].pop("CRM_BIND_HOST")

    def monitor_keeps_service_label(objs):
        named(objs, "ServiceMonitor", "gateway")["spec"]["endpoints"][0].pop("relabelings")

    def no_peer_addr(objs):
        named(objs, "ConfigMap", "transaction-config")["data"].pop("CRM_CUSTOMER_STORE_ADDR")

    def no_peer_egress(objs):
        objs.remove(named(objs, "NetworkPolicy", "transaction-egress-customer-store"))

    def no_peer_ingress(objs):
        p = named(objs, "NetworkPolicy", "customer-store-ingress")
        p["spec"]["ingress"][0]["from"] = [f for f in p["spec"]["ingress"][0]["from"]
                                           if f["podSelector"]["matchLabels"]["app.kubernetes.io/name"] != "transaction"]

    def spec_service_not_rendered(objs):
        # Gone everywhere the other checks would look: only the spec knows it.
        objs[:] = [o for o in objs if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/name")
                   != "transaction" and o["metadata"]["name"] != "transaction-egress-customer-store"]
        named(objs, "ConfigMap", "gateway-config")["data"].pop("CRM_TRANSACTION_ADDR")
        ps = named(objs, "Job", "crm-migrate")["spec"]["template"]["spec"]
        ps["initContainers"] = [c for c in ps["initContainers"] if "transaction" not in c["args"]]

    def unlisted_service(objs):
        for o in [o for o in objs if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/name")
                  == "customer-store" and o["kind"] != "NetworkPolicy"]:
            o = copy.deepcopy(o)
            text = yaml.safe_dump(o).replace("customer-store", "unlisted").replace("customer_store", "unlisted")
            objs.append(yaml.safe_load(text))

    def migration_order(objs):
        ps = named(objs, "Job", "crm-migrate")["spec"]["template"]["spec"]
        ps["initContainers"].reverse()

    def replicas_list_stale(objs):
        # One more segmentation pod than its address list names.
        named(objs, "StatefulSet", "segmentation")["spec"]["replicas"] += 1

    def partitioned_autoscaled(objs):
        hpa = copy.deepcopy(first(objs, "HorizontalPodAutoscaler"))
        hpa["metadata"]["name"] = "segmentation"
        hpa["spec"]["scaleTargetRef"]["name"] = "segmentation"
        objs.append(hpa)

    def no_replicas_service(objs):
        objs.remove(named(objs, "Service", "segmentation-replicas"))

    def environment_tag(objs):
        # The base-tagged render judged as the dev overlay: tag 0.1.0, not dev.
        return os.path.join(os.path.dirname(os.path.dirname(case)), "overlays", "dev")

    def overlay_without_policies(objs):
        objs[:] = [o for o in objs if o["kind"] != "NetworkPolicy"]
        return os.path.join(os.path.dirname(os.path.dirname(case)), "overlays", "dev")

    mutations = (no_probe, latest, untagged, root, no_limits, writable_root, secret,
                 short_grace, no_pdb, mixed_tags, dangling_backend, no_monitor, no_migration,
                 no_backend_egress, no_metrics_ingress, liveness_default_service,
                 readiness_liveness_service, no_startup, short_startup, literal_context_key,
                 context_key_in_configmap, no_context_key, other_context_key, loopback_bind,
                 no_bind_host, overlay_without_policies, monitor_keeps_service_label,
                 no_peer_addr, no_peer_egress, no_peer_ingress, spec_service_not_rendered,
                 unlisted_service, migration_order, environment_tag, replicas_list_stale,
                 partitioned_autoscaled, no_replicas_service)
    # Mutations that other checks might also trip over must be caught by
    # the check they are for.
    expect = {no_peer_addr: "(peers)", spec_service_not_rendered: "not rendered",
              unlisted_service: f"not in {SPEC_FILE}", migration_order: "spec's order",
              environment_tag: "environment dev has tag", no_peer_egress: "no egress from transaction",
              no_peer_ingress: "no ingress to it from transaction",
              replicas_list_stale: "_REPLICAS is", partitioned_autoscaled: "HorizontalPodAutoscaler would",
              no_replicas_service: "headless Service"}
    failed = 0
    for mutate in mutations:
        objs = copy.deepcopy(good)
        as_case = mutate(objs) or case
        errors = check(objs, as_case)
        if not errors or not any(expect.get(mutate, "") in e for e in errors):
            print(f"FAIL selftest {case}: mutation {mutate.__name__} was not detected"
                  + (f" (no error with {expect[mutate]!r})" if errors else ""))
            failed += 1
    with tempfile.NamedTemporaryFile("w", suffix=".yml", encoding="utf-8") as f:
        yaml.safe_dump({"scrape_configs": [{"job_name": "x", "static_configs": [
            {"targets": ["x:9464"], "labels": {"service": "x"}}]}]}, f)
        f.flush()
        if not check_prometheus_config(f.name):
            print("FAIL selftest: a prometheus target label 'service' was not detected")
            failed += 1
    if not failed:
        print(f"ok   selftest {case}: {len(mutations)} broken variants and a bad prometheus.yml all rejected")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case")
    ap.add_argument("--rendered")
    ap.add_argument("--static")
    ap.add_argument("--selftest", action="store_true",
                    help="break a copy of the case's render in known ways; each must be caught")
    args = ap.parse_args()

    if args.selftest:
        return selftest(os.path.normpath(args.case))

    if args.static:
        errors = static_check(args.static)
        for e in errors:
            print("FAIL", e)
        return 1 if errors else 0

    case = os.path.normpath(args.case)
    try:
        fallback = render(case)
    except (Unsupported, KeyError, IndexError, OSError) as e:
        print(f"FAIL {case}: python fallback renderer: {type(e).__name__}: {e}")
        return 1
    if args.rendered:
        objs = load_docs(args.rendered)
        a, b = normalize(objs), normalize(fallback)
        if set(a) != set(b):
            print(f"FAIL {case}: fallback renderer disagrees with kubectl kustomize: "
                  f"only kubectl {sorted(set(a) - set(b))}, only fallback {sorted(set(b) - set(a))}")
            return 1
        diff = [k for k in a if a[k] != b[k]]
        if diff:
            print(f"FAIL {case}: fallback renderer output differs from kubectl kustomize for {diff}")
            return 1
        how = "kubectl kustomize (fallback renderer agrees)"
    else:
        objs = fallback
        how = "python fallback renderer"
    errors = check(objs, case)
    for e in errors:
        print("FAIL", e)
    if not errors:
        print(f"ok   {case}: {len(objs)} objects via {how}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
