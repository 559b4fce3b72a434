#!/bin/bash
# watch-fanout.sh: the watch fan-out benchmark. Debian's etcd 3.4 and cetcd
# run side by side on loopback; against each in turn, watchfan (watchfan.c,
# next to this script, compiled into the temp dir) opens FANOUT_WATCHERS
# watch streams on one key through etcd's JSON gateway (POST /v3/watch),
# then times FANOUT_ROUNDS puts of that key from the moment the put is sent
# to the moment the last watcher has its event. Printed: a markdown table
# with the median and max of that "last delivery" time, the median watcher's
# time, the put latency, and each server's memory (PSS of its whole process
# tree) while the watchers are open, with the ratio cetcd/etcd.
#
# While one server is measured the other is stopped (SIGSTOP), as in
# bench.sh, so its background work cannot take the shared CPUs.
#
# Environment:
#   CETCD_BIN          cetcd binary (default ./cetcd); /usr/bin/etcd works too
#                      (etcd against itself: the run-to-run noise)
#   ETCD_BIN           reference etcd (default /usr/bin/etcd)
#   FANOUT_WATCHERS    watchers in all (default 10000)
#   FANOUT_PER_CONN    watchers per connection, several create_requests in
#                      one stream (default 1: one connection per watcher)
#   FANOUT_ROUNDS      measured puts (default 20), after one warm-up put
#   FANOUT_INTERVAL_MS pause between rounds (default 200)
#   CETCD_API_WORKERS  --api-workers for cetcd (default: cetcd's own, 2)
#   BENCH_PORT_BASE    etcd uses BASE+0/+1, cetcd BASE+10/+11 (default 23379,
#                      below Linux's ephemeral range so that the 10,000 client
#                      sockets cannot take them; moved up by 100 while busy)
#   BENCH_KEEP=1       keep the temp dir (server logs, watchfan output)
#   CC                 compiler for watchfan.c (default cc; needs libevent 2.1)
#   FANOUT_PERF=1      also record `perf record -g` of cetcd's api workers
#                      during its rounds; the top symbols go to stderr and
#                      perf.data stays in the kept temp dir
#
# Run from a build dir:  CETCD_BIN=./cetcd contrib/bench/watch-fanout.sh
# watchfan alone (see watchfan.c): watchfan -p PORT -n CONNS -w PER_CONN -r ROUNDS
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CETCD_BIN=${CETCD_BIN:-./cetcd}
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
WATCHERS=${FANOUT_WATCHERS:-10000}
PER_CONN=${FANOUT_PER_CONN:-1}
ROUNDS=${FANOUT_ROUNDS:-20}
INTERVAL=${FANOUT_INTERVAL_MS:-200}
API_WORKERS=${CETCD_API_WORKERS:-}
PORT_BASE=${BENCH_PORT_BASE:-23379}
KEEP=${BENCH_KEEP:-0}
CC=${CC:-cc}
CMDLINE="$0 $*"

PROG=watch-fanout.sh
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

need_tools curl ps awk ss "$CC"
[ "${FANOUT_PERF:-0}" = 1 ] && need_tools perf
[ -x "$ETCD_BIN" ] || die "reference etcd not found at $ETCD_BIN (set ETCD_BIN)"
[ -x "$CETCD_BIN" ] || die "cetcd not found at $CETCD_BIN (set CETCD_BIN)"
CETCD_BIN=$(abs_bin "$CETCD_BIN")
[ $((WATCHERS % PER_CONN)) = 0 ] || die "FANOUT_WATCHERS must be a multiple of FANOUT_PER_CONN"
CONNS=$((WATCHERS / PER_CONN))

# Every stream is a descriptor in watchfan and in the server: lift the soft
# limit to the hard one (children inherit it) and check it is enough.
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
ulimit -n "$HARD" || die "cannot raise ulimit -n to $HARD"
[ "$HARD" -ge $((CONNS + 256)) ] ||
	die "$CONNS connections need ulimit -n >= $((CONNS + 256)); the hard limit is $HARD"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-fanout.XXXXXX")
