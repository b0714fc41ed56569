#!/usr/bin/env bash
# Verdict's twophase and paxos examples side by side with stateright's own
# shipped 2pc and paxos examples, built from the stateright crate (0.31.0)
# in a temporary folder in the same run. No stateright code is kept in this
# repository: the script copies the example sources out of cargo's registry
# cache into the temporary folder and, for breadth-first variants, edits
# the copy there (`spawn_dfs` -> `spawn_bfs`).
#
#   examples/benches/vs_stateright.sh                     # 2PC 9, Paxos 3, 3 runs each
#   RMS="8" CLIENTS="2" RUNS=1 examples/benches/vs_stateright.sh
#
# Prints one table: unique states, median wall time and median peak RSS of
# RUNS runs (the tools alternate run by run), then the ratios the issue
# asks for. Needs cargo and /usr/bin/time (apt-get install -y time).
set -euo pipefail
RMS=${RMS:-"9"}
CLIENTS=${CLIENTS:-"3"}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }

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
sed 's/spawn_dfs()/spawn_bfs()/' "$SRC/examples/2pc.rs" > "$WORK/sr/examples/2pc_bfs.rs"
(cd "$WORK/sr" && cargo build --release -q --example 2pc --example 2pc_bfs --example paxos)
S2PC="$WORK/sr/target/release/examples/2pc"
S2PCB="$WORK/sr/target/release/examples/2pc_bfs"
SPAXOS="$WORK/sr/target/release/examples/paxos"
ONE="taskset -c 0"   # stateright runs one thread per CPU it may use

# One timed run: "seconds peak_kib unique"
once() {
  local kind=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/log" 2>&1 || true
  local unique
  if [ "$kind" = verdict ]; then
    unique=$(grep -oE 'unique: [0-9,]+' "$WORK/log" | head -1 | tr -dc 0-9)
  else
    unique=$(grep -oE 'unique=[0-9,]+' "$WORK/log" | tail -1 | tr -dc 0-9)
  fi
  echo "$(cat "$WORK/time") ${unique:-?}"
}

