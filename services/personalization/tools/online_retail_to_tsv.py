#!/usr/bin/env python3
"""Online Retail (../shared/data/online_retail.csv.gz) as crm-rec-eval input.

The clean purchases of the data set's README (cancellations, lines without a
customer, quantity <= 0 and price <= 0 dropped: 397,884 lines), one line each:
customer, stock code, quantity, unix time (the recorded UK time read as UTC),
TAB-separated.

usage: online_retail_to_tsv.py online_retail.csv.gz OUT.tsv
"""
import csv
import datetime
import gzip
import sys


def main(src, dst):
    n = 0
    with gzip.open(src, "rt", encoding="utf-8", newline="") as f, open(dst, "w") as out:
        rows = csv.reader(f)
        next(rows)
        for invoice, code, _desc, qty, date, price, customer, _country in rows:
            if invoice.startswith("C") or not customer or float(qty) <= 0 or float(price) <= 0:
                continue
            t = datetime.datetime.strptime(date, "%Y-%m-%dT%H:%M")
            unix = int(t.replace(tzinfo=datetime.timezone.utc).timestamp())
            out.write(f"{customer}\t{code}\t{qty}\t{unix}\n")
            n += 1
    print(f"{dst}: {n} purchase lines", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
