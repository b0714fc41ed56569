#!/usr/bin/env bash
# Side-by-side benchmark: lincheck against another linearizability checker
# (Porcupine, through a small driver program kept outside this repository)
# on the shared corpus, same files, same run, verdicts checked first.
#
# Usage:
#   dsl-runtime/benches/lin_vs_porcupine.sh --porcupine DIR
#   dsl-runtime/benches/lin_vs_porcupine.sh --other 'CMD [ARGS]' [--name NAME]
#       [--data DIR] [--runs N] [--small-runs N] [--cap SECONDS] [--out FILE]
#
# --porcupine DIR builds the driver in benches/porcupine-driver/ against the
# Porcupine checkout in DIR (Debian's golang-go builds it offline), in a
# temporary folder, and compares with it checking two files at once (-j 2).
# --other names any other executable that follows lincheck's contract:
#   CMD [--no-partition] [--stats] FILE...
# prints `FILE: linearizable` or `FILE: not linearizable` per file on stdout,
# and with --stats a line per file on stderr containing
# `read X ms, check Y ms` (time to read and parse, time to check, in process).
#
# For every group of files the two tools run alternately, RUNS times (3 by
# default); the table gives the median wall-clock time of the whole
# command (process start included) and, for single files, the median
# in-process time (read + check) that each tool reports. Groups whose
# lincheck median is under 10 ms after RUNS rounds are run SMALL_RUNS
# rounds in all (21 by default), since their wall time is mostly process
# start and varies by a millisecond from run to run. A run longer than
# CAP seconds (120 by default) is stopped and shown as DNF (only runs with
# --no-partition are capped). Needs bash 5 (EPOCHREALTIME).
set -euo pipefail

other=""
porcupine=""
name="other"
data="${VERDICT_LIN_DATA:-}"
runs=3
small_runs=21
cap=120
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --other) other="$2"; shift 2 ;;
    --porcupine) porcupine="$2"; name="porcupine"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --small-runs) small_runs="$2"; shift 2 ;;
    --cap) cap="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$other" || -n "$porcupine" ]] || { echo "give --porcupine DIR or --other 'CMD' (see --help)" >&2; exit 2; }

root="$(cd "$(dirname "$0")/../.." && pwd)"
[[ -n "$data" ]] || data="$root/../shared/lin-data"
[[ -f "$data/expected.tsv" ]] || { echo "no corpus at $data (set --data or VERDICT_LIN_DATA)" >&2; exit 2; }

echo "building lincheck (release)..." >&2
(cd "$root" && cargo build --release -q -p verdict --bin lincheck)
lin="$root/target/release/lincheck"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

if [[ -n "$porcupine" ]]; then
  [[ -f "$porcupine/go.mod" ]] || { echo "no Porcupine checkout at $porcupine (no go.mod)" >&2; exit 2; }
  command -v go >/dev/null || { echo "needs go (apt-get install -y golang-go)" >&2; exit 2; }
  echo "building the Porcupine driver against $porcupine..." >&2
  mkdir -p "$scratch/driver"
  cp "$root/dsl-runtime/benches/porcupine-driver/main.go" "$scratch/driver/"
  printf '%s\n' "module porcupinedriver" "" "go 1.19" "" \
    "require github.com/anishathalye/porcupine v0.0.0" "" \
    "replace github.com/anishathalye/porcupine => $(cd "$porcupine" && pwd)" \
    > "$scratch/driver/go.mod"
  (cd "$scratch/driver" && GOPROXY=off go build -o porcheck .)
  other="$scratch/driver/porcheck -j 2"
fi

