#!/bin/bash
# bench-proxy.sh: Debian's etcd 3.4 proxy and cetcd's proxy side by side in
# front of the SAME one-member cluster (a cetcd member, so that both proxies
# see the same backend at the same moment), driven by the same wrk workload
# in one run; prints a markdown table with the ratio cetcd/etcd.
#
# Workload, each through each proxy with the other proxy paused (SIGSTOP):
# v2 GET of one key, v2 PUT of unique keys (256-byte values), v3 gateway
# range (linearizable); 32 connections. Also the proxies' memory (PSS of
# the whole process tree) idle and after the load, and the backend reached
# directly, for the proxies' overhead. The backend takes no snapshot
# during the run (--snapshot-count), so its periodic snapshot pause cannot
# land in one proxy's PUT phase and not the other's.
#
# Environment: CETCD_BIN (default ./cetcd), ETCD_BIN (/usr/bin/etcd),
# BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
# BENCH_VALUE_SIZE (256), BENCH_PORT_BASE (43379), BENCH_KEEP=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CMDLINE="$0 $*"

PROG=bench-proxy.sh
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

bench_settings 43379
need_tools wrk curl ps awk
bench_check_bins

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-bench-proxy.XXXXXX")
bench_traps

BACKEND=$PORT_BASE            # client port; peer port +1
ETCD_PROXY=$((PORT_BASE + 10))
CETCD_PROXY=$((PORT_BASE + 20))
PEER="http://127.0.0.1:$((BACKEND + 1))"

mkdir -p "$WORK/backend" "$WORK/etcd" "$WORK/cetcd"
"$CETCD_BIN" --name backend --data-dir "$WORK/backend/data" \
	--listen-client-urls "http://127.0.0.1:$BACKEND" \
	--advertise-client-urls "http://127.0.0.1:$BACKEND" \
	--listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" \
	--initial-cluster "backend=$PEER" --snapshot-count 100000000 \
	>"$WORK/backend/server.log" 2>&1 &
PID[backend]=$!

# proxy NAME BIN PORT: a proxy on PORT in front of the backend.
proxy() {
	"$2" --name "$1-proxy" --proxy on --data-dir "$WORK/$1/data" \
		--listen-client-urls "http://127.0.0.1:$3" \
		--initial-cluster "backend=$PEER" >"$WORK/$1/server.log" 2>&1 &
	PID[$1]=$!
}

note "backend (cetcd) on :$BACKEND, etcd proxy on :$ETCD_PROXY, cetcd proxy on :$CETCD_PROXY"
ready backend "$BACKEND"
proxy etcd "$ETCD_BIN" "$ETCD_PROXY"
proxy cetcd "$CETCD_BIN" "$CETCD_PROXY"
ready etcd "$ETCD_PROXY"
ready cetcd "$CETCD_PROXY"

WARM=$(( SECONDS_PER_PHASE < 2 ? 1 : 2 ))
for name in etcd cetcd; do
	port=$ETCD_PROXY; [ "$name" = cetcd ] && port=$CETCD_PROXY
	note "warm-up $name proxy"
	load "$name" "$port" warm-get "$WARM" get.lua /v2/keys/bench/get
done
sleep 2
declare -A IDLE_PSS=() LOAD_PSS=()
for name in etcd cetcd; do
	IDLE_PSS[$name]=$(pss_tree "${PID[$name]}")
done

for phase in get put v3range; do
	for name in etcd cetcd backend; do
		port=$BACKEND
		[ "$name" = etcd ] && port=$ETCD_PROXY
		[ "$name" = cetcd ] && port=$CETCD_PROXY
		note "$phase via $name: ${SECONDS_PER_PHASE}s, $CONNS connections"
		for other in etcd cetcd; do
			[ "$other" = "$name" ] || signal_tree STOP "${PID[$other]}"
		done
		case $phase in
		get) load "$name" "$port" get "$SECONDS_PER_PHASE" get.lua /v2/keys/bench/get ;;
		put) load "$name" "$port" put "$SECONDS_PER_PHASE" put.lua "$VALUE_SIZE" "/v2/keys/bench/$name" ;;
		v3range) load "$name" "$port" v3range "$SECONDS_PER_PHASE" v3range.lua ;;
		esac
		for other in etcd cetcd; do
			[ "$other" = "$name" ] || signal_tree CONT "${PID[$other]}"
		done
	done
done
for name in etcd cetcd; do
	LOAD_PSS[$name]=$(pss_tree "${PID[$name]}")
done

W=$WORK
echo
echo "## cetcd proxy vs etcd proxy, same backend — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| metric | etcd proxy | cetcd proxy | ratio cetcd/etcd | backend direct |"
echo "|---|---|---|---|---|"
# rowb LABEL FILE-KIND FN: a row with the backend figure appended
rowb() {
	local r
	r=$(row "$1" "$($3 "$W/etcd/$2.wrk")" "$($3 "$W/cetcd/$2.wrk")")
	echo "$r $($3 "$W/backend/$2.wrk") |"
}
rowb "v2 GET throughput (req/s, $CONNS conns)" get wrk_rps
rowb "v2 GET latency p99 (ms)" get wrk_p99_ms
rowb "v2 PUT throughput (req/s, ${VALUE_SIZE} B values)" put wrk_rps
rowb "v2 PUT latency p99 (ms)" put wrk_p99_ms
rowb "v3 gateway range throughput (req/s)" v3range wrk_rps
rowb "v3 gateway range latency p99 (ms)" v3range wrk_p99_ms
echo "$(row "proxy PSS idle after warm-up (MiB)" "$(mib "${IDLE_PSS[etcd]}")" "$(mib "${IDLE_PSS[cetcd]}")") - |"
echo "$(row "proxy PSS after the load (MiB)" "$(mib "${LOAD_PSS[etcd]}")" "$(mib "${LOAD_PSS[cetcd]}")") - |"
echo "| failed requests (non-2xx + socket errors) | $(( $(wrk_errors "$W/etcd/get.wrk") + $(wrk_errors "$W/etcd/put.wrk") + $(wrk_errors "$W/etcd/v3range.wrk") )) | $(( $(wrk_errors "$W/cetcd/get.wrk") + $(wrk_errors "$W/cetcd/put.wrk") + $(wrk_errors "$W/cetcd/v3range.wrk") )) | - | $(( $(wrk_errors "$W/backend/get.wrk") + $(wrk_errors "$W/backend/put.wrk") + $(wrk_errors "$W/backend/v3range.wrk") )) |"
echo
machine_line
echo "- etcd proxy: $ETCD_BIN ($(bin_version "$ETCD_BIN")); cetcd proxy and backend: $CETCD_BIN ($(bin_version "$CETCD_BIN"))"
echo "- load: $(wrk_version), $THREADS threads, $CONNS connections, ${SECONDS_PER_PHASE}s per phase, the other proxy paused (SIGSTOP) while one is measured"
echo "- command: BENCH_SECONDS=$SECONDS_PER_PHASE BENCH_CONNECTIONS=$CONNS CETCD_BIN=$CETCD_BIN ETCD_BIN=$ETCD_BIN $CMDLINE"
