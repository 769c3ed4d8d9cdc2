#!/usr/bin/env bash
# Compares two copybridge binaries on `bench copy`, side by side: each round runs both at the same
# time, one pinned to each of the first two CPUs, and swaps the CPUs the next round. On a shared
# host whose speed changes from minute to minute, runs one after the other differ by more than
# most changes do; runs at the same time share the host's slow and fast periods, so each pair
# compares like with like. One line per binary per round: percentiles of the last order's time
# (from --samples-csv, in µs) and the engine's time per broker report (report_ns p50, in ns).
#
#   Benchmarks/compare-copy.sh BEFORE AFTER [ROUNDS] [FOLLOWERS] [ITERATIONS]
#
# BEFORE and AFTER are copybridge binaries (for example a release build copied aside before a
# change, and .build-release/release/copybridge after it). Defaults: 4 rounds, 1000 followers,
# 800 iterations. Needs taskset (util-linux) and python3.
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
before=$1
after=$2
rounds=${3:-4}
followers=${4:-1000}
iterations=${5:-800}
for binary in "$before" "$after"; do
    [ -x "$binary" ] || { echo "compare-copy: $binary is not an executable" >&2; exit 2; }
done
if [ "$(nproc)" -lt 2 ]; then
    echo "compare-copy: needs two CPUs, this machine has $(nproc)" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

summary() { # csv json label cpu
    python3 - "$@" <<'PY'
import csv, json, sys
rows = [int(r["last_ns"]) for r in csv.DictReader(open(sys.argv[1]))]
rows.sort()
at = lambda p: rows[min(len(rows) - 1, int(len(rows) * p))] / 1e3
report = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1]).get("report_ns", {}).get("p50", "-")
print("%-28s cpu%s  last p10 %9.1f  p25 %9.1f  p50 %9.1f  p99 %9.1f  report p50 %s"
      % (sys.argv[3][-28:], sys.argv[4], at(.10), at(.25), at(.50), at(.99), report))
PY
}

for round in $(seq "$rounds"); do
    if [ $((round % 2)) = 1 ]; then cpu_before=0 cpu_after=1; else cpu_before=1 cpu_after=0; fi
    taskset -c $cpu_before "$before" bench copy --followers "$followers" --iterations "$iterations" \
        --samples-csv "$work/before.csv" >"$work/before.json" &
    taskset -c $cpu_after "$after" bench copy --followers "$followers" --iterations "$iterations" \
        --samples-csv "$work/after.csv" >"$work/after.json" &
    wait
    summary "$work/before.csv" "$work/before.json" "$before" $cpu_before
    summary "$work/after.csv" "$work/after.json" "$after" $cpu_after
done
