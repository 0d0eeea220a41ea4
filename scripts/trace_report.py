#!/usr/bin/env python3
"""Where the time of engine steps goes, from a kernel trace (tools/kernel_trace.cc's CSV).

A step starts with the embedding kernel. For the graph-replayed steps (decode) after the first
--skip ones, medians per step of: span (first kernel's start to last kernel's end), the kernels'
summed durations, the time the GPU ran at least one kernel (busy), idle time inside the step, and
the gap to the next step (the host's turn: sampled tokens back, scheduling, staging, the launch).
Then per kernel (and per memset captured in the graph, e.g. a library zeroing its workspace): mean
duration and mean distance from the previous record's end to its start (negative: it started before
its predecessor ended, as programmatic dependent launch allows). Eager steps are summed apart.

Usage: scripts/trace_report.py trace.csv [--skip N]
"""
import argparse
import collections
import csv
import statistics


def steps_of(records):
    """Kernel records split at each embedding launch; memcpys/memsets go with the step they fall in."""
    steps, current = [], []
    for r in records:
        if r["what"] == "kernel" and "embedding_kernel" in r["name"] and current:
            steps.append(current)
            current = []
        current.append(r)
    if current:
        steps.append(current)
    return steps


def busy_ns(records):
    total, end = 0, None
    for r in sorted(records, key=lambda r: r["start"]):
        if end is None or r["start"] >= end:
            total += r["end"] - r["start"]
            end = r["end"]
        elif r["end"] > end:
            total += r["end"] - end
            end = r["end"]
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--skip", type=int, default=10, help="graph steps to skip at the start (warm-up)")
    a = ap.parse_args()
    records = []
    with open(a.trace) as f:
        for r in csv.DictReader(f):
            r["start"], r["end"] = int(r["start_ns"]), int(r["end_ns"])
            r["graph"] = int(r["graph"])
            records.append(r)
    records.sort(key=lambda r: r["start"])
    steps = steps_of(records)
    # A graph step is one whose kernels all came from a graph.
    graph_steps = [i for i, s in enumerate(steps) if all(r["graph"] for r in s if r["what"] == "kernel")]
    graph_set = set(graph_steps)
    eager = [s for i, s in enumerate(steps) if i not in graph_set]
    chosen = graph_steps[a.skip:-1]  # the last one has no following step to measure the gap to
    if not chosen:
        print(f"trace_report: {len(steps)} steps, {len(graph_steps)} graph-replayed: too few to report")
        return
    rows = collections.defaultdict(list)
    gaps = collections.defaultdict(list)  # times after a step's last kernel ends (us), and a count
    per_kernel = collections.defaultdict(lambda: [0, 0.0, 0.0])  # launches, duration sum, lead sum (ns)
    for i in chosen:
        s = [r for r in steps[i] if r["what"] == "kernel"]
        span = max(r["end"] for r in s) - s[0]["start"]
        rows["span"].append(span)
        rows["kernel sum"].append(sum(r["end"] - r["start"] for r in s))
        busy = busy_ns(s)
        rows["busy"].append(busy)
        rows["idle inside"].append(span - busy)
        last_end = max(r["end"] for r in s)
        rows["gap to next step"].append(steps[i + 1][0]["start"] - last_end)
        # The gap's parts: the copies back (device to host) of this step, the staging copies (host to
        # device) of the next one, then the next graph's first kernel; copyKind 1 is HtoD, 2 DtoH.
        between = [r for r in steps[i] if r["what"] == "memcpy" and not r["graph"] and r["start"] >= last_end]
        back = [r["end"] for r in between if r["name"] == "kind2"]
        staging = [r for r in between if r["name"] == "kind1"]
        if back and staging:
            gaps["copies back done"].append(max(back) - last_end)
            gaps["first staging copy"].append(staging[0]["start"] - last_end)
            gaps["last staging copy done"].append(staging[-1]["end"] - last_end)
            gaps["next step's first kernel"].append(steps[i + 1][0]["start"] - last_end)
            gaps["staging copies"].append(len(staging))
        rows["launches"].append(len(s))
        prev_end = None
        # The graph's own records in order: its kernels and the memsets/copies captured with them.
        for r in (r for r in steps[i] if r["graph"]):
            name = r["name"] if r["what"] == "kernel" else f'{r["what"]} of {r["grid_or_bytes"]} B'
            k = per_kernel[(name, r["grid_or_bytes"] if r["what"] == "kernel" else "")]
            k[0] += 1
            k[1] += r["end"] - r["start"]
            if prev_end is not None:
                k[2] += r["start"] - prev_end
            prev_end = r["end"]
        others = [r for r in steps[i] if r["what"] != "kernel"]
        rows["copies/memsets"].append(len(others))
    n = len(chosen)
    print(f"{len(steps)} steps ({len(graph_steps)} graph-replayed, {len(eager)} eager); "
          f"medians over graph steps {a.skip}..{a.skip + n - 1}, us:")
    for name, values in rows.items():
        scale = 1 if name in ("launches", "copies/memsets") else 1e-3
        print(f"  {name:18s} {statistics.median(values) * scale:10.1f}")
    step_total = statistics.median(rows["span"]) + statistics.median(rows["gap to next step"])
    print(f"  step (span + gap)  {step_total * 1e-3:10.1f}")
    if gaps:
        print("between steps, medians from the last kernel's end, us:")
        for name, values in gaps.items():
            scale = 1 if name == "staging copies" else 1e-3
            print(f"  {name:24s} {statistics.median(values) * scale:10.1f}")
    eager_ns = sum(max(r["end"] for r in s) - s[0]["start"] for s in eager)
    print(f"eager steps: {len(eager)}, {eager_ns * 1e-6:.2f} ms of span in all")
    print("per kernel (and memset) of the graph steps: launches per step, mean us, mean us from the previous "
          "record's end to its start, grid")
    for (name, grid), (count, dur, lead) in sorted(per_kernel.items(), key=lambda kv: -kv[1][1]):
        print(f"  {count / n:6.1f}x {dur / count * 1e-3:8.2f} {lead / count * 1e-3:+8.2f} {grid:>6}  {name[:96]}")


if __name__ == "__main__":
    main()
