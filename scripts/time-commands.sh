#!/usr/bin/env bash
# Times one cocogen command line run by several binaries (say, builds of two commits), interleaved so that a
# machine that slows down or speeds up during the measurement affects all of them alike. Each run is timed
# from before its process starts to after it exits, in milliseconds; the script prints the median and
# quartiles per binary. Standard output and error of the runs are discarded. Not part of CI (.ci/run).
#
#   scripts/time-commands.sh RUNS BINARY... -- ARGS...
#   scripts/time-commands.sh 30 /tmp/cocogen-old /tmp/cocogen-new -- render --all
#
# Build the binaries with `go build -o /tmp/cocogen-new ./cmd/cocogen` (and `git worktree add` for an older
# commit). How a binary's pages sit in the page cache changes what it costs to run here, whatever its code:
# of two binaries linked one right after the other, one took 71 page faults on its code and read-only data
# in a render and the other 377 (counted with `perf record -e page-faults -d`, by address), some 4 ms at the
# 12-14 µs a fault costs here.
# Put every binary in the same state before timing: as root, `sync; echo 3 > /proc/sys/vm/drop_caches`, then
# run each binary once (then each takes about 500 such faults). The times include starting a process from
# bash, the same for every binary.
set -euo pipefail

if [ $# -lt 3 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 RUNS BINARY... -- ARGS..." >&2
  exit 2
fi
runs=$1
shift
bins=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  bins+=("$1")
  shift
done
if [ $# -eq 0 ] || [ ${#bins[@]} -eq 0 ]; then
  echo "usage: $0 RUNS BINARY... -- ARGS..." >&2
  exit 2
fi
shift
for b in "${bins[@]}"; do
  if [ ! -x "$b" ]; then
    echo "$b is not an executable file" >&2
    exit 2
  fi
done

declare -A times
for ((i = 0; i < runs; i++)); do
  for b in "${bins[@]}"; do
    start=$(date +%s%N)
    "$b" "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    times[$b]+=" $(((end - start) / 1000))"
  done
done

echo "$runs runs each, interleaved, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg): $*"
for b in "${bins[@]}"; do
  # shellcheck disable=SC2086 # the list is numbers separated by spaces
  printf '%s\n' ${times[$b]} | sort -n | awk -v b="$b" '
    { v[NR] = $1 }
    END { printf "  %-40s median %7.1f ms   quartiles %7.1f – %7.1f ms\n", b, v[int((NR + 1) / 2)] / 1000, v[int((NR + 3) / 4)] / 1000, v[int((3 * NR + 1) / 4)] / 1000 }'
done
