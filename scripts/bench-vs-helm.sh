#!/usr/bin/env bash
# Times `cocogen render` against `helm template` of the Validated Patterns clustergroup chart on the same
# 2,000-application values, side by side in one run: both run N times, interleaved (cocogen, helm, cocogen, …),
# each measured from just before its process is spawned to just after it exits (wall seconds) with its peak RSS,
# by scripts/timed.go. Prints every run and the medians. Not part of CI (.ci/run): it installs Helm with `go install`
# and needs a checkout of the chart, which is not part of this repository.
#
#   scripts/bench-vs-helm.sh CHART_DIR [RUNS]
#   CHART_DIR=~/clustergroup-chart RUNS=9 scripts/bench-vs-helm.sh
#
# CHART_DIR is a checkout of https://github.com/validatedpatterns/clustergroup-chart (0.9.55 was measured) with
# its dependency vp-rbac under CHART_DIR/charts/vp-rbac (`helm dependency build` fetches it; or unpack
# https://github.com/validatedpatterns/vp-rbac-chart there). Environment: HELM_VERSION (default v3.18.6),
# HELM_BIN (use this helm instead of installing one), WORK (scratch directory, default a new temporary one).
set -euo pipefail
cd "$(dirname "$0")/.."

chart=${1:-${CHART_DIR:-}}
runs=${2:-${RUNS:-7}}
helm_version=${HELM_VERSION:-v3.18.6}
if [ -z "$chart" ] || [ ! -f "$chart/Chart.yaml" ]; then
  echo "usage: $0 CHART_DIR [RUNS]   (CHART_DIR: a clustergroup chart checkout; see the comment at the top)" >&2
  exit 2
fi
if [ ! -d "$chart/charts/vp-rbac" ] && ! ls "$chart"/charts/vp-rbac-*.tgz >/dev/null 2>&1; then
  echo "$chart has no charts/vp-rbac: run 'helm dependency build $chart' or unpack vp-rbac-chart there" >&2
  exit 2
fi

work=${WORK:-$(mktemp -d)}
mkdir -p "$work/bin" "$work/synth"

helm=${HELM_BIN:-}
if [ -z "$helm" ]; then
  echo "==> go install helm.sh/helm/v3/cmd/helm@$helm_version (into $work/bin)"
  GOBIN="$work/bin" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  helm="$work/bin/helm"
fi
echo "==> go build ./cmd/cocogen"
go build -o "$work/bin/cocogen" ./cmd/cocogen
cocogen="$work/bin/cocogen"

echo "==> write the 2,000-application input (go run ./internal/synthetic/writesynthetic) to $work/synth"
out=$(go run ./internal/synthetic/writesynthetic -n 2000 "$work/synth")
# The tool prints the cocogen command to render it; its --set flags are the facts the patterns operator would
# inject, after "--values-dir DIR ".
read -r -a sets <<<"$(sed -n 's/.*--values-dir [^ ]* //p' <<<"$out")"
if [ ${#sets[@]} -eq 0 ]; then
  echo "the synthetic input writer printed no --set flags:" >&2
  echo "$out" >&2
  exit 2
fi

run_cocogen() { "$cocogen" render --repo-root "$work/synth" --values-dir "$work/synth" "${sets[@]}"; }
run_helm() {
  "$helm" template clustergroup "$chart" -f "$work/synth/values-global.yaml" -f "$work/synth/values-hub.yaml" "${sets[@]}"
}

# Both must render the same number of objects, or the comparison is meaningless.
n_cocogen=$(run_cocogen 2>/dev/null | grep -c '^kind:')
n_helm=$(run_helm 2>/dev/null | grep -c '^kind:')
echo "==> objects: cocogen $n_cocogen, helm $n_helm"
if [ "$n_cocogen" != "$n_helm" ]; then
  echo "the two renders differ in their number of objects" >&2
  exit 1
fi

echo "==> go build scripts/timed.go (the timer)"
go build -o "$work/bin/timed" scripts/timed.go

# timed NAME CMD...: runs CMD with its output discarded and appends "seconds KiB" to $work/NAME.txt: the wall
# time from just before the process is spawned to just after it exits, and its peak RSS (scripts/timed.go,
# which says why not /usr/bin/time inside bash's clock).
timed() {
  local name=$1
  shift
  "$work/bin/timed" -stderr "$work/$name.err" -- "$@" >>"$work/$name.txt" || {
    cat "$work/$name.err" >&2
    exit 1
  }
}
: >"$work/cocogen.txt"
: >"$work/helm.txt"
echo "==> $runs runs each, interleaved"
for i in $(seq "$runs"); do
  timed cocogen "$cocogen" render --repo-root "$work/synth" --values-dir "$work/synth" "${sets[@]}"
  timed helm "$helm" template clustergroup "$chart" -f "$work/synth/values-global.yaml" -f "$work/synth/values-hub.yaml" "${sets[@]}"
  printf '  run %2d  cocogen %6s s %7s KiB   helm %6s s %7s KiB\n' "$i" \
    $(tail -n 1 "$work/cocogen.txt") $(tail -n 1 "$work/helm.txt")
done

median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
range() { sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f–%.3f\n", lo, hi}'; }
ct=$(awk '{print $1}' "$work/cocogen.txt" | median)
cr=$(awk '{print $1}' "$work/cocogen.txt" | range)
cm=$(awk '{print $2}' "$work/cocogen.txt" | median)
ht=$(awk '{print $1}' "$work/helm.txt" | median)
hr=$(awk '{print $1}' "$work/helm.txt" | range)
hm=$(awk '{print $2}' "$work/helm.txt" | median)
hv=$helm_version
if [ -n "${HELM_BIN:-}" ]; then hv="$("$helm" version --short 2>/dev/null | sed 's/+.*//') (HELM_BIN)"; fi
echo
echo "median of $runs interleaved runs, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), load average $(cut -d' ' -f1-3 /proc/loadavg):"
echo
echo "| renderer | wall time (s) | fastest–slowest run (s) | peak RSS (MiB) |"
echo "|---|---|---|---|"
awk -v t="$ct" -v r="$cr" -v m="$cm" -v rev="$(git rev-parse --short HEAD)" 'BEGIN {printf "| cocogen render (%s) | %.3f | %s | %.0f |\n", rev, t, r, m / 1024}'
awk -v t="$ht" -v r="$hr" -v m="$hm" -v v="$hv" -v c="$(sed -n 's/^version: //p' "$chart/Chart.yaml" | head -n 1)" \
  'BEGIN {printf "| helm template %s, clustergroup %s | %.3f | %s | %.0f |\n", v, c, t, r, m / 1024}'
awk -v c="$ct" -v h="$ht" 'BEGIN {printf "\ncocogen takes 1/%.1f of helm'"'"'s time (medians)\n", h / c}'
