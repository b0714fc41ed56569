#!/usr/bin/env bash
# Side by side: Verdict's twophase/paxos against stateright's own shipped
# 2pc/paxos examples, built from the stateright crate in a temporary folder
# in the same run (no stateright code is kept in this repository).
#
#   examples/benches/vs_stateright.sh                 # 2PC 8 9, Paxos 3; 3 runs each
#   RMS="7 8" CLIENTS="2" RUNS=1 examples/benches/vs_stateright.sh
#
# Needs: cargo, /usr/bin/time (apt-get install -y time). Prints one table:
# unique states, median wall time and peak RSS (median of RUNS, the two
# tools alternating), for Verdict without and with reductions on 1 and 2
# threads, and stateright BFS, DFS 1 thread, DFS 2 threads, check-sym.
set -euo pipefail
RMS=${RMS:-"8 9"}
CLIENTS=${CLIENTS:-"3"}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "building verdict examples (release)..." >&2
(cd "$ROOT" && cargo build --release -q -p verdict-examples --bin twophase --bin paxos)
VT="$ROOT/target/release/twophase"
VP="$ROOT/target/release/paxos"

echo "building stateright 0.31.0 examples in $WORK..." >&2
mkdir -p "$WORK/sr/src" "$WORK/sr/examples"
cat > "$WORK/sr/Cargo.toml" <<'TOML'
[package]
name = "sr-bench"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
stateright = "=0.31.0"
serde = { version = "1", features = ["derive"] }
pico-args = "0.5"
env_logger = "0.11"
num_cpus = "1"
lazy_static = "1"
serde_json = "1"
[profile.release]
debug = false
[workspace]
TOML
echo "fn main() {}" > "$WORK/sr/src/main.rs"
(cd "$WORK/sr" && cargo fetch -q)
SRC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/stateright-0.31.0 | head -1)
cp "$SRC/examples/2pc.rs" "$SRC/examples/paxos.rs" "$WORK/sr/examples/"
(cd "$WORK/sr" && cargo build --release -q --example 2pc --example paxos)
S2PC="$WORK/sr/target/release/examples/2pc"
SPAXOS="$WORK/sr/target/release/examples/paxos"

# measure KIND CMD...: RUNS timed runs; prints "median_s median_mib unique"
measure() {
  local kind=$1; shift
  local times=() mems=() unique=""
  for _ in $(seq "$RUNS"); do
    local log="$WORK/log"
    /usr/bin/time -f "TIME %e %M" -o "$WORK/time" "$@" > "$log" 2>&1 || true
    read -r _ t m < "$WORK/time"
    times+=("$t"); mems+=("$m")
    if [ "$kind" = verdict ]; then
      unique=$(grep -oE 'unique: [0-9,]+' "$log" | head -1 | tr -dc 0-9)
    else
      unique=$(grep -oE 'unique=[0-9,]+' "$log" | tail -1 | tr -dc 0-9)
    fi
  done
  local mt mm
  mt=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  mm=$(printf '%s\n' "${mems[@]}" | sort -g | awk '{a[NR]=$1} END{printf "%.0f", a[int((NR+1)/2)]/1024}')
  echo "$mt $mm ${unique:-?}"
}

printf '%-10s %-34s %14s %9s %9s\n' size tool/strategy unique time_s peak_MiB
row() { printf '%-10s %-34s %14s %9s %9s\n' "$1" "$2" "$5" "$3" "$4"; }
ONE="taskset -c 0"   # stateright uses one thread per CPU it may run on
for n in $RMS; do
  # Alternate the tools: stateright, verdict, stateright, ...
  read -r t m u < <(measure sr $ONE "$S2PC" check "$n");        row "2pc-$n" "stateright check (dfs) 1t" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VT" check --rms "$n" --no-reduction --dfs --threads 1); row "2pc-$n" "verdict dfs 1t no-reduction" "$t" "$m" "$u"
  read -r t m u < <(measure sr "$S2PC" check "$n");             row "2pc-$n" "stateright check (dfs) 2t" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VT" check --rms "$n" --no-reduction --dfs --threads 2); row "2pc-$n" "verdict dfs 2t no-reduction" "$t" "$m" "$u"
  read -r t m u < <(measure sr "$S2PC" check-sym "$n");         row "2pc-$n" "stateright check-sym (dfs) 2t" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VT" check --rms "$n" --threads 1); row "2pc-$n" "verdict bfs 1t reductions" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VT" check --rms "$n" --threads 2); row "2pc-$n" "verdict bfs 2t reductions" "$t" "$m" "$u"
done
for c in $CLIENTS; do
  read -r t m u < <(measure sr "$SPAXOS" check "$c");           row "paxos-$c" "stateright check (bfs) 2t" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VP" check --clients "$c" --no-reduction --dfs --threads 1); row "paxos-$c" "verdict dfs 1t no-reduction" "$t" "$m" "$u"
  read -r t m u < <(measure sr $ONE "$SPAXOS" check-dfs "$c");  row "paxos-$c" "stateright check-dfs 1t" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VP" check --clients "$c" --no-reduction --dfs --threads 2); row "paxos-$c" "verdict dfs 2t no-reduction" "$t" "$m" "$u"
  read -r t m u < <(measure sr "$SPAXOS" check-dfs "$c");       row "paxos-$c" "stateright check-dfs 2t" "$t" "$m" "$u"
  read -r t m u < <(measure verdict "$VP" check --clients "$c" --threads 2); row "paxos-$c" "verdict bfs 2t reductions" "$t" "$m" "$u"
done
