#!/usr/bin/python3
"""Runs FAISS on exactly the index specs Codebook's `bench` runs, from Python.

SUPERSEDED FOR TIMING by tools/faiss_bench/faiss_spec_bench.cpp (tools/headline-bench.sh), which
README's ratios come from: here every one-query call also pays a numpy slice and a SWIG call
(about 10-20 us of Python a query), so `qps_1q` understates FAISS. Kept for recall (seeds,
`tools/recall_by_seed.py`) and quick looks; its lines say "timing": "python".

../shared/peers/faiss_bench.py sweeps its own fixed families (nlist from n); this script takes
factory strings and search settings as `bench` does and prints the same JSON-lines schema,
timed by the same rules as `bench` (since 2026-12-07; before, the best of at most 5 batched
calls with no warm-up, and 0.5 s of one-query calls averaged): the first pass gives the
answers, untimed passes for --warmup s, then timed passes until --min-passes and --min-time;
the median pass with the lowest and highest.

    python3 tools/faiss_spec_bench.py DATA.hdf5 --spec IVF256,PQ48x4fs --nprobe 1,16,64 \
        --faiss-path /work/faiss-build/faiss-1.7.3-avx2 --threads 1 --out results.jsonl
"""
import ctypes
import argparse
import json
import os
import sys
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("hdf5")
ap.add_argument("--spec", action="append", required=True, help="FAISS factory string, repeatable")
ap.add_argument("--nprobe", default="1", help="comma-separated nprobe values")
ap.add_argument("--rerank", default="1", help="comma-separated k_factor values (RFlat)")
ap.add_argument("--k", type=int, default=10)
ap.add_argument("--queries", type=int, default=1000)
ap.add_argument("--threads", default="1")
ap.add_argument("--build-threads", type=int, default=2)
ap.add_argument("--max-train", type=int, default=100_000)
ap.add_argument("--seed", type=int, default=None,
                help="k-means seed of the coarse quantizer and the PQ (default: FAISS's, 1234)")
ap.add_argument("--min-time", type=float, default=1.0)
ap.add_argument("--warmup", type=float, default=1.0)
ap.add_argument("--min-passes", type=int, default=5)
ap.add_argument("--faiss-path")
ap.add_argument("--out")
args = ap.parse_args()
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
if args.faiss_path:
    sys.path.insert(0, os.path.abspath(args.faiss_path))
import faiss  # noqa: E402

try:
    openblas = ctypes.CDLL("libopenblas.so.0")  # the one FAISS is linked against
except OSError:
    openblas = None
import h5py  # noqa: E402

OPTS = faiss.get_compile_options()
BUILD = "avx512" if "AVX512" in OPTS else "avx2" if "AVX2" in OPTS else "generic"
SYSTEM = f"faiss-{faiss.__version__}-{BUILD}"
out = open(args.out, "a") if args.out else None


def log(*a):
    print(*a, file=sys.stderr, flush=True)


with h5py.File(args.hdf5, "r") as f:
    metric = f.attrs["distance"]
    metric = metric.decode() if isinstance(metric, bytes) else str(metric)
    xb = np.ascontiguousarray(f["train"][:], dtype=np.float32)
    nq = min(args.queries, len(f["test"])) if args.queries > 0 else len(f["test"])
    xq = np.ascontiguousarray(f["test"][:nq], dtype=np.float32)
    gt = f["neighbors"][:nq].astype(np.int64)
mt = faiss.METRIC_INNER_PRODUCT if metric == "angular" else faiss.METRIC_L2
if metric == "angular":
    faiss.normalize_L2(xb)
    faiss.normalize_L2(xq)
n, d = xb.shape
rng = np.random.default_rng(123)
xt = xb if n <= args.max_train else xb[np.sort(rng.choice(n, args.max_train, replace=False))]
k = args.k
dataset = os.path.splitext(os.path.basename(args.hdf5))[0]


def recalls(I):
    r1 = float((I[:, :1] == gt[:, :1]).any(1).mean())
    hit = (I[:, :k, None] == gt[:, None, :k]).any(2).sum(1)
    return r1, float(hit.mean() / k)


