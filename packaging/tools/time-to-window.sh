#!/usr/bin/env bash
# Milliseconds from starting a command until the "SD3 Studio" window is mapped, under Xvfb,
# with a scratch HOME (no settings: a first start), N times:
#
#   packaging/tools/time-to-window.sh N COMMAND [ARGS...]
#
# Needs xvfb-run and xdotool. Prints one time per run, then the median.
set -euo pipefail
runs="$1"; shift
inner=$(mktemp)
cat >"$inner" <<'INNER'
set -u
export HOME; HOME=$(mktemp -d)
start=$(date +%s%N)
"$@" >/dev/null 2>&1 &
pid=$!
ms=timeout
for _ in $(seq 1 1200); do
  if xdotool search --onlyvisible --name '^SD3 Studio$' >/dev/null 2>&1; then
    ms=$(( ($(date +%s%N) - start) / 1000000 )); break
  fi
  sleep 0.025
done
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
rm -rf "$HOME"
echo "$ms"
INNER
times=()
for _ in $(seq 1 "$runs"); do
  t=$(xvfb-run -a -s "-screen 0 1600x1000x24" bash "$inner" "$@")
  echo "$t ms"
  times+=("$t")
done
rm -f "$inner"
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print "median " a[int((NR+1)/2)] " ms of " NR}'
