#!/usr/bin/env python3
"""Where a kernel's warps stall, from Nsight Compute's SASS source page exported as CSV
(`ncu --import R.ncu-rep --page source --csv --print-source sass`): the stall reasons' shares of all
warp-stall samples, then the SASS lines with the most samples and each line's main reason.

Usage: scripts/ncu_stalls.py sass.csv [lines]
"""
import csv
import sys


def main():
    rows = list(csv.reader(open(sys.argv[1])))
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    head, data = rows[1], rows[2:]
    total_i, src_i = head.index("Warp Stall Sampling (All Samples)"), head.index("Source")
    stalls = [i for i, h in enumerate(head) if h.startswith("stall_") and "Not Issued" not in h]

    def num(r, i):
        return float(r[i].replace(",", "") or 0) if r[i] else 0.0

    total = sum(num(r, total_i) for r in data) or 1.0
    by_reason = {head[i]: sum(num(r, i) for r in data) for i in stalls}
    print("stalls:", ", ".join(f"{k} {100 * v / total:.1f}%" for k, v in sorted(by_reason.items(), key=lambda x: -x[1])[:8]))
    for r in sorted(data, key=lambda r: -num(r, total_i))[:lines]:
        reason = head[max(stalls, key=lambda i: num(r, i))]
        print(f"{100 * num(r, total_i) / total:5.1f}%  {reason:24s} {r[src_i][:80]}")


if __name__ == "__main__":
    main()
