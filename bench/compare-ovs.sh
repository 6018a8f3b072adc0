#!/bin/bash
# Runs the same workloads against a private ovs-vswitchd and against ofagent, with the same ovs-ofctl client and
# bench/ofpeer.py, and prints each figure for both and the ratio ofagent/OVS. Not run in CI.
#
# usage: bench/compare-ovs.sh [--quick]     (--quick: 10k flows, 500 and 2000 connections, fewer echoes/packet-ins)
# env:   REPEAT (3)            flow-mod figures are the median of this many rounds on the same daemon
#        SWITCH_PORT (16634)   the switch's ptcp listener;  CTRL_PORT (16653)  ofpeer.py's controller listener
#        OFAGENT (target/release/ofagent, built if missing)   WORK (a fresh temporary directory)
#        PIN (unset)           "same": each daemon and the timed ovs-ofctl commands all on CPU 0; "split": the
#                              daemon on CPU 0, the client on CPU 1 (see the README on why it matters)
# needs: ovs-vswitchd, ovsdb-server, ovs-vsctl, ovs-ofctl 3.1 on PATH; /work/shared/tools/ovs-{up,down}.sh
#        (OVS_TOOLS to override); python3.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SWITCH_PORT=${SWITCH_PORT:-16634}
CTRL_PORT=${CTRL_PORT:-16653}
OVS_TOOLS=${OVS_TOOLS:-/work/shared/tools}
OFAGENT=${OFAGENT:-$ROOT/target/release/ofagent}
PEER="python3 $HERE/ofpeer.py"
SWITCH=tcp:127.0.0.1:$SWITCH_PORT

N_FLOWS=100000 CONNS="2000 10000" N_ECHO=10000 N_PKTIN=200000 DEFAULT_REPEAT=3
if [ "${1:-}" = --quick ]; then N_FLOWS=10000 CONNS="500 2000" N_ECHO=2000 N_PKTIN=20000 DEFAULT_REPEAT=1
elif [ $# -gt 0 ]; then echo "usage: $0 [--quick]" >&2; exit 2; fi
REPEAT=${REPEAT:-$DEFAULT_REPEAT}
PIN=${PIN:-}
case "$PIN" in
  '') CLIENT=() ;;
  same) CLIENT=(taskset -c 0) ;;
  split) CLIENT=(taskset -c 1) ;;
  *) echo "PIN must be same or split" >&2; exit 2 ;;
esac

# Both the peer's and each daemon's sockets count against this (the daemons inherit it).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
max_conns=0; for n in $CONNS; do [ "$n" -gt "$max_conns" ] && max_conns=$n; done
if [ "$(ulimit -n)" -lt $((max_conns + 100)) ]; then
  echo "open-file limit $(ulimit -n) is too low for $max_conns connections" >&2; exit 1
fi

[ -x "$OFAGENT" ] || (cd "$ROOT" && cargo build --release -p io-shell)
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/compare-ovs.XXXXXX")}
mkdir -p "$WORK"
OVSDIR=$WORK/ovs
AGENT_PID='' PEER_PID=''
CLK_TCK=$(getconf CLK_TCK)

