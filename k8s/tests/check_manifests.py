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

        if kind != "Deployment":
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
            rp, lp = c.get("readinessProbe"), c.get("livenessProbe")
            if not rp or not lp:
                err(o, f"container {cname}: readinessProbe and livenessProbe required")
                continue
            for pname, p in (("readinessProbe", rp), ("livenessProbe", lp)):
                if (p.get("grpc") or {}).get("port") != 50051:
                    err(o, f"container {cname}: {pname} is not a native grpc probe on 50051")
            if lp.get("failureThreshold", 3) <= rp.get("failureThreshold", 3):
                err(o, f"container {cname}: liveness failureThreshold must exceed readiness")
            for ef in c.get("envFrom", []):
                cm = configmaps.get((ef.get("configMapRef") or {}).get("name"))
                if cm is None:
                    err(o, f"container {cname}: envFrom ConfigMap {ef} not rendered")
                    continue
                sg = parse_duration(cm.get("data", {}).get("CRM_SHUTDOWN_GRACE", "")) if \
                    "CRM_SHUTDOWN_GRACE" in cm.get("data", {}) else None
                if sg is not None and (grace is None or grace <= sg):
                    err(o, f"terminationGracePeriodSeconds {grace} must exceed CRM_SHUTDOWN_GRACE {sg}s")
            for e in c.get("env", []):
                vf = e.get("valueFrom") or {}
                if "value" in e and e["name"] in ("CRM_PG_DSN", "CRM_PAGE_TOKEN_SECRET"):
                    err(o, f"container {cname}: {e['name']} must come from a Secret")
                if "secretKeyRef" in vf and not vf["secretKeyRef"].get("name"):
                    err(o, f"container {cname}: secretKeyRef without name")
        ns = o["metadata"].get("namespace", "")
        hpa = by_key.get(("HorizontalPodAutoscaler", ns, name))
        if not hpa or hpa["spec"]["scaleTargetRef"].get("name") != name:
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

    deployments = [o for o in objs if o.get("kind") == "Deployment"]
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
        for store in (o for o in objs if o.get("kind") == "StatefulSet"):
            s_labels = store["spec"]["template"]["metadata"].get("labels") or {}
            s_pols = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], s_labels)]
            if not any(any(selects(f.get("podSelector") or {}, labels) for f in r.get("from") or []
                           if "podSelector" in f and "namespaceSelector" not in f)
                       for p in s_pols for r in p["spec"].get("ingress") or []):
                err("Deployment", name, f"no NetworkPolicy admits it to StatefulSet {store['metadata']['name']}")

    # gateway -> backend on 50051, both directions of the policy pair.
    gw = next((d for d in deployments if d["metadata"]["name"] == "gateway"), None)
    gw_cm = next((o for o in objs if o.get("kind") == "ConfigMap"
                  and o["metadata"]["name"] == "gateway-config"), None)
    if policies and gw and gw_cm:
        gw_labels = gw["spec"]["template"]["metadata"].get("labels") or {}
        gw_pols = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], gw_labels)]
        for key, val in (gw_cm.get("data") or {}).items():
            if not re.fullmatch(r"CRM_\w+_ADDR", key) or key == "CRM_REDIS_ADDR":
                continue
            host = str(val).rpartition(":")[0]
            backend = next((d for d in deployments if d["metadata"]["name"] == host), None)
            if backend is None:
                continue  # reported above when the Service is missing too
            b_labels = backend["spec"]["template"]["metadata"].get("labels") or {}
            if not any(port_in(r.get("ports"), 50051) and
                       any(selects(f.get("podSelector") or {}, b_labels) for f in r.get("to") or []
                           if "podSelector" in f and "namespaceSelector" not in f)
                       for p in gw_pols for r in p["spec"].get("egress") or []):
                err("NetworkPolicy", host, "no egress from gateway to it on 50051")
            b_pols = [p for p in policies if p["spec"].get("podSelector") and selects(p["spec"]["podSelector"], b_labels)]
            if not any(port_in(r.get("ports"), 50051, "grpc") and
                       any(selects(f.get("podSelector") or {}, gw_labels) for f in r.get("from") or []
                           if "podSelector" in f and "namespaceSelector" not in f)
                       for p in b_pols for r in p["spec"].get("ingress") or []):
                err("NetworkPolicy", host, "no ingress to it from gateway on grpc")
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

    mutations = (no_probe, latest, untagged, root, no_limits, writable_root, secret,
                 short_grace, no_pdb, mixed_tags, dangling_backend, no_monitor, no_migration,
                 no_backend_egress, no_metrics_ingress)
    failed = 0
    for mutate in mutations:
        objs = copy.deepcopy(good)
        mutate(objs)
        if not check(objs, case):
            print(f"FAIL selftest {case}: mutation {mutate.__name__} was not detected")
            failed += 1
    if not failed:
        print(f"ok   selftest {case}: {len(mutations)} broken variants all rejected")
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
