#!/usr/bin/env bash
# The IVF-PQ comparison of issue 3: Codebook's bench and FAISS (AVX2 build) on the same specs,
# nprobe values and thread counts, written to one JSON-lines file per system, then a table of
# ratios (tools/compare_bench.py). Long (about 20 minutes): run on an idle machine.
# Superseded for the README's ratios by tools/headline-bench.sh, which times FAISS from C++
# (tools/faiss_bench): here FAISS's one-query calls are timed through Python (issue 23).
#
#   tools/issue3-bench.sh OUTDIR [real|scale|all]
#
# FAISS_PATH (default /work/faiss-build/faiss-1.7.3-avx2) is the AVX2 build from
# ../shared/peers/build_faiss_avx2.sh; SCALE_DATA the 1M set from
# ../shared/peers/make_synth.py --n 1000000 --d 384 --queries 1000 --metric angular.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: tools/issue3-bench.sh OUTDIR [real|scale|all]}"
WHAT="${2:-all}"
FAISS_PATH="${FAISS_PATH:-/work/faiss-build/faiss-1.7.3-avx2}"
REAL="${REAL_DATA:-$ROOT/../shared/data/debian-minilm-384-angular.hdf5}"
SCALE="${SCALE_DATA:-/work/data/synth-1m-384-angular.hdf5}"
mkdir -p "$OUT"
"$ROOT/bin/codebook" info >/dev/null  # build once, up front

run() { # data spec nprobes reranks tag
  local data="$1" spec="$2" nprobe="$3" rerank="$4" tag="$5"
  echo "== $tag $spec" >&2
  CODEBOOK_SKIP_BUILD=1 "$ROOT/bin/codebook" bench --data "$data" --index "$spec" \
    --nprobe "$nprobe" --rerank "$rerank" --threads 1,2 --min-time 1 \
    --out "$OUT/codebook-$tag.jsonl" >/dev/null
  /usr/bin/python3 "$ROOT/tools/faiss_spec_bench.py" "$data" --spec "$spec" --nprobe "$nprobe" \
    --rerank "$rerank" --threads 1,2 --faiss-path "$FAISS_PATH" --out "$OUT/faiss-$tag.jsonl" >/dev/null
}

if [ "$WHAT" = real ] || [ "$WHAT" = all ]; then
  for spec in PQ32 IVF256,PQ32 IVF256,PQ48x4fs OPQ32,IVF256,PQ32; do
    run "$REAL" "$spec" 1,4,16,64,128 1 real
    run "$REAL" "$spec,RFlat" 1,4,16,64,128 4 real
  done
fi
if [ "$WHAT" = scale ] || [ "$WHAT" = all ]; then
  for spec in IVF4096,PQ32 IVF4096,PQ48x4fs; do
    run "$SCALE" "$spec" 16,64 1 scale
  done
fi
for tag in real scale; do
  if [ -f "$OUT/codebook-$tag.jsonl" ]; then
    /usr/bin/python3 "$ROOT/tools/compare_bench.py" "$OUT/codebook-$tag.jsonl" "$OUT/faiss-$tag.jsonl" \
      | tee "$OUT/compare-$tag.md"
  fi
done
