# shellcheck shell=bash
# shellcheck disable=SC2034  # the arrays set here are used by the sourcing scripts
# Sourced by ./crm and bench/lib.sh: the list of services of k8s/services.yaml
# (deploy/scripts/services.py) as bash arrays.
#
#   source deploy/scripts/services.sh
#   crm_services_load local          # ./crm's ports (local_ports)
#   crm_services_load test 10000     # test_ports + 10000 (a bench's own set)
#
# Afterwards (SVC is a service name, e.g. customer-store):
#   CRM_SERVICES                 the names in start order (stop in reverse)
#   CRM_SVC_DIR[SVC]             customer_store (services/<dir>, crm-migrate --service)
#   CRM_SVC_BIN[SVC]             services/customer_store/customer-store (under the build dir)
#   CRM_SVC_SCHEMA_DIR[SVC]      services/customer_store/schema (under the repository)
#   CRM_SVC_PEERS[SVC]           the services it calls, space-separated
#   CRM_SVC_PORT_NAMES[SVC]      its port names (grpc metrics [http])
#   CRM_SVC_PORT[SVC.NAME]       one port, e.g. ${CRM_SVC_PORT[gateway.http]}
#   CRM_SVC_ENV[SVC]             lines CRM_<NAME>_PORT=<port> and
#                                CRM_<PEER>_ADDR=127.0.0.1:<peer's grpc port>
#                                (mapfile -t env <<<"${CRM_SVC_ENV[$svc]}")
# and the helpers below. Needs /usr/bin/python3 with python3-yaml.

CRM_SERVICES_PY=${CRM_SERVICES_PY:-/usr/bin/python3}
CRM_SERVICES_READER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services.py
# Empty until crm_services_load fills them.
CRM_SERVICES=()
declare -gA CRM_SVC_DIR=() CRM_SVC_BIN=() CRM_SVC_SCHEMA_DIR=() CRM_SVC_PEERS=() \
  CRM_SVC_PORT_NAMES=() CRM_SVC_PORT=() CRM_SVC_ENV=()

# crm_services_load local|test [OFFSET]: fails (status 1, the reader's message
# on stderr) when k8s/services.yaml cannot be read.
crm_services_load() {
  local out
  out=$("$CRM_SERVICES_PY" "$CRM_SERVICES_READER" shell --ports "${1:-local}" --offset "${2:-0}") ||
    return 1
  eval "$out"
}

# crm_svc_all_ports: every port of every service, space-separated.
crm_svc_all_ports() {
  local svc name ports=()
  for svc in "${CRM_SERVICES[@]}"; do
    for name in ${CRM_SVC_PORT_NAMES[$svc]}; do
      ports+=("${CRM_SVC_PORT[$svc.$name]}")
    done
  done
  echo "${ports[*]}"
}

# crm_svc_has_port SVC NAME: true when SVC listens on a port named NAME.
crm_svc_has_port() {
  [[ -n ${CRM_SVC_PORT[$1.$2]:-} ]]
}

# crm_svc_list SEPARATOR: the names in start order joined by SEPARATOR.
crm_svc_list() {
  local out="" svc
  for svc in "${CRM_SERVICES[@]}"; do
    out+="${out:+$1}$svc"
  done
  echo "$out"
}
