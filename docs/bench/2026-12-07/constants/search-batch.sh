#!/usr/bin/env bash
# DEFAULT_SEARCH_BATCH re-check: the same data dir served with --search-batch 1/8/16/32, one
# query per call, closed loop at 1/4/16 callers and open loop at a fixed rate. Usage:
#   search-batch.sh NAME FILE.hdf5 SPEC SEARCH RATE
set -u
NAME=$1 FILE=$2 SPEC=$3 SEARCH=$4 RATE=$5
OUT=search-batch-$NAME.jsonl
D=/tmp/sb-$NAME; PORT=7461
CB=bin/codebook
start() {
  $CB serve --port $PORT --data-dir $D --no-sample --search-batch $1 > /tmp/sb-serve.log 2>&1 &
  SPID=$!
  for i in $(seq 1 240); do grep -q "codebook: ready" /tmp/sb-serve.log && break; sleep 1; done
}
stop() { kill $SPID; wait $SPID 2>/dev/null; }
L() { $CB loadtest --target 127.0.0.1:$PORT --data $FILE --collection $NAME --search $SEARCH \
  --server-pid $SPID --json "$@"; }
if [ ! -d $D ]; then
  mkdir -p $D; start 16
  L --load --index $SPEC --concurrency 1 --duration 2 --jit-warmup 0 > /dev/null
  stop
fi
for sb in 16 1 8 32; do
  start $sb
  echo "search-batch $sb $(date -u +%T)" >&2
  L --concurrency 1,4,16 --duration 10 | sed "s/^{/{\"search_batch\":$sb,/" >> $OUT
  L --rate $RATE --duration 15 --jit-warmup 0 | sed "s/^{/{\"search_batch\":$sb,/" >> $OUT
  stop
done
