#!/usr/bin/env bash
# Fails when a file under services/*/domain or services/*/app includes an
# adapter technology. Prints the offending lines. Boost is an adapter
# technology (Beast, Asio) except Boost.Math, a pure numerical library the
# segmentation models use for special functions (docs/architecture.md).
set -euo pipefail
root=${1:?source dir}
hits=$(grep -nE '#include [<"](grpcpp/|grpc/|pqxx|hiredis|prometheus/|google/protobuf/|crm/[a-z_]+/v1/.*\.pb\.h|boost/)' \
  "$root"/services/*/domain/*.{h,cc} "$root"/services/*/app/*.{h,cc} 2>/dev/null \
  | grep -vE '#include [<"]boost/math/' || true)
# grep exits 1 when nothing matches: that is the passing case, hence || true above.
if [ -n "$hits" ]; then
  echo "layering violation (domain/app must stay free of adapter headers):"
  echo "$hits"
  exit 1
fi
echo "layering ok"
