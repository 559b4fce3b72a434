#!/bin/bash
# bench.sh: run Debian's etcd 3.4 and cetcd side by side on the same machine,
# drive both with the same wrk workload in one run, and print a markdown
# table of the results with the ratio cetcd/etcd. Ratios, not absolute
# numbers, are the point: both servers share the machine, the load generator
# and the moment.
#
# Workload: v2 PUT of unique keys with 256-byte values, v2 GET of one existing
# key, both with 32 connections; the resident memory (RSS) of each server's
# whole process tree (cetcd: supervisor + workers; etcd: one process) when
# idle after a warm-up, and again after the load.
#
# Environment:
#   CETCD_BIN          cetcd binary (default ./cetcd); /usr/bin/etcd works too,
#                      which benchmarks etcd against itself (a sanity check)
#   ETCD_BIN           reference etcd (default /usr/bin/etcd)
#   BENCH_SECONDS      duration of each load phase (default 10)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_VALUE_SIZE   PUT value size in bytes (default 256)
#   BENCH_PORT_BASE    etcd uses BASE+0/+1, cetcd BASE+10/+11 (default 42379)
#   BENCH_KEEP=1       keep the temp dir (data dirs, server logs, wrk output)
#
# Helpers shared with bench-cluster.sh (three-member clusters, failover)
# are in common.sh, which must stay next to this script.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CMDLINE="$0 $*"

PROG=bench.sh
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

bench_settings 42379
need_tools wrk curl ps awk
bench_check_bins

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-bench.XXXXXX")
bench_traps

# start NAME BIN PORT: start a one-member cluster with client port PORT and
# peer port PORT+1, with etcd's own flags (cetcd accepts the same).
start() {
	local name=$1 bin=$2 client="http://127.0.0.1:$3" peer="http://127.0.0.1:$(($3 + 1))"
	mkdir -p "$WORK/$name"
	"$bin" --name "$name" --enable-v2 --data-dir "$WORK/$name/data" \
		--listen-client-urls "$client" --advertise-client-urls "$client" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$name=$peer" >"$WORK/$name/server.log" 2>&1 &
	PID[$name]=$!
}

ETCD_PORT=$PORT_BASE
CETCD_PORT=$((PORT_BASE + 10))

note "starting etcd ($ETCD_BIN) on :$ETCD_PORT and cetcd ($CETCD_BIN) on :$CETCD_PORT"
start etcd "$ETCD_BIN" "$ETCD_PORT"
start cetcd "$CETCD_BIN" "$CETCD_PORT"
ready etcd "$ETCD_PORT"
ready cetcd "$CETCD_PORT"

# Warm-up: a short mixed load touches the code paths and allocators, so the
# idle figure is a running server's, not a freshly exec'd one's.
WARM=$(( SECONDS_PER_PHASE < 2 ? 1 : 2 ))
for name in etcd cetcd; do
	port=$ETCD_PORT; [ "$name" = cetcd ] && port=$CETCD_PORT
	note "warm-up $name (${WARM}s PUT + ${WARM}s GET)"
	load "$name" "$port" warm-put "$WARM" put.lua "$VALUE_SIZE" /v2/keys/bench/warm
	load "$name" "$port" warm-get "$WARM" get.lua /v2/keys/bench/get
done
sleep 3
declare -A IDLE_RSS=() LOAD_RSS=() IDLE_PSS=()
for name in etcd cetcd; do
	IDLE_RSS[$name]=$(rss_tree "${PID[$name]}")
	IDLE_PSS[$name]=$(pss_tree "${PID[$name]}")
	note "$name idle: $(descendants "${PID[$name]}" | wc -l) process(es), ${IDLE_RSS[$name]} KiB RSS"
done

# While one server is measured the other is stopped (SIGSTOP), so work it
# does in the background after its own load (etcd's garbage collection
# and compaction, cetcd's checkpoints) cannot take the shared CPUs from
# the one under test; both get the same treatment.
for phase in put get v3put v3range; do
	for name in etcd cetcd; do
		other=cetcd; [ "$name" = cetcd ] && other=etcd
		port=$ETCD_PORT; [ "$name" = cetcd ] && port=$CETCD_PORT
		note "$phase $name: ${SECONDS_PER_PHASE}s, $CONNS connections ($other paused)"
		signal_tree STOP "${PID[$other]}"
		case $phase in
		put) load "$name" "$port" put "$SECONDS_PER_PHASE" put.lua "$VALUE_SIZE" /v2/keys/bench/put ;;
		get) load "$name" "$port" get "$SECONDS_PER_PHASE" get.lua /v2/keys/bench/get ;;
		v3put) load "$name" "$port" v3put "$SECONDS_PER_PHASE" v3put.lua "$VALUE_SIZE" ;;
		v3range) load "$name" "$port" v3range "$SECONDS_PER_PHASE" v3range.lua ;;
		esac
		signal_tree CONT "${PID[$other]}"
	done
