#!/usr/bin/env bash
# Deep planted bugs: runs and seconds until a strategy first finds each,
# median over seed ranges, against uniform; and the runs/s each strategy
# costs on bug-free lockserv and Paxos.
#
#   cargo build --release -p verdict-examples
#   examples/benches/deep_bugs.sh [RANGES] [THREADS]     # default 20 ranges, 2 threads
#
# Range i runs seeds i*10^9 .. i*10^9 + CAP (CAP per bug and strategy,
# below); "runs" is (failing seed - range start + 1), "s" the wall time of
# the whole command (shrinking included). A range that finds nothing
# counts as "> CAP" and the median is reported as a lower bound when more
# than half miss. Not a timed test: numbers depend on the machine and on
# what else runs on it.
set -u
RANGES=${1:-20}
THREADS=${2:-2}
BIN=${CARGO_TARGET_DIR:-target}/release

# median of the numbers on stdin (sorted numerically; "inf" sorts last)
median() { sort -g | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; print (m=="inf" ? "miss" : m)}'; }

# one bug: NAME CAP STRATEGY -- command...
deep() {
    local name=$1 cap=$2 strategy=$3; shift 4
    local runs=() secs=() missed=0
    for ((i = 0; i < RANGES; i++)); do
        local a=$((i * 1000000000)) b=$((i * 1000000000 + cap))
        local t0 t1 out seed
        t0=$(date +%s.%N)
        out=$("$@" --strategy "$strategy" --seeds "$a..$b" --threads "$THREADS" 2>&1)
        t1=$(date +%s.%N)
        seed=$(sed -n 's/^VIOLATION: .*(seed \([0-9]*\), after.*/\1/p' <<<"$out" | head -1)
        if [ -n "$seed" ]; then
            runs+=($((seed - a + 1)))
            secs+=("$(echo "$t1 - $t0" | bc)")
        else
            runs+=(inf)
            secs+=(inf)
            missed=$((missed + 1))
        fi
    done
    local mr ms
    mr=$(printf '%s\n' "${runs[@]}" | median)
    ms=$(printf '%s\n' "${secs[@]}" | median)
    printf '| %s | %s | %s | %s | %s/%s missed (cap %s runs each) |\n' \
        "$name" "$strategy" "$mr" "$ms" "$missed" "$RANGES" "$cap"
}

echo "| bug | strategy | median runs to find | median s | ranges missed |"
echo "|---|---|---|---|---|"
RAFT=("$BIN/kv" simulate --transform raft --servers 3 --clients 2 --ops 2 --max-term 4
    --max-log 3 --broken commit-old-term --depth 40)
for s in pct coverage swarm; do deep "raft figure 8" 300000 $s -- "${RAFT[@]}"; done
deep "raft figure 8" "${UNIFORM_RAFT_CAP:-200000}" uniform -- "${RAFT[@]}"
for s in uniform pct swarm coverage; do
    deep batcher 200000 $s -- "$BIN/batcher" simulate --broken --depth 60
done
for s in uniform pct swarm coverage; do
    deep keypad 200000 $s -- "$BIN/keypad" simulate --broken --depth 40
done

echo
echo "| system | strategy | runs/s (median of 3, one thread) | vs uniform |"
echo "|---|---|---|---|"
overhead() {
    local name=$1; shift
    local base=""
    for s in uniform pct swarm coverage; do
        local rates=()
        for _ in 1 2 3; do
            rates+=("$("$@" --strategy "$s" --threads 1 2>&1 |
                sed -n 's/.*(\([0-9,]*\) runs\/s.*/\1/p' | tr -d ,)")
        done
        local m
        m=$(printf '%s\n' "${rates[@]}" | median)
        [ -z "$base" ] && base=$m
        printf '| %s | %s | %s | %.2f |\n' "$name" "$s" "$m" "$(echo "$m / $base" | bc -l)"
    done
}
overhead lockserv "$BIN/lockserv" simulate --runs 300000 --depth 100
overhead paxos "$BIN/paxos" simulate --runs 100000 --depth 100
