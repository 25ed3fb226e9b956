#!/usr/bin/env bash
# The README's FAISS comparison in one command: Codebook's `bench` and FAISS 1.7.3 (AVX2 build,
# timed from C++ by tools/faiss_bench) on the headline IVF-PQ specs, the two sides of each spec
# back to back, both timed the same way (--warmup s of untimed passes, then the median of at
# least --min-passes timed passes over at least --min-time s, with the lowest and highest),
# on each dataset given. Writes OUTDIR/{codebook,faiss}-DATASET.jsonl, OUTDIR/load.jsonl (the
# machine's load before and after each side), OUTDIR/headline.md (ratio tables) and
# OUTDIR/ratios.svg (the ratios as bars).
#
#   tools/headline-bench.sh OUTDIR [DATA.hdf5 ...]     # default: the two Debian sets, ~15 min
#
# Needs the FAISS build tree of ../shared/peers/build_faiss_avx2.sh (SRC_DIR, default
# /work/faiss-build/src) and builds tools/faiss_bench/faiss_spec_bench from it when missing.
# Before each side it waits (up to WAIT_S seconds, default 300) for the 1-minute load average
# to fall below MAX_LOAD (default 1.5 on 2 cores), then goes on and records the load anyway,
# and after each side the share of the machine's CPU time that was idle while it ran (one
# busy thread of 2 cores on an otherwise quiet machine: about 0.5).
# THREADS (default 1), WARMUP (1), MIN_TIME (1), MIN_PASSES (5), REPEAT (1: runs of each spec).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: tools/headline-bench.sh OUTDIR [DATA.hdf5 ...]}"
shift
if (($#)); then
  DATASETS=("$@")
else
  DATASETS=("$ROOT/../shared/data/debian-minilm-384-angular.hdf5"
            "$ROOT/../shared/data/debian-e5-384-angular.hdf5")
fi
THREADS="${THREADS:-1}" WARMUP="${WARMUP:-1}" MIN_TIME="${MIN_TIME:-1}" MIN_PASSES="${MIN_PASSES:-5}"
REPEAT="${REPEAT:-1}" MAX_LOAD="${MAX_LOAD:-1.5}" WAIT_S="${WAIT_S:-300}"
FAISS_BIN="$ROOT/tools/faiss_bench/faiss_spec_bench"
export OMP_WAIT_POLICY=PASSIVE  # as tools/faiss_spec_bench.py ran FAISS

# spec | nprobe values | rerank factors: the rows README quotes
SPECS=(
  "IVF256,PQ32|1,4,16,64|1"
  "IVF256,PQ48x4fs|1,4,16,64|1"
  "IVF256,PQ32,RFlat|1,4,16|4"
  "IVF256,PQ48x4fs,RFlat|1,4,16|4"
)

mkdir -p "$OUT"
[ -x "$FAISS_BIN" ] || "$ROOT/tools/faiss_bench/build.sh"
"$ROOT/bin/codebook" info >/dev/null  # build once, up front

load1() { cut -d' ' -f1 /proc/loadavg; }
cpu_now() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat; }  # total idle(+iowait)
CPU0=""
note_load() { # when side spec dataset; "after" adds the machine's idle share while the side ran
  local extra="" now
  now="$(cpu_now)"
  if [ "$1" = after ] && [ -n "$CPU0" ]; then
    extra=$(awk -v a="$CPU0" -v b="$now" 'BEGIN{split(a,x," ");split(b,y," ");
      printf ",\"idle_share_during\":%.3f", (y[2]-x[2])/(y[1]-x[1])}')
  fi
  CPU0="$now"
  printf '{"kind":"load","when":"%s","side":"%s","index":"%s","dataset":"%s","time":"%s","load1":%s,"loadavg":"%s"%s}\n' \
    "$1" "$2" "$3" "$4" "$(date -u +%FT%TZ)" "$(load1)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$extra" >> "$OUT/load.jsonl"
}
keep() { # side dataset: a side's lines less its repeated first setting (one per thread count)
  local n
  n=$(tr ',' '\n' <<<"$THREADS" | wc -l)
  head -n "$n" "$OUT/.side.jsonl" >> "$OUT/warmup-$1-$2.jsonl"
  tail -n +"$((n + 1))" "$OUT/.side.jsonl" >> "$OUT/$1-$2.jsonl"
  rm -f "$OUT/.side.jsonl"
}
wait_quiet() {
  local waited=0
  while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN{exit !(l >= m)}' && ((waited < WAIT_S)); do
    if ((waited == 0)); then echo "   load $(load1) >= $MAX_LOAD: waiting up to ${WAIT_S}s" >&2; fi
    sleep 10
    waited=$((waited + 10))
  done
}

/usr/bin/python3 - "$OUT/machine.jsonl" "$(git -C "$ROOT" rev-parse --short HEAD)" "$THREADS" \
    "$WARMUP" "$MIN_TIME" "$MIN_PASSES" <<'PY'
import datetime, json, os, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
rec = {"kind": "machine", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
       "cpu": cpu, "cores": os.cpu_count(), "commit": sys.argv[2], "threads": sys.argv[3],
       "warmup_s": float(sys.argv[4]), "min_time_s": float(sys.argv[5]), "min_passes": int(sys.argv[6])}
open(sys.argv[1], "a").write(json.dumps(rec) + "\n")
PY

for data in "${DATASETS[@]}"; do
  name="$(basename "$data" .hdf5)"
  for ((rep = 1; rep <= REPEAT; rep++)); do
    for row in "${SPECS[@]}"; do
      IFS='|' read -r spec nprobe rerank <<<"$row"
      echo "== $name $spec (run $rep)" >&2
      # Both sides measure the spec's first setting twice and keep the second: the JVM's first
      # setting of an index runs partly on code the JIT has not finished (2x slower passes at
      # 1 s and even 5 s of warm-up on 2 cores). The first lines go to warmup-*.jsonl.
      sweep="${nprobe%%,*},$nprobe"
      wait_quiet; note_load before codebook "$spec" "$name"
      CODEBOOK_SKIP_BUILD=1 "$ROOT/bin/codebook" bench --data "$data" --index "$spec" \
        --nprobe "$sweep" --rerank "$rerank" --threads "$THREADS" --warmup "$WARMUP" \
        --min-time "$MIN_TIME" --min-passes "$MIN_PASSES" --build-threads 2 \
        --out "$OUT/.side.jsonl" >/dev/null
      keep codebook "$name"
      note_load after codebook "$spec" "$name"
      wait_quiet; note_load before faiss "$spec" "$name"
      "$FAISS_BIN" "$data" --spec "$spec" --nprobe "$sweep" --rerank "$rerank" \
        --threads "$THREADS" --warmup "$WARMUP" --min-time "$MIN_TIME" --min-passes "$MIN_PASSES" \
        --build-threads 2 --out "$OUT/.side.jsonl" >/dev/null
      keep faiss "$name"
      note_load after faiss "$spec" "$name"
    done
  done
done
/usr/bin/python3 "$ROOT/tools/headline_table.py" "$OUT" | tee "$OUT/headline.md"
/usr/bin/python3 "$ROOT/tools/headline_chart.py" "$OUT" > "$OUT/ratios.svg"