stop_ofagent() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
    AGENT_PID=
  fi
}
stop_ovs() { # keeps $OVSDIR (logs) until the next start
  [ -f "$OVSDIR/run/ovs-vswitchd.pid" ] && "$OVS_TOOLS/ovs-down.sh" "$OVSDIR" >/dev/null 2>&1
  rm -f "$OVSDIR/run/ovs-vswitchd.pid"
}
stop_peer() { [ -n "$PEER_PID" ] && { kill "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; }; PEER_PID=; }
cleanup() { stop_peer; stop_ofagent; stop_ovs; }
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_listening() { # PORT: until a socket listens on it (read from /proc, so that nobody gets a stray connection)
  local hex
  hex=$(printf '%04X' "$1")
  for _ in $(seq 100); do
    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
      /proc/net/tcp && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; return 1
}

# When this host's memory is full of page cache, a daemon's page faults now and then wait for reclaim, which
# shows up as up to twice its CPU time: start each daemon with the cache dropped, when allowed (root).
drop_caches() { if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi; }

# start IMPL [CONTROLLER_TARGET]: a fresh daemon listening on $SWITCH; sets DPID (the pid to measure).
start() {
  local impl=$1 ctrl=${2:-}
  drop_caches
  if [ "$impl" = ovs ]; then
    rm -rf "$OVSDIR"
    DATAPATH=dummy BRIDGE=br0 LISTEN_PORT=$SWITCH_PORT CONTROLLER=${ctrl:-none} \
      "$OVS_TOOLS/ovs-up.sh" "$OVSDIR" >"$WORK/ovs-up.log" 2>&1
    for p in 1 2 3 4; do
      OVS_RUNDIR=$OVSDIR/run ovs-vsctl add-port br0 "p$p" -- set interface "p$p" type=dummy "ofport_request=$p"
    done
    DPID=$(cat "$OVSDIR/run/ovs-vswitchd.pid")
  else
    local args=(run --listen "ptcp:$SWITCH_PORT:127.0.0.1" --fail-mode secure --control-socket "$WORK/ofagent.ctl"
      --log-level warn)
    [ -n "$ctrl" ] && args+=(--controller "$ctrl")
    "$OFAGENT" "${args[@]}" 2>>"$WORK/ofagent.log" &
    AGENT_PID=$!
    DPID=$AGENT_PID
  fi
  wait_listening "$SWITCH_PORT"
  if [ -n "$PIN" ]; then taskset -apc 0 "$DPID" >/dev/null; fi
}
stop() { if [ "$1" = ovs ]; then stop_ovs; else stop_ofagent; fi; }

alive() { kill -0 "$DPID" 2>/dev/null || { echo "$1: the daemon (pid $DPID) died; see $WORK" >&2; exit 1; }; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$DPID/stat"; } # utime+stime after the comm
now() { date +%s.%N; }

declare -A R # R[figure,impl] = value
FIGURES=()
record() { # FIGURE IMPL VALUE
  R[$1,$2]=$3
  [[ " ${FIGURES[*]} " == *" $1 "* ]] || FIGURES+=("$1")
  printf '  %-40s %s\n' "$1" "$3"
}

declare -A SAMPLES # SAMPLES[figure,impl] = values of the rounds so far
# timed FIGURE IMPL CMD...: daemon CPU seconds and wall seconds of one client command, kept as one round's sample.
timed() {
  local fig=$1 impl=$2 c0 c1 t0 t1
  shift 2
  c0=$(cpu_ticks) t0=$(now)
  "${CLIENT[@]}" "$@"
  t1=$(now) c1=$(cpu_ticks)
  alive "$fig"
  SAMPLES[$fig: daemon CPU s,$impl]+=" $(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz }')"
  SAMPLES[$fig: wall s,$impl]+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}
# record_medians FIGURE IMPL: records the median of FIGURE's samples (each round's value is printed too).
record_medians() {
  local k=$1,$2 m
  m=$(tr ' ' '\n' <<<"${SAMPLES[$k]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  record "$1" "$2" "$m"
  printf '  %-40s (rounds:%s)\n' '' "${SAMPLES[$k]}"
}

json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

count_flows() { # expected: the number of flows dump-flows must list
  local n
  n=$(ovs-ofctl -O OpenFlow14 dump-flows "$SWITCH" | grep -c 'actions=' || true)
  [ "$n" = "$1" ] || { echo "expected $1 flows, dump-flows lists $n" >&2; exit 1; }
}

FLOWS=$WORK/flows.txt
python3 - "$N_FLOWS" >"$FLOWS" <<'EOF'
import sys
for i in range(int(sys.argv[1])):
    print(f"priority={100 + i % 1000},ip,nw_dst=10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255},actions=output:1")
EOF

for impl in ovs ofagent; do
  echo "== $impl"
  start "$impl"
  ovs-ofctl -O OpenFlow14 del-flows "$SWITCH"
  for _ in $(seq "$REPEAT"); do
    timed "add-flows $N_FLOWS" "$impl" ovs-ofctl -O OpenFlow14 add-flows "$SWITCH" "$FLOWS"
    count_flows "$N_FLOWS"
    timed "dump-flows $N_FLOWS" "$impl" sh -c "ovs-ofctl -O OpenFlow14 dump-flows $SWITCH >/dev/null"
    ovs-ofctl -O OpenFlow14 dump-flows --no-stats "$SWITCH" | sed 's/^ *//' | sort >"$WORK/dump-$impl.txt"
    ovs-ofctl -O OpenFlow14 del-flows "$SWITCH"
    count_flows 0
    timed "add-flows --bundle $N_FLOWS" "$impl" ovs-ofctl -O OpenFlow14 --bundle add-flows "$SWITCH" "$FLOWS"
    count_flows "$N_FLOWS"
    ovs-ofctl -O OpenFlow14 del-flows "$SWITCH"
  done
  for fig in "add-flows $N_FLOWS" "dump-flows $N_FLOWS" "add-flows --bundle $N_FLOWS"; do
    record_medians "$fig: daemon CPU s" "$impl"
    record_medians "$fig: wall s" "$impl"
  done
  out=$($PEER echo 127.0.0.1 "$SWITCH_PORT" "$N_ECHO")
  record "echo RTT mean us" "$impl" "$(json mean_us <<<"$out")"
  record "echo RTT median us" "$impl" "$(json median_us <<<"$out")"
  alive echo
  stop "$impl"

  for n in $CONNS; do
    start "$impl"
    out=$($PEER conns 127.0.0.1 "$SWITCH_PORT" "$n" "$DPID")
    alive "$n connections"
    record "RSS/conn bytes, $n idle OF1.3" "$impl" "$(json bytes_per_conn <<<"$out")"
    stop "$impl"
  done

  $PEER pktin "$CTRL_PORT" "$N_PKTIN" >"$WORK/pktin-$impl.json" &
  PEER_PID=$!
  wait_listening "$CTRL_PORT"
  start "$impl" "tcp:127.0.0.1:$CTRL_PORT"
  wait "$PEER_PID"
  PEER_PID=
  alive packet-in
  out=$(cat "$WORK/pktin-$impl.json")
  record "packet-ins/s" "$impl" "$(json per_sec <<<"$out")"
  record "packet-ins lost of $N_PKTIN" "$impl" "$(json lost <<<"$out")"
  stop "$impl"
done

if diff -q "$WORK/dump-ovs.txt" "$WORK/dump-ofagent.txt" >/dev/null; then
  echo "dump-flows --no-stats of the $N_FLOWS flows: identical (sorted) for both"
else
  echo "NOTE: dump-flows --no-stats differs between OVS and ofagent: diff $WORK/dump-ovs.txt $WORK/dump-ofagent.txt"
fi

echo
echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
printf '%-42s %12s %12s %8s\n' figure ovs-vswitchd ofagent ratio
for f in "${FIGURES[@]}"; do
  o=${R[$f,ovs]} a=${R[$f,ofagent]}
  ratio=$(python3 -c 'import sys; o, a = map(float, sys.argv[1:]); print(f"{a / o:.2f}" if o else "-")' "$o" "$a")
  printf '%-42s %12s %12s %8s\n' "$f" "$o" "$a" "$ratio"
done
echo "(ratio = ofagent / ovs-vswitchd; logs and dumps in $WORK)"