def set_threads(threads):
    """OpenMP and BLAS both: Debian's OpenBLAS runs its own pthreads, one per core, so a batched
    search's coarse sgemm would use every core while OpenMP is held to one thread."""
    faiss.omp_set_num_threads(threads)
    if openblas is not None:
        openblas.openblas_set_num_threads(threads)


def time_passes(run, nq):
    """bench's PassTimer rules: warm-up, then the median of the timed passes, lowest, highest."""
    w0 = time.perf_counter()
    while time.perf_counter() - w0 < args.warmup:
        run()
    qps, cpu0, start = [], time.process_time(), time.perf_counter()
    while len(qps) < args.min_passes or time.perf_counter() - start < args.min_time:
        t0 = time.perf_counter()
        run()
        qps.append(nq / (time.perf_counter() - t0))
    cpu = len(qps) * nq / (time.process_time() - cpu0)
    s = sorted(qps)
    m = len(s)
    median = s[m // 2] if m % 2 else (s[m // 2 - 1] + s[m // 2]) / 2
    return median, s[0], s[-1], m, cpu


def timed(index, threads):
    set_threads(threads)
    D, I = index.search(xq, k)
    return I, time_passes(lambda: index.search(xq, k), len(xq))


def per_query(index):
    set_threads(1)

    def run():
        for i in range(len(xq)):
            index.search(xq[i:i + 1], k)
    run()
    return time_passes(run, len(xq))


def seed_kmeans(index, seed):
    """Sets the seed of every k-means the index will run: its IVF's and its PQ's."""
    inner = index
    while True:
        try:
            inner = faiss.downcast_index(inner.base_index)  # RFlat
            continue
        except AttributeError:
            pass
        try:
            inner = faiss.downcast_index(inner.index)  # OPQ pre-transform chain
            continue
        except AttributeError:
            break
    if hasattr(inner, "cp"):
        inner.cp.seed = seed
    if hasattr(inner, "pq"):
        inner.pq.cp.seed = seed + 1


for spec in args.spec:
    set_threads(args.build_threads)
    index = faiss.index_factory(d, spec, mt)
    if args.seed is not None:
        seed_kmeans(index, args.seed)
    log(f"{spec}: training on {len(xt)} rows")
    t0 = time.perf_counter()
    index.train(xt)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(xb)
    add_s = time.perf_counter() - t0
    size = int(faiss.serialize_index(index).size)
    refine = spec.endswith(",RFlat")
    ivf = None
    try:
        # extract_index_ivf does not look inside IndexRefineFlat in 1.7.3: unwrap it first.
        base = faiss.downcast_index(faiss.downcast_index(index).base_index) if refine else index
        ivf = faiss.extract_index_ivf(base)
    except Exception:
        pass
    for p in [int(x) for x in args.nprobe.split(",")] if ivf is not None else [1]:
        if ivf is not None:
            if p > ivf.nlist:
                continue
            ivf.nprobe = p
        for kf in [int(x) for x in args.rerank.split(",")] if refine else [1]:
            if refine:
                faiss.downcast_index(index).k_factor = kf
            q1 = per_query(index)
            for threads in [int(t) for t in args.threads.split(",")]:
                I, (qps, qmin, qmax, passes, qcpu) = timed(index, threads)
                r1, r10 = recalls(I)
                rec = {"system": SYSTEM, "index": spec, "params": f"nprobe={p},rerank={kf}",
                       "bytes_per_vector": round(size / n, 2), "train_s": round(train_s, 3),
                       "add_s": round(add_s, 3), "recall@1": r1, f"recall@{k}": r10,
                       "qps": round(qps, 1), "threads": threads, "qps_1q": round(q1[0], 1),
                       "qps_min": round(qmin, 1), "qps_max": round(qmax, 1), "passes": passes,
                       "qps_cpu": round(qcpu, 1), "qps_1q_cpu": round(q1[4], 1),
                       "qps_1q_min": round(q1[1], 1), "qps_1q_max": round(q1[2], 1),
                       "passes_1q": q1[3], "warmup_s": args.warmup, "min_time_s": args.min_time,
                       "min_passes": args.min_passes, "timing": "python",
                       "seed": 1234 if args.seed is None else args.seed,
                       "dataset": dataset, "n": n, "d": d, "nq": len(xq), "k": k}
                line = json.dumps(rec)
                print(line, flush=True)
                if out:
                    out.write(line + "\n")
                    out.flush()
