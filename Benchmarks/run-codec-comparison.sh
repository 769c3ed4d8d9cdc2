#!/usr/bin/env bash
# Builds the CopyBridge codec benchmark (release) and the QuickFIX C++ harness, runs both on the
# same corpus and dictionary, and prints both JSON lines and the ratios (QuickFIX time divided by
# CopyBridge time: above 1 means CopyBridge is faster).
#
#   Benchmarks/run-codec-comparison.sh [ITERATIONS]
#
# Needs Swift and QuickFIX C++ (Debian: libquickfix-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

iterations="${1:-20000}"
corpus=Benchmarks/corpus/fix44-broker.txt
dictionary=Specs/FIX44.xml

swift build -c release --product copybridge --scratch-path .build-release >&2
g++ -O2 -std=c++11 -Wno-deprecated Benchmarks/quickfix-harness/qf-bench.cpp \
    -o Benchmarks/quickfix-harness/qf-bench -lquickfix -lpthread >&2

swift_line=$(.build-release/release/copybridge bench codec --messages "$corpus" --dictionary "$dictionary" \
    --iterations "$iterations")
quickfix_line=$(Benchmarks/quickfix-harness/qf-bench --messages "$corpus" --dictionary "$dictionary" \
    --iterations "$iterations")

echo "copybridge: $swift_line"
echo "quickfix:   $quickfix_line"

value() { sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<<"$1"; }
for key in parse_ns parse_validate_ns encode_nos_ns; do
    ours=$(value "$swift_line" "$key")
    theirs=$(value "$quickfix_line" "$key")
    awk -v k="$key" -v a="$ours" -v b="$theirs" \
        'BEGIN { printf "%-18s copybridge %8.1f ns  quickfix %8.1f ns  ratio %5.1fx\n", k, a, b, b / a }'
done
