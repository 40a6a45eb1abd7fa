"""Cut the vendored real sample from the complete "Online Retail" file, byte for byte:
`python tests/data/sample.py FULL.csv.gz OUT.csv.gz [--every 6]`.

A sample by CUSTOMER, not by invoice: every line of the customers whose number is a multiple of
``every`` (and of the guest invoices, without a customer, whose number is), so each sampled customer
keeps their whole history. Their recency, frequency and spend are then what they are in the
complete file, and the RFM segments and the models see real purchase histories (a sample by invoice
keeps one order in ``every`` of each customer, and leaves nobody with a long history).
"""

from __future__ import annotations

import argparse
import csv
import gzip


def kept(fields: list[str], every: int) -> bool:
    invoice, customer = fields[0], fields[6]
    number = int(float(customer)) if customer else int("".join(c for c in invoice if c.isdigit()))
    return number % every == 0


def cut(full: str, out: str, every: int) -> int:
    rows = 0
    with gzip.open(full, "rt", encoding="utf-8", newline="") as source, \
            gzip.GzipFile(out, "wb", mtime=0) as raw:  # mtime 0: the same sample, the same bytes
        header = source.readline()
        raw.write(header.encode())
        for line in source:
            if kept(next(csv.reader([line])), every):
                raw.write(line.encode())
                rows += 1
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full")
    parser.add_argument("out")
    parser.add_argument("--every", type=int, default=6)
    args = parser.parse_args()
    print(f"{cut(args.full, args.out, args.every):,} rows written to {args.out}")
