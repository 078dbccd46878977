#!/usr/bin/env bash
# crm-rec-eval on the real purchases of Online Retail: the engine must beat
# the most-popular baseline clearly (at least twice its precision@10 and
# NDCG@10), and the protocol's counts must be those of the data set.
#   rec_eval_retail_check.sh CRM_REC_EVAL PREP_SCRIPT ONLINE_RETAIL_CSV_GZ
set -Eeuo pipefail
eval_bin=$1 prep=$2 data=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$prep" "$data" "$work/retail.tsv"
"$eval_bin" "$work/retail.tsv" | tee "$work/out.txt"
grep -q '^rows 397884, distinct (user, item) pairs 266792, users 4338, items 3665$' "$work/out.txt" ||
  { echo "FAIL: unexpected data counts" >&2; exit 1; }
python3 - "$work/out.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] in ("item-cooccurrence", "most-popular"):
        rows[f[0]] = [float(x) for x in f[1:]]
engine, popular = rows["item-cooccurrence"], rows["most-popular"]
checks = [("precision@10", 0), ("ndcg@10", 2)]
bad = [n for n, k in checks if not engine[k] >= 2 * popular[k]]
if bad or engine[0] < 0.15:
    sys.exit(f"FAIL: engine {engine} vs most-popular {popular} ({bad})")
print(f"OK: precision@10 {engine[0]:.4f} vs {popular[0]:.4f}, ndcg@10 {engine[2]:.4f} vs {popular[2]:.4f}")
PY