bench_traps

"$CC" -O2 -o "$WORK/watchfan" "$HERE/watchfan.c" -levent 2>"$WORK/cc.log" ||
	die "cannot build watchfan.c (libevent 2.1 headers needed); see $WORK/cc.log"

# start NAME BIN PORT EXTRA...: a one-member cluster with client port PORT,
# peer port PORT+1, etcd's own flags (cetcd accepts the same).
start() {
	local name=$1 bin=$2 client="http://127.0.0.1:$3" peer="http://127.0.0.1:$(($3 + 1))"
	shift 3
	mkdir -p "$WORK/$name"
	"$bin" --name "$name" --data-dir "$WORK/$name/data" \
		--listen-client-urls "$client" --advertise-client-urls "$client" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$name=$peer" "$@" >"$WORK/$name/server.log" 2>&1 &
	PID[$name]=$!
}

# ready NAME PORT: wait until the server accepts a v3 write.
ready() {
	local _
	for _ in $(seq 1 300); do
		kill -0 "${PID[$1]}" 2>/dev/null ||
			die "$1 exited during startup; see $WORK/$1/server.log"
		curl -sf -m 2 -o /dev/null "http://127.0.0.1:$2/v3/kv/put" \
			-d '{"key":"d2FybQ==","value":"eA=="}' && return 0
		sleep 0.1
	done
	die "$1 did not accept a write within 30 s; see $WORK/$1/server.log"
}

# field FILE RECORD KEY: KEY's value in the first RECORD line of watchfan's
# output.
field() {
	awk -v r="$2" -v k="$3" '$1 == r {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) { print kv[2]; exit } } }' "$1"
}

# perf_start / perf_stop: with FANOUT_PERF=1, profile cetcd's api workers
# (the processes that fan events out) from setup to the last round.
PERF=${FANOUT_PERF:-0}
PERF_PID=
perf_start() {
	local pids
	pids=$(descendants "${PID[cetcd]}" | paste -sd, -)
	pids=$(ps -o pid=,args= -p "$pids" | awk '/api worker/ { print $1 }' | paste -sd, -)
	[ -n "$pids" ] || { note "no cetcd api worker found to profile"; return 0; }
	perf record -g -F 999 -p "$pids" -o "$WORK/cetcd/perf.data" \
		>"$WORK/cetcd/perf.log" 2>&1 &
	PERF_PID=$!
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || :
	wait "$PERF_PID" || :
	PERF_PID=
	KEEP=1
	note "cetcd api workers, top symbols (self):"
	perf report -i "$WORK/cetcd/perf.data" --no-children --sort dso,symbol --stdio -g none \
		2>/dev/null | grep '%' | head -25 >&2 || :
}

# measure NAME PORT: one watchfan run; the server tree's PSS is read while
# watchfan holds its streams open after the last round.
declare -A PSS=() PROCS=()
measure() {
	local name=$1 port=$2 out="$WORK/$1/watchfan.out" wf _
	"$WORK/watchfan" -p "$port" -n "$CONNS" -w "$PER_CONN" -r "$ROUNDS" -i "$INTERVAL" \
		-k "fanout/$name" -H >"$out" 2>"$WORK/$name/watchfan.err" &
	wf=$!
	if [ "$name" = cetcd ] && [ "$PERF" = 1 ]; then
		while kill -0 "$wf" 2>/dev/null && ! grep -q '^setup ' "$out"; do
			sleep 0.1
		done
		perf_start
	fi
	while kill -0 "$wf" 2>/dev/null && ! grep -q '^hold ' "$out"; do
		sleep 0.2
	done
	perf_stop
	if grep -q '^hold ' "$out"; then
		PSS[$name]=$(pss_tree "${PID[$name]}")
		PROCS[$name]=$(descendants "${PID[$name]}" | wc -l)
		kill -USR1 "$wf"
	fi
	wait "$wf" || die "watchfan failed against $name: $(tail -3 "$WORK/$name/watchfan.err")"
	grep -q '^summary ' "$out" || die "watchfan printed no summary for $name; see $out"
	awk '$1 == "setup" || $1 == "summary"' "$out" | sed "s/^/$PROG: $name: /" >&2
}

