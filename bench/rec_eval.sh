#!/usr/bin/env bash
# The recommendation model's offline evaluation (docs/personalization.md,
# "Evaluation protocol"): crm-rec-eval on the clean purchases of Online
# Retail (../shared/data/online_retail.csv.gz), and on every further
# interactions file given (e.g. MovieLens-100k's u.data), each next to the
# most-popular baseline on the same split.
#
#   bench/rec_eval.sh [FILE.tsv ...]
#
# Environment: CRM_SHARED_DATA_DIR (../shared/data), REC_EVAL_ARGS (extra
# crm-rec-eval options, e.g. "--seed 7").
set -Eeuo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build}
tool=$build/services/personalization/crm-rec-eval
[[ -x $tool ]] || { echo "bench/rec_eval.sh: build first ($tool is missing)" >&2; exit 1; }
data=${CRM_SHARED_DATA_DIR:-$repo/../shared/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=()
if [[ -f $data/online_retail.csv.gz ]]; then
  python3 "$repo/services/personalization/tools/online_retail_to_tsv.py" \
    "$data/online_retail.csv.gz" "$work/online_retail.tsv"
  files+=("$work/online_retail.tsv")
else
  echo "bench/rec_eval.sh: $data/online_retail.csv.gz not found: skipped" >&2
fi
files+=("$@")
# shellcheck disable=SC2086
for f in "${files[@]}"; do "$tool" ${REC_EVAL_ARGS:-} "$f"; echo; done
