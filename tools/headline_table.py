#!/usr/bin/python3
"""The ratio tables of a tools/headline-bench.sh run: for each dataset, every (index, params,
threads) both sides measured, recall@10 of each and QPS ours / FAISS batched and one query per
call, each the median pass with the lowest-highest pass in brackets; the ratio is of the
medians, with the lowest ours / highest FAISS to highest ours / lowest FAISS in brackets; and
the ratio of queries per second of process CPU time (qps_cpu, qps_1q_cpu), which other work on
a shared machine disturbs much less than the wall clock.

    python3 tools/headline_table.py OUTDIR > OUTDIR/headline.md
"""
import glob
import json
import os
import sys


def rows(path):
    out = {}
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        if "kind" in r:
            continue
        out.setdefault((r["index"], r["params"], r["threads"]), []).append(r)
    return out


def k(v):
    return f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}"


def qps(r, key):
    lo, hi = r.get(key + "_min"), r.get(key + "_max")
    rng = f" ({k(lo)}-{k(hi)})" if lo is not None and hi is not None else ""
    return f"{k(r[key])}{rng}"


def ratio(a, b, key):
    mid = a[key] / b[key]
    lo = a.get(key + "_min", a[key]) / b.get(key + "_max", b[key])
    hi = a.get(key + "_max", a[key]) / b.get(key + "_min", b[key])
    return f"**{mid:.2f}x** ({lo:.2f}-{hi:.2f})"


def order(key):
    index, params, threads = key
    p = dict(x.split("=") for x in params.split(","))
    return (index.replace(",RFlat", "~"), threads, int(p["nprobe"]), int(p["rerank"]))


def main(out_dir):
    machine = [json.loads(l) for l in open(os.path.join(out_dir, "machine.jsonl"))] \
        if os.path.exists(os.path.join(out_dir, "machine.jsonl")) else []
    loads = [json.loads(l) for l in open(os.path.join(out_dir, "load.jsonl"))] \
        if os.path.exists(os.path.join(out_dir, "load.jsonl")) else []
    if machine:
        m = machine[-1]
        print(f"Run of {m['date']} on {m['cpu']} ({m['cores']} cores), commit {m['commit']}; "
              f"threads {m['threads']}, warm-up {m['warmup_s']} s, then the median of at least "
              f"{m['min_passes']} timed passes over at least {m['min_time_s']} s, per mode.\n")
    for ours_path in sorted(glob.glob(os.path.join(out_dir, "codebook-*.jsonl"))):
        dataset = os.path.basename(ours_path)[len("codebook-"):-len(".jsonl")]
        faiss_path = os.path.join(out_dir, f"faiss-{dataset}.jsonl")
        if not os.path.exists(faiss_path):
            continue
        ours, faiss = rows(ours_path), rows(faiss_path)
        some = next(iter(faiss.values()))[0]
        print(f"### {dataset} ({some['n']:,} x {some['d']}, {some['nq']:,} queries), "
              f"Codebook / {some['system']}\n")
        print("| spec | nprobe | rerank | threads | recall@10 ours / FAISS | batched QPS ours / FAISS "
              "| batched ratio | one query per call ours / FAISS | one per call ratio "
              "| CPU-time ratio batched / one per call |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for key in sorted(ours, key=order):
            if key not in faiss:
                continue
            p = dict(x.split("=") for x in key[1].split(","))
            for a, b in zip(ours[key], faiss[key]):
                one = (f"{qps(a, 'qps_1q')} / {qps(b, 'qps_1q')} | {ratio(a, b, 'qps_1q')}"
                       if a.get("qps_1q") and b.get("qps_1q") else "- | -")
                cpu = " / ".join(f"{a[f] / b[f]:.2f}x" if a.get(f) and b.get(f) else "-"
                                 for f in ("qps_cpu", "qps_1q_cpu"))
                print(f"| {key[0]} | {p['nprobe']} | {p['rerank']} | {key[2]} "
                      f"| {a['recall@10']:.4f} / {b['recall@10']:.4f} "
                      f"| {qps(a, 'qps')} / {qps(b, 'qps')} | {ratio(a, b, 'qps')} | {one} | {cpu} |")
        before = [l["load1"] for l in loads if l.get("dataset") == dataset and l["when"] == "before"]
        after = [l["load1"] for l in loads if l.get("dataset") == dataset and l["when"] == "after"]
        idle = [l["idle_share_during"] for l in loads
                if l.get("dataset") == dataset and "idle_share_during" in l]
        if before and after:
            print(f"\n1-minute load average before each side {min(before):.2f}-{max(before):.2f}, "
                  f"after it {min(after):.2f}-{max(after):.2f}"
                  + (f"; idle share of the CPU while a side ran {min(idle):.2f}-{max(idle):.2f} "
                     "(about 0.5 when nothing else runs)" if idle else "") + " (load.jsonl).")
        print()


if __name__ == "__main__":
    main(sys.argv[1])