done
for name in etcd cetcd; do
	LOAD_RSS[$name]=$(rss_tree "${PID[$name]}")
done

W=$WORK
echo
echo "## cetcd vs etcd — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| metric | etcd | cetcd | ratio cetcd/etcd |"
echo "|---|---|---|---|"
row "v2 PUT throughput (req/s, ${VALUE_SIZE} B values, $CONNS conns)" \
	"$(wrk_rps "$W/etcd/put.wrk")" "$(wrk_rps "$W/cetcd/put.wrk")"
row "v2 PUT latency p99 (ms)" \
	"$(wrk_p99_ms "$W/etcd/put.wrk")" "$(wrk_p99_ms "$W/cetcd/put.wrk")"
row "v2 GET throughput (req/s, $CONNS conns)" \
	"$(wrk_rps "$W/etcd/get.wrk")" "$(wrk_rps "$W/cetcd/get.wrk")"
row "v2 GET latency p99 (ms)" \
	"$(wrk_p99_ms "$W/etcd/get.wrk")" "$(wrk_p99_ms "$W/cetcd/get.wrk")"
row "v3 gateway put throughput (req/s, /v3/kv/put)" \
	"$(wrk_rps "$W/etcd/v3put.wrk")" "$(wrk_rps "$W/cetcd/v3put.wrk")"
row "v3 gateway put latency p99 (ms)" \
	"$(wrk_p99_ms "$W/etcd/v3put.wrk")" "$(wrk_p99_ms "$W/cetcd/v3put.wrk")"
row "v3 gateway range throughput (req/s, /v3/kv/range, linearizable)" \
	"$(wrk_rps "$W/etcd/v3range.wrk")" "$(wrk_rps "$W/cetcd/v3range.wrk")"
row "v3 gateway range latency p99 (ms)" \
	"$(wrk_p99_ms "$W/etcd/v3range.wrk")" "$(wrk_p99_ms "$W/cetcd/v3range.wrk")"
row "idle RSS after warm-up, all processes (MiB)" \
	"$(mib "${IDLE_RSS[etcd]}")" "$(mib "${IDLE_RSS[cetcd]}")"
row "idle PSS after warm-up, all processes together (MiB)" \
	"$(mib "${IDLE_PSS[etcd]}")" "$(mib "${IDLE_PSS[cetcd]}")"
row "RSS after load, all processes (MiB)" \
	"$(mib "${LOAD_RSS[etcd]}")" "$(mib "${LOAD_RSS[cetcd]}")"
echo "| failed requests (non-2xx + socket errors, all phases) | $(( $(wrk_errors "$W/etcd/put.wrk") + $(wrk_errors "$W/etcd/get.wrk") + $(wrk_errors "$W/etcd/v3put.wrk") + $(wrk_errors "$W/etcd/v3range.wrk") )) | $(( $(wrk_errors "$W/cetcd/put.wrk") + $(wrk_errors "$W/cetcd/get.wrk") + $(wrk_errors "$W/cetcd/v3put.wrk") + $(wrk_errors "$W/cetcd/v3range.wrk") )) | - |"
echo
machine_line
echo "- etcd: $ETCD_BIN ($("$ETCD_BIN" --version 2>/dev/null | head -1))"
echo "- cetcd: $CETCD_BIN ($("$CETCD_BIN" --version 2>/dev/null | head -1 || :))"
echo "- load: $(wrk_version), $THREADS threads, $CONNS connections, ${SECONDS_PER_PHASE}s per phase, the other server paused (SIGSTOP) while one is measured"
echo "- command: BENCH_SECONDS=$SECONDS_PER_PHASE BENCH_CONNECTIONS=$CONNS BENCH_THREADS=$THREADS BENCH_VALUE_SIZE=$VALUE_SIZE CETCD_BIN=$CETCD_BIN ETCD_BIN=$ETCD_BIN $CMDLINE"
