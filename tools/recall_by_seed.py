#!/usr/bin/env python3
"""Mean and range of recall@10 over training seeds, ours against FAISS, per spec and nprobe.

  tools/recall_by_seed.py OURS.jsonl FAISS.jsonl

Both files hold `bench` / `faiss_spec_bench.py --seed S` lines of several seeds. At low nprobe a
single seed's recall moves by about +-0.01 with the clustering, so "within 0.01 of FAISS" is
judged on the means over seeds. Prints a markdown table.
"""
import collections
import json
import sys


def load(path):
    out = collections.defaultdict(list)
    for line in open(path):
        d = json.loads(line)
        if "recall@10" not in d or d.get("threads", 1) != 1:
            continue
        nprobe = d["params"].split(",")[0]
        out[(d["index"], nprobe)].append(d["recall@10"])
    return out


ours, faiss = load(sys.argv[1]), load(sys.argv[2])
print("| spec | nprobe | seeds ours / FAISS | recall@10 ours: mean (range) | FAISS: mean (range) | difference of means |")
print("|---|---|---|---|---|---|")
for key in sorted(ours, key=lambda k: (k[0], int(k[1].split("=")[1]))):
    if key not in faiss:
        continue
    a, b = ours[key], faiss[key]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    print(f"| {key[0]} | {key[1].split('=')[1]} | {len(a)} / {len(b)} | {ma:.4f} ({min(a):.4f}-{max(a):.4f}) "
          f"| {mb:.4f} ({min(b):.4f}-{max(b):.4f}) | {ma - mb:+.4f} |")