# ports_free BASE: no socket on loopback uses BASE, BASE+1, BASE+10, BASE+11.
ports_free() {
	local p
	for p in "$1" $(($1 + 1)) $(($1 + 10)) $(($1 + 11)); do
		[ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] || return 1
	done
}
for _ in $(seq 1 20); do
	ports_free "$PORT_BASE" && break
	PORT_BASE=$((PORT_BASE + 100))
done
ports_free "$PORT_BASE" || die "no free ports found from BENCH_PORT_BASE upwards"
ETCD_PORT=$PORT_BASE
CETCD_PORT=$((PORT_BASE + 10))
CETCD_EXTRA=()
[ -n "$API_WORKERS" ] && CETCD_EXTRA=(--api-workers "$API_WORKERS")

note "starting etcd ($ETCD_BIN) on :$ETCD_PORT and cetcd ($CETCD_BIN) on :$CETCD_PORT, ulimit -n $(ulimit -n)"
start etcd "$ETCD_BIN" "$ETCD_PORT"
start cetcd "$CETCD_BIN" "$CETCD_PORT" "${CETCD_EXTRA[@]}"
ready etcd "$ETCD_PORT"
ready cetcd "$CETCD_PORT"

for name in etcd cetcd; do
	other=cetcd; [ "$name" = cetcd ] && other=etcd
	port=$ETCD_PORT; [ "$name" = cetcd ] && port=$CETCD_PORT
	note "$name: $WATCHERS watchers on $CONNS connections, $ROUNDS rounds ($other paused)"
	signal_tree STOP "${PID[$other]}"
	measure "$name" "$port"
	signal_tree CONT "${PID[$other]}"
	# let the server close 10,000 connections before the other one runs
	sleep 1
done

E=$WORK/etcd/watchfan.out
C=$WORK/cetcd/watchfan.out
echo
echo "## watch fan-out, cetcd vs etcd — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| metric | etcd | cetcd | ratio cetcd/etcd |"
echo "|---|---|---|---|"
row "write to last delivery, median of $ROUNDS rounds (ms)" \
	"$(field "$E" summary last_median_ms)" "$(field "$C" summary last_median_ms)"
row "write to last delivery, max of $ROUNDS rounds (ms)" \
	"$(field "$E" summary last_max_ms)" "$(field "$C" summary last_max_ms)"
row "write to median watcher's delivery, median of rounds (ms)" \
	"$(field "$E" summary p50_median_ms)" "$(field "$C" summary p50_median_ms)"
row "put latency during fan-out, median (ms)" \
	"$(field "$E" summary put_median_ms)" "$(field "$C" summary put_median_ms)"
row "time to create every watcher (ms)" \
	"$(field "$E" setup ms)" "$(field "$C" setup ms)"
row "PSS with the watchers open, all processes together (MiB)" \
	"$(mib "${PSS[etcd]}")" "$(mib "${PSS[cetcd]}")"
echo
machine_line
echo "- etcd: $ETCD_BIN ($(bin_version "$ETCD_BIN")), 1 process"
echo "- cetcd: $CETCD_BIN ($(bin_version "$CETCD_BIN")), ${PROCS[cetcd]} processes"
echo "- load: watchfan, $WATCHERS watchers on one key, $CONNS connections ($PER_CONN watcher(s) each), one warm-up round then $ROUNDS rounds ${INTERVAL} ms apart, the other server paused (SIGSTOP) while one is measured"
echo "- command: FANOUT_WATCHERS=$WATCHERS FANOUT_PER_CONN=$PER_CONN FANOUT_ROUNDS=$ROUNDS FANOUT_INTERVAL_MS=$INTERVAL${API_WORKERS:+ CETCD_API_WORKERS=$API_WORKERS} CETCD_BIN=$CETCD_BIN ETCD_BIN=$ETCD_BIN $CMDLINE"
