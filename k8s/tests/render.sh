#!/usr/bin/env bash
# Checks that the files generated from k8s/services.yaml are up to date
# (generate.py --check), renders every overlay (k8s/overlays/*) and every
# combination case (k8s/tests/<case>/kustomization.yaml) and checks the
# result with check_manifests.py: probes (readiness on the overall gRPC health; liveness
# and startup on the gRPC service "liveness"), resources, hardened
# securityContext, non-root, tagged images, HPA + PDB per Deployment,
# CRM_BIND_HOST a wildcard, secrets (CRM_PG_DSN, CRM_PAGE_TOKEN_SECRET,
# CRM_CONTEXT_KEY) only from Secret references, no Secret data outside the
# dev-only in-cluster-datastores component, a default-deny NetworkPolicy in
# every overlay, no ServiceMonitor target label overwriting a metric label,
# and that every service Deployment is wired into what the render contains
# (one image tag, gateway backend addresses, ServiceMonitors, network
# policies, a crm-migrate step), and that every service in k8s/services.yaml
# is rendered and wired (peer addresses and policies, migration order, the
# environment's image tag). Last, a copy of the tree with one more service
# added to the spec alone (generate.py --selftest) must render and pass the
# same checks. --static also checks
# deploy/prometheus/prometheus.yml (target labels) and
# deploy/compose/docker-compose.yaml (CRM_BIND_HOST, CRM_CONTEXT_KEY).
#
# Renderer: `kubectl kustomize` when kubectl is installed (its output is also
# compared with the python fallback so the fallback stays honest); otherwise
# the python fallback alone, which implements only the kustomize features this
# tree uses and refuses anything else.
set -euo pipefail

K8S_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly K8S_DIR
readonly PY=/usr/bin/python3
readonly CHECK=$K8S_DIR/tests/check_manifests.py

if ! "$PY" -c 'import yaml' 2>/dev/null; then
  echo "render.sh: $PY lacks yaml (apt-get install python3-yaml, see deploy/scripts/install_deps.sh)" >&2
  exit 1
fi

# KUBECTL=/path/to/kubectl picks one; KUBECTL=none forces the fallback.
KUBECTL=${KUBECTL:-}
if [[ $KUBECTL == none ]]; then
  KUBECTL=""
elif [[ -z $KUBECTL ]]; then
  # `command -v` fails when kubectl is absent; that selects the fallback.
  KUBECTL=$(command -v kubectl || true)
fi
if [[ -n $KUBECTL ]]; then
  echo "render.sh: renderer $KUBECTL kustomize ($("$KUBECTL" version --client 2>/dev/null | head -n 1))"
else
  echo "render.sh: kubectl not found; using the python fallback renderer only"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cases=()
for d in "$K8S_DIR"/overlays/*/ "$K8S_DIR"/tests/*/; do
  [[ -f $d/kustomization.yaml ]] && cases+=("${d%/}")
done
[[ ${#cases[@]} -gt 0 ]] || { echo "render.sh: no cases found" >&2; exit 1; }

passed=0
failed=0
run() {
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# render_case CHECK_SCRIPT CASE_DIR: kubectl (compared with the fallback)
# when present, else the fallback alone.
render_case() {
  local check=$1 c=$2
  local rel=${c#"$K8S_DIR"/}
  if [[ -n $KUBECTL ]]; then
    local out=$tmp/${rel//\//_}.yaml
    if ! "$KUBECTL" kustomize "$c" >"$out" 2>"$out.err"; then
      echo "FAIL $rel: kubectl kustomize:"
      sed 's/^/    /' "$out.err"
      return 1
    fi
    "$PY" "$check" --case "$c" --rendered "$out"
  else
    "$PY" "$check" --case "$c"
  fi
}

run "$PY" "$K8S_DIR/generate.py" --check
run "$PY" "$CHECK" --static "$K8S_DIR"
for c in "${cases[@]}"; do
  run render_case "$CHECK" "$c"
done
# The checks must reject known-bad manifests, not just accept good ones.
run "$PY" "$CHECK" --selftest --case "$K8S_DIR/tests/base-all-components"
# A service added to the spec alone comes out fully wired in every case.
if run "$PY" "$K8S_DIR/generate.py" --selftest "$tmp/new-service"; then
  for c in "${cases[@]}"; do
    rel=${c#"$K8S_DIR"/}
    run render_case "$tmp/new-service/k8s/tests/check_manifests.py" "$tmp/new-service/k8s/$rel"
  done
fi

echo "k8s render: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