cd "$data"
etcd_files=(jepsen/*.log)

# --- verdicts first: both tools must agree with expected.tsv -------------
verify() { # tool-command label extra-flags files...
  local cmd="$1" label="$2" flags="$3"; shift 3
  local got="$scratch/got" rc=0
  # shellcheck disable=SC2086
  timeout "$cap" $cmd $flags "$@" > "$got" 2>/dev/null || rc=$?
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then
    echo "  $label $flags: exit status $rc" >&2; return 1
  fi
  local bad=0 file verdict want
  while IFS=$'\t' read -r file want; do
    for f in "$@"; do
      [[ "$f" == "$file" ]] || continue
      verdict="$(grep -F "$file: " "$got" | head -1 | sed 's/^.*: //; s/not linearizable/not-linearizable/')"
      if [[ "$verdict" != "$want" ]]; then
        echo "  $label $flags: $file: got '$verdict', expected '$want'" >&2; bad=1
      fi
    done
  done < <(tail -n +2 expected.tsv)
  return $bad
}

echo "checking verdicts against expected.tsv..." >&2
status=0
for tool in "$lin" "$other"; do
  label="$( [[ "$tool" == "$lin" ]] && echo lincheck || echo "$name" )"
  verify "$tool" "$label" "" "${etcd_files[@]}" || status=1
  for f in kv/*.txt; do verify "$tool" "$label" "" "$f" || status=1; done
  for f in kv/c01-*.txt kv/c10-*.txt; do verify "$tool" "$label" "--no-partition" "$f" || status=1; done
done
[[ $status -eq 0 ]] && echo "  all verdicts match for both tools" >&2

# --- timing -----------------------------------------------------------------
# time_one CMD FLAGS FILES... -> prints "WALL_MS INPROC_MS" (DNF when capped).
# Only --no-partition runs go through `timeout` (they may not finish), and
# only until both tools finished a round of the group within a second
# (`guarded` is then cleared); the others start the tool directly, so that
# the wall time holds nothing but it.
guarded=1
time_one() {
  local cmd="$1" flags="$2"; shift 2
  local err="$scratch/err" start end rc=0
  local guard=()
  [[ "$flags" == *--no-partition* && $guarded == 1 ]] && guard=(timeout "$cap")
  start=$EPOCHREALTIME
  # shellcheck disable=SC2086
  "${guard[@]}" $cmd $flags --stats "$@" > /dev/null 2> "$err" || rc=$?
  end=$EPOCHREALTIME
  if [[ $rc -eq 124 ]]; then echo "DNF DNF"; return; fi
  local inproc
  inproc="$(grep -o 'read [0-9.]* ms, check [0-9.]* ms' "$err" \
    | awk '{ s += $2 + $5 } END { if (NR) printf "%.3f", s; else print "-" }')"
  awk -v a="$start" -v b="$end" -v i="$inproc" 'BEGIN { printf "%.3f %s\n", (b - a) * 1e3, i }'
}

median() { # values... (DNF sorts last; a median that is DNF prints DNF)
  printf '%s\n' "$@" | sed 's/^DNF$/1e18/; s/^-$/1e18/' | sort -g \
    | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)];
        if (m >= 1e18) print "DNF"; else if (m < 10) printf "%.2f", m; else printf "%.1f", m }'
}

ratio() { # other lin
  awk -v o="$1" -v l="$2" 'BEGIN { if (o == "DNF" || l == "DNF" || l == 0) print "-"; else printf "%.1fx", o / l }'
}

rows=()
bench_group() { # label flags files...
  local label="$1" flags="$2"; shift 2
  local lw=() li=() ow=() oi=() r a b
  local total=$runs
  guarded=1
  for ((r = 0; r < total; r++)); do
    read -r a b < <(time_one "$lin" "$flags" "$@"); lw+=("$a"); li+=("$b")
    read -r a b < <(time_one "$other" "$flags" "$@"); ow+=("$a"); oi+=("$b")
    if ((r == 0)) && awk -v l="${lw[0]}" -v o="${ow[0]}" \
      'BEGIN { exit !(l != "DNF" && o != "DNF" && l < 1000 && o < 1000) }'; then
      guarded=0
    fi
    # A command of a few milliseconds is mostly process start, which
    # jitters by a millisecond: such groups get more rounds.
    if ((r == runs - 1 && total < small_runs)) && [[ "$a" != DNF ]] \
      && awk -v w="$(median "${lw[@]}")" 'BEGIN { exit !(w < 10) }'; then
      total=$small_runs
    fi
  done
  local mlw mow mli moi
  mlw=$(median "${lw[@]}"); mow=$(median "${ow[@]}")
  mli=$(median "${li[@]}"); moi=$(median "${oi[@]}")
  rows+=("| $label | $mlw | $mow | $(ratio "$mow" "$mlw") | $mli | $moi | $(ratio "$moi" "$mli") |")
  echo "  $label: lincheck $mlw ms, $name $mow ms (in process $mli / $moi ms)" >&2
}

echo "timing ($runs runs per tool and group, alternating)..." >&2
bench_group "etcd, all ${#etcd_files[@]} logs in one command" "" "${etcd_files[@]}"
for f in c01-ok c01-bad c10-ok c10-bad c50-ok c50-bad; do
  bench_group "kv $f, per key" "" "kv/$f.txt"
done
for f in c01-ok c01-bad c10-ok c10-bad c50-ok c50-bad; do
  bench_group "kv $f, whole (--no-partition)" "--no-partition" "kv/$f.txt"
done

{
  echo "lincheck vs $name: median of $runs alternating runs ($small_runs for groups under 10 ms), milliseconds; wall = whole command,"
  echo "process start included; in process = read + check as each tool reports it (summed over files)."
  echo "DNF: not finished within ${cap} s. Machine: $(nproc) cores, $(uname -sr)."
  echo
  echo "| group | lincheck wall | $name wall | ratio | lincheck in process | $name in process | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} | tee "${out:-/dev/null}"
exit $status
