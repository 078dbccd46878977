#!/usr/bin/env bash
# Runs every benchmark script in bench/ (customer_store_bench.sh, import_bench.sh,
# transaction_bench.sh, order_latency_bench.sh, segmentation_bench.sh,
# live_segments_bench.sh, behaviour_ingest_bench.sh,
# behaviour_retention_bench.sh, rec_eval.sh, personalization_bench.sh,
# delivery_bench.sh, delivery_trigger_bench.sh, service_desk_bench.sh), one
# after the other, and exits non-zero if any of them failed. `./crm bench`
# calls this. Benchmarks report figures; a script fails only when it could
# not measure (set-up failure, or more than 0.1% errors under load), never
# because a performance target was missed.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly BENCH_DIR
readonly SCRIPTS=(customer_store_bench.sh import_bench.sh transaction_bench.sh order_latency_bench.sh
                  segmentation_bench.sh live_segments_bench.sh behaviour_ingest_bench.sh
                  behaviour_retention_bench.sh rec_eval.sh personalization_bench.sh delivery_bench.sh
                  delivery_trigger_bench.sh service_desk_bench.sh)

failed=()
for s in "${SCRIPTS[@]}"; do
  echo "######## bench/$s"
  if ! "$BENCH_DIR/$s"; then
    failed+=("$s")
    echo "######## bench/$s FAILED" >&2
  fi
  echo
done

if ((${#failed[@]})); then
  echo "bench: ${#failed[@]} of ${#SCRIPTS[@]} bench scripts failed: ${failed[*]}" >&2
  exit 1
fi
echo "bench: all ${#SCRIPTS[@]} bench scripts completed"
