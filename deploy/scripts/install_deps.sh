#!/usr/bin/env bash
# Installs every Debian 12 package the CRM suite needs to build, test and run
# locally. Idempotent: asks dpkg first and touches apt only when something is
# missing, so a second run is fast and needs no network.
#
#   deploy/scripts/install_deps.sh        (as root)
set -euo pipefail

readonly PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  # C++ libraries
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libpqxx-dev libhiredis-dev prometheus-cpp-dev catch2 nlohmann-json3-dev
  libkainjow-mustache-dev
  libboost-dev libssl-dev
  # delivery: SMTP and webhooks over libcurl
  libcurl4-openssl-dev
  # segmentation models: maximum-likelihood fits and special functions
  libnlopt-dev libnlopt-cxx-dev libboost-math-dev
  # live segments: compressed member bitmaps (CRoaring)
  libroaring-dev
  # the service desk's classifier: linear models (liblinear)
  liblinear-dev
  # the service desk's inbound mail: MIME parsing (GMime)
  libgmime-3.0-dev
  # IANA time zones (business calendars, quiet hours, models' zones)
  tzdata
  # the Online Retail reference data is gzip'd (tests read it through zlib)
  zlib1g-dev
  # google/api/*.proto and google/rpc/*.proto for protoc's include path
  golang-github-gogo-googleapis-dev
  # datastores for tests and the local stack
  postgresql-15 postgresql-client-15 redis-server redis-tools
  # Debian's python3 (/usr/bin/python3) with grpc and yaml, for health checks
  # and the k8s render fallback
  python3 python3-grpcio python3-protobuf python3-yaml
  # the local SMTP sink of ./crm up and the delivery tests
  python3-aiosmtpd
  # load and smoke tools
  nghttp2-client wrk curl jq ca-certificates
  # flock, pgrep/ps, ss
  util-linux procps iproute2
)

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    # dpkg-query exits non-zero for a package it has never heard of; that is
    # "missing" here, not an error.
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [[ $status == ii* ]] || echo "$pkg"
  done
}

mapfile -t missing < <(missing_packages)
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install_deps: missing packages (${missing[*]}) and not root; run as root" >&2
  exit 1
fi

echo "install_deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

mapfile -t still_missing < <(missing_packages)
if [[ ${#still_missing[@]} -ne 0 ]]; then
  echo "install_deps: still missing after install: ${still_missing[*]}" >&2
  exit 1
fi
echo "install_deps: done"