# RUNS runs of every configuration in CONFIGS, alternating configurations
# run by run; prints a row per configuration with the medians.
declare -A RES
bench() {
  local size=$1; shift
  local names=("$@")
  for _ in $(seq "$RUNS"); do
    for name in "${names[@]}"; do
      RES[$size/$name]+="$(once ${KIND[$name]} ${CMD[$name]})"$'\n'
    done
  done
  for name in "${names[@]}"; do
    local rows=${RES[$size/$name]}
    local t m u
    t=$(printf '%s' "$rows" | awk 'NF{print $1}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    m=$(printf '%s' "$rows" | awk 'NF{print $2}' | sort -g | awk '{a[NR]=$1} END{printf "%.0f", a[int((NR+1)/2)]/1024}')
    u=$(printf '%s' "$rows" | awk 'NF{print $3}' | tail -1)
    MED_T[$size/$name]=$t; MED_M[$size/$name]=$m
    printf '%-9s %-40s %12s %9s %9s\n' "$size" "$name" "$u" "$t" "$m"
  done
}
declare -A KIND CMD MED_T MED_M

printf '%-9s %-40s %12s %9s %9s\n' size "tool, strategy, threads" unique time_s peak_MiB
for n in $RMS; do
  KIND=(); CMD=()
  KIND[sr-bfs-2t]=sr;        CMD[sr-bfs-2t]="$S2PCB check $n"
  KIND[sr-dfs-1t]=sr;        CMD[sr-dfs-1t]="$ONE $S2PC check $n"
  KIND[sr-dfs-2t]=sr;        CMD[sr-dfs-2t]="$S2PC check $n"
  KIND[sr-sym-dfs-2t]=sr;    CMD[sr-sym-dfs-2t]="$S2PC check-sym $n"
  KIND[verdict-dfs-1t]=verdict; CMD[verdict-dfs-1t]="$VT check --rms $n --no-reduction --dfs --threads 1"
  KIND[verdict-dfs-2t]=verdict; CMD[verdict-dfs-2t]="$VT check --rms $n --no-reduction --dfs --threads 2"
  KIND[verdict-bfs-2t]=verdict; CMD[verdict-bfs-2t]="$VT check --rms $n --no-reduction --bfs --threads 2"
  KIND[verdict-reduced]=verdict; CMD[verdict-reduced]="$VT check --rms $n --bfs --threads 2"
  bench "2pc-$n" sr-bfs-2t verdict-bfs-2t sr-dfs-1t verdict-dfs-1t sr-dfs-2t verdict-dfs-2t sr-sym-dfs-2t verdict-reduced
done
for c in $CLIENTS; do
  KIND=(); CMD=()
  KIND[sr-bfs-2t]=sr;        CMD[sr-bfs-2t]="$SPAXOS check $c"
  KIND[sr-dfs-1t]=sr;        CMD[sr-dfs-1t]="$ONE $SPAXOS check-dfs $c"
  KIND[sr-dfs-2t]=sr;        CMD[sr-dfs-2t]="$SPAXOS check-dfs $c"
  KIND[verdict-dfs-1t]=verdict; CMD[verdict-dfs-1t]="$VP check --clients $c --no-reduction --dfs --threads 1"
  KIND[verdict-dfs-2t]=verdict; CMD[verdict-dfs-2t]="$VP check --clients $c --no-reduction --dfs --threads 2"
  KIND[verdict-bfs-2t]=verdict; CMD[verdict-bfs-2t]="$VP check --clients $c --no-reduction --bfs --threads 2"
  # Symmetry does not apply (servers break ties by id), so the dynamic
  # partial-order reduction runs: depth first, one thread, whatever the flags.
  KIND[verdict-reduced]=verdict; CMD[verdict-reduced]="$VP check --clients $c --bfs --threads 2"
  bench "paxos-$c" sr-bfs-2t verdict-bfs-2t sr-dfs-1t verdict-dfs-1t sr-dfs-2t verdict-dfs-2t verdict-reduced
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1f", a / b; else print "-" }'; }
min() { printf '%s\n' "$@" | sort -g | head -1; }
echo
echo "ratios (stateright / verdict; above 1 means verdict is faster or smaller)"
for n in $RMS; do
  s="2pc-$n"
  best_sr=$(min "${MED_T[$s/sr-dfs-1t]}" "${MED_T[$s/sr-dfs-2t]}" "${MED_T[$s/sr-bfs-2t]}")
  best_v=$(min "${MED_T[$s/verdict-dfs-1t]}" "${MED_T[$s/verdict-dfs-2t]}" "${MED_T[$s/verdict-bfs-2t]}")
  echo "$s  time, no reductions, best of each:           $(ratio "$best_sr" "$best_v")x"
  echo "$s  peak memory, stateright BFS / verdict DFS 2t: $(ratio "${MED_M[$s/sr-bfs-2t]}" "${MED_M[$s/verdict-dfs-2t]}")x"
  echo "$s  time, stateright check-sym / verdict reduced: $(ratio "${MED_T[$s/sr-sym-dfs-2t]}" "${MED_T[$s/verdict-reduced]}")x"
done
# Unique states without and with reductions (verdict against itself).
states() { printf '%s' "${RES[$1]}" | awk 'NF{print $3}' | tail -1; }
for c in $CLIENTS; do
  s="paxos-$c"
  best_sr=$(min "${MED_T[$s/sr-dfs-1t]}" "${MED_T[$s/sr-dfs-2t]}" "${MED_T[$s/sr-bfs-2t]}")
  best_v=$(min "${MED_T[$s/verdict-dfs-1t]}" "${MED_T[$s/verdict-dfs-2t]}" "${MED_T[$s/verdict-bfs-2t]}")
  echo "$s  time, no reductions, best of each:          $(ratio "$best_sr" "$best_v")x"
  echo "$s  peak memory, stateright BFS / verdict DFS 2t: $(ratio "${MED_M[$s/sr-bfs-2t]}" "${MED_M[$s/verdict-dfs-2t]}")x"
done
for s in $(for n in $RMS; do echo "2pc-$n"; done) $(for c in $CLIENTS; do echo "paxos-$c"; done); do
  echo "$s  unique states, verdict without / with reductions: $(ratio "$(states "$s/verdict-dfs-1t")" "$(states "$s/verdict-reduced")")x"
done
