#!/usr/bin/python3
"""Cut the bundled demo sample from ../shared/data/debian-minilm-384-angular.hdf5.

Keeps 5,000 documents (the own packages of 200 test queries plus a seeded random draw,
in corpus order) and those 200 queries, recomputes the exact top-100 over the subset in
float64 (ties by lower row id, like the source), and writes the texts beside it.

    /usr/bin/python3 tools/make_sample.py ../shared/data samples
"""
import gzip
import sys

import h5py
import numpy as np

N_DOCS, N_QUERIES, K = 5000, 200, 100


def lines(path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


def main(src, out):
    name = "debian-minilm-384-angular"
    with h5py.File(f"{src}/{name}.hdf5", "r") as f:
        train, test = f["train"][:], f["test"][:]
        attrs = dict(f.attrs)
    qrels = np.loadtxt(f"{src}/{name}.qrels.tsv", dtype=np.int64, delimiter="\t")
    qrel_of = dict(qrels.tolist())
    rng = np.random.default_rng(7)
    queries = np.sort(rng.choice(len(test), N_QUERIES, replace=False))
    own = {qrel_of[int(q)] for q in queries}
    rest = np.setdiff1d(np.arange(len(train)), np.fromiter(own, dtype=np.int64))
    extra = rng.choice(rest, N_DOCS - len(own), replace=False)
    rows = np.sort(np.concatenate([np.fromiter(own, dtype=np.int64), extra]))
    new_id = {int(r): i for i, r in enumerate(rows)}

    base, qs = train[rows], test[queries]
    sims = qs.astype(np.float64) @ base.astype(np.float64).T
    order = np.lexsort((np.broadcast_to(np.arange(len(rows)), sims.shape), -sims), axis=1)[:, :K]
    neighbors = order.astype(np.int32)
    distances = (1.0 - np.take_along_axis(sims, order, axis=1)).astype(np.float32)

    stem = f"{out}/debian-minilm-5k"
    with h5py.File(f"{stem}.hdf5", "w") as g:
        g.create_dataset("train", data=base.astype("<f4"))
        g.create_dataset("test", data=qs.astype("<f4"))
        g.create_dataset("neighbors", data=neighbors)
        g.create_dataset("distances", data=distances)
        for k, v in attrs.items():
            g.attrs[k] = v
        g.attrs["corpus"] = str(attrs.get("corpus", "")) + f" (Codebook sample: {N_DOCS} documents, {N_QUERIES} queries)"
    docs, names, synopses = (lines(f"{src}/debian.{w}.txt.gz") for w in ("docs", "names", "queries"))
    for what, src_lines in (("docs", docs), ("names", names)):
        with gzip.open(f"{stem}.{what}.txt.gz", "wt", encoding="utf-8", compresslevel=9) as f:
            f.writelines(src_lines[r] + "\n" for r in rows)
    with gzip.open(f"{stem}.queries.txt.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.writelines(synopses[qrel_of[int(q)]] + "\n" for q in queries)
    with open(f"{stem}.qrels.tsv", "w") as f:
        f.writelines(f"{j}\t{new_id[qrel_of[int(q)]]}\n" for j, q in enumerate(queries))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
