#!/usr/bin/env bash
# Compiles faiss_spec_bench.cpp against the FAISS 1.7.3 AVX2 build tree that
# ../shared/peers/build_faiss_avx2.sh leaves (its static libfaiss_avx2.a and the source headers).
#
#   SRC_DIR=/work/faiss-build/src DEST=/work/faiss-build/faiss-1.7.3-avx2 ../shared/peers/build_faiss_avx2.sh
#   tools/faiss_bench/build.sh            # -> tools/faiss_bench/faiss_spec_bench
#
# FAISS_SRC is the unpacked source (default $SRC_DIR/faiss-1.7.3, SRC_DIR as given to the peers
# script, default /work/faiss-build/src). Installs libhdf5-dev and g++ with apt-get when missing
# (root), and builds the faiss_avx2 library target when the peers script left only the Python one.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="${SRC_DIR:-/work/faiss-build/src}"
FAISS_SRC="${FAISS_SRC:-$SRC_DIR/faiss-1.7.3}"
BUILD="$FAISS_SRC/build-avx2"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  echo "no FAISS build tree at $BUILD: run ../shared/peers/build_faiss_avx2.sh first (SRC_DIR=...)" >&2
  exit 1
fi
need=()
for p in g++ libhdf5-dev libopenblas-dev liblapack-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  echo "installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
fi
lib=$(find "$BUILD/faiss" -maxdepth 1 -name 'libfaiss_avx2.a' -o -maxdepth 1 -name 'libfaiss_avx2.so' | head -1)
if [ -z "$lib" ]; then
  make -C "$BUILD" -j"$(nproc)" faiss_avx2 >&2
  lib=$(find "$BUILD/faiss" -maxdepth 1 -name 'libfaiss_avx2.a' -o -maxdepth 1 -name 'libfaiss_avx2.so' | head -1)
fi
# The same instruction set as the library (FAISS's own flags for its avx2 target); the headers
# choose their SIMD code paths from these macros.
g++ -O3 -std=c++17 -mavx2 -mfma -mf16c -mpopcnt -fopenmp \
  -I"$FAISS_SRC" -I/usr/include/hdf5/serial \
  "$HERE/faiss_spec_bench.cpp" -o "$HERE/faiss_spec_bench" \
  "$lib" -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lopenblas -llapack -lpthread
echo "built $HERE/faiss_spec_bench against $lib" >&2
