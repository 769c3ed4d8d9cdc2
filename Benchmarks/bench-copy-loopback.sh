#!/usr/bin/env bash
# Builds copybridge (release) and measures tick-to-copy on the wire: the whole agent against a
# simulated broker over loopback TCP, captured by tcpdump with kernel timestamps, for 1 and 50
# followers, with a raw SwiftNIO echo captured in the same run as the baseline (once back to back,
# once with requests spaced as the signals are). One JSON line per follower count; extra arguments go to `copybridge bench loopback` (see its --help).
#
#   Benchmarks/bench-copy-loopback.sh [--signals N] [--followers N ...] [--no-ledger] \
#       [--cpu-idle-latency-us none --cpu-idle-latency-us 0] [--loop-cpu none --loop-cpu 1] \
#       [--loop-realtime-priority none --loop-realtime-priority 10] ...
#
# Needs tcpdump (Debian: tcpdump, installed here when missing) and the right to capture on lo (root
# or CAP_NET_RAW).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tcpdump >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump >/dev/null
fi

swift build -c release --product copybridge --scratch-path .build-release >&2
.build-release/release/copybridge bench loopback "$@"
