#!/usr/bin/python3
"""Side-by-side table of two bench JSON-lines files (ours, a peer's) on matching index, params
and threads: recall@10 of each and the QPS ratios, batched and one query per call."""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if "kind" in r:  # machine, load: not results
                continue
            params = r["params"] if isinstance(r["params"], str) else ",".join(
                f"{k}={v}" for k, v in r["params"].items())
            rows[(r["index"], params, r["threads"])] = r
    return rows


ours, peer = load(sys.argv[1]), load(sys.argv[2])
print("| index | params | threads | recall@10 ours / peer | QPS ours / peer | ratio | 1q QPS ours / peer | 1q ratio | train s ours / peer |")
print("|---|---|---|---|---|---|---|---|---|")
for key in sorted(ours, key=lambda k: (k[0], k[2], k[1])):
    if key not in peer:
        continue
    a, b = ours[key], peer[key]
    q1a, q1b = a.get("qps_1q"), b.get("qps_1q")
    print(f"| {key[0]} | {key[1]} | {key[2]} | {a['recall@10']:.4f} / {b['recall@10']:.4f} "
          f"| {a['qps']:,.0f} / {b['qps']:,.0f} | {a['qps'] / b['qps']:.2f}x "
          f"| {q1a or 0:,.0f} / {q1b or 0:,.0f} | {(q1a / q1b) if q1a and q1b else 0:.2f}x "
          f"| {a['train_s']:.1f} / {b['train_s']:.1f} |")
