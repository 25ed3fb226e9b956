#!/usr/bin/env bash
# The same as search-batch.sh, for given batch values only, on an existing data dir.
set -u
NAME=$1 FILE=$2 SEARCH=$3 RATE=$4; shift 4
OUT=search-batch-$NAME.jsonl
D=/tmp/sb-$NAME; PORT=7461
CB=bin/codebook
for sb in "$@"; do
  $CB serve --port $PORT --data-dir $D --no-sample --search-batch $sb > /tmp/sb-serve.log 2>&1 &
  SPID=$!
  for i in $(seq 1 240); do grep -q "codebook: ready" /tmp/sb-serve.log && break; sleep 1; done
  echo "search-batch $sb (repeat) $(date -u +%T)" >&2
  L() { $CB loadtest --target 127.0.0.1:$PORT --data $FILE --collection $NAME --search $SEARCH \
    --server-pid $SPID --json "$@"; }
  L --concurrency 1,4,16 --duration 10 | sed "s/^{/{\"search_batch\":$sb,\"repeat\":true,/" >> $OUT
  L --rate $RATE --duration 15 --jit-warmup 0 | sed "s/^{/{\"search_batch\":$sb,\"repeat\":true,/" >> $OUT
  kill $SPID; wait $SPID 2>/dev/null
done
