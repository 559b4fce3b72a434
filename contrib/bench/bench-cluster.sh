#!/bin/bash
# bench-cluster.sh: a three-member etcd 3.4 cluster and a three-member cetcd
# cluster side by side on loopback, measured in one run with the same
# workload; prints a markdown table with the ratio cetcd/etcd. As in
# bench.sh, only the ratios mean anything: all six members and the load
# generator share the machine.
#
# Measured, for each implementation in turn (the other cluster paused with
# SIGSTOP meanwhile, so its background work cannot take the shared CPUs):
#   - v2 PUT throughput and p99 latency (wrk + put.lua: unique keys,
#     256-byte values, 32 connections) sent to the leader, then sent to a
#     follower (which forwards each proposal to the leader);
#   - leader failover: SIGKILL of the leader's process group, then the
#     time until a v2 PUT through a surviving member succeeds again; a new
#     PUT is started every BENCH_POLL_INTERVAL seconds, each with a 1 s
#     timeout, and the first answer that succeeds ends the clock. The
#     killed member is restarted on its data dir and the cluster must be
#     whole and healthy again before the next repetition. Median and max of
#     BENCH_FAILOVER_REPS repetitions.
#
# Members are found healthy when every one answers /v2/stats/self, exactly
# one says "StateLeader", the others name it in leaderInfo.leader, each
# lists three members in /v2/members and a write through each succeeds.
# Every wait is bounded: a cluster that does not form (or does not recover)
# stops the run with a message naming the members' view and their logs.
#
# Environment:
#   CETCD_BIN            cetcd binary (default ./cetcd); /usr/bin/etcd works
#                        too, which benchmarks etcd against itself
#   ETCD_BIN             reference etcd (default /usr/bin/etcd)
#   BENCH_ONLY           "etcd" or "cetcd": start and measure only that
#                        cluster (its column alone is filled in)
#   BENCH_SECONDS        duration of each PUT phase (default 10)
#   BENCH_CONNECTIONS    wrk connections (default 32)
#   BENCH_THREADS        wrk threads (default 2)
#   BENCH_VALUE_SIZE     PUT value size in bytes (default 256)
#   BENCH_FAILOVER_REPS  leader kills per implementation (default 5)
#   BENCH_POLL_INTERVAL  seconds between failover probes (default 0.05)
#   BENCH_FORM_TIMEOUT   seconds a cluster may take to be healthy, at start
#                        and after each restart (default 30)
#   BENCH_FAILOVER_LIMIT seconds to wait for a write after a kill (default 30)
#   BENCH_PORT_BASE      first port tried; ports in use are skipped; the
#                        default 23800 is below Linux's ephemeral range so
#                        that wrk's and curl's own connections never take
#                        a member's port (default 23800)
#   BENCH_KEEP=1         keep the temp dir (data dirs, logs, wrk output)
#
# Helpers shared with bench.sh are in common.sh, next to this script.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PROG=bench-cluster.sh
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

bench_settings 23800
ONLY=${BENCH_ONLY:-}
REPS=${BENCH_FAILOVER_REPS:-5}
POLL=${BENCH_POLL_INTERVAL:-0.05}
FORM_TIMEOUT=${BENCH_FORM_TIMEOUT:-30}
FAILOVER_LIMIT=${BENCH_FAILOVER_LIMIT:-30}
CMDLINE="$0 $*"
MEMBERS="cd0 cd1 cd2"

need_tools wrk curl ps awk ss setsid
for n in SECONDS_PER_PHASE CONNS THREADS VALUE_SIZE REPS FORM_TIMEOUT FAILOVER_LIMIT PORT_BASE; do
	[[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer (got '${!n}')"
done
[[ $POLL =~ ^[0-9]*[.]?[0-9]+$ ]] || die "BENCH_POLL_INTERVAL must be a number of seconds"
[ "$THREADS" -le "$CONNS" ] || die "BENCH_THREADS must not exceed BENCH_CONNECTIONS"
case $ONLY in
"") IMPLS=(etcd cetcd) ;;
etcd | cetcd) IMPLS=("$ONLY") ;;
*) die "BENCH_ONLY must be etcd or cetcd (got '$ONLY')" ;;
esac
declare -A BIN=([etcd]=$ETCD_BIN [cetcd]=$CETCD_BIN)
for impl in "${IMPLS[@]}"; do
	[ -x "${BIN[$impl]}" ] || die "$impl not found at ${BIN[$impl]} (set ${impl^^}_BIN)"
	BIN[$impl]=$(abs_bin "${BIN[$impl]}")
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-bench-cluster.XXXXXX")
bench_traps

# Ports: two per member, from PORT_BASE up, skipping any port a socket of
# any state uses now.
USED_PORTS=" $(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un | tr '\n' ' ') "
NEXT_PORT=$PORT_BASE
# alloc_port: sets PORT to the next free port (no subshell: NEXT_PORT moves).
alloc_port() {
	while [[ $USED_PORTS == *" $NEXT_PORT "* ]]; do
		NEXT_PORT=$((NEXT_PORT + 1))
	done
	[ "$NEXT_PORT" -le 65535 ] || die "no free port above BENCH_PORT_BASE=$PORT_BASE"
	PORT=$NEXT_PORT
	NEXT_PORT=$((NEXT_PORT + 1))
}

# Members are named cd0..cd2 in each cluster and keyed IMPL/NAME here.
declare -A CPORT=() PPORT=() ICLUSTER=()
for impl in "${IMPLS[@]}"; do
	ic=
	for m in $MEMBERS; do
		alloc_port; CPORT[$impl/$m]=$PORT
		alloc_port; PPORT[$impl/$m]=$PORT
		ic+="${ic:+,}$m=http://127.0.0.1:${PPORT[$impl/$m]}"
	done
	ICLUSTER[$impl]=$ic
done

keys_of() { local m; for m in $MEMBERS; do echo "$1/$m"; done; }
client_url() { echo "http://127.0.0.1:${CPORT[$1]}"; }

# start_member KEY: start (or restart, on the same data dir, where etcd and
# cetcd ignore the --initial-* flags) one member in its own session, so
# that its process group is the member: supervisor and workers for cetcd.
start_member() {
	local impl=${1%%/*} name=${1#*/} dir=$WORK/$1
	local c="http://127.0.0.1:${CPORT[$1]}" p="http://127.0.0.1:${PPORT[$1]}"
	mkdir -p "$dir"
	echo "=== $PROG: start $(date -u '+%H:%M:%S')" >>"$dir/server.log"
	setsid "${BIN[$impl]}" --name "$name" --enable-v2 --data-dir "$dir/data" \
		--listen-client-urls "$c" --advertise-client-urls "$c" \
		--listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
		--initial-cluster "${ICLUSTER[$impl]}" \
		--initial-cluster-token "bench-$impl" \
		--initial-cluster-state new >>"$dir/server.log" 2>&1 &
	PID[$1]=$!
	# No "Killed" job notice when the failover test kills it; the shell
	# still reaps it, so "kill -0" tells when it is gone.
	disown "$!"
}

# json_str FIELD JSON: the first string value of FIELD in JSON ("" if none).
json_str() {
	printf '%s' "$2" | grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4 || :
}

# find_leader IMPL: sets LEADER (key) and VIEW (what each member says,
# for messages); fails unless every member answers, exactly one is
# "StateLeader" and every member names it as leader.
find_leader() {
	local key js id state lead leads="" leaders=()
	VIEW='' LEADER=''
	for key in $(keys_of "$1"); do
		js=$(curl -sf -m 1 "$(client_url "$key")/v2/stats/self" || :)
		id=$(json_str id "$js"); state=$(json_str state "$js")
		lead=$(json_str leader "$js")
		VIEW+="${VIEW:+, }${key#*/}=${state:-no answer}${lead:+ (leader $lead)}"
		[ -n "$js" ] || return 1
		[ "$state" = StateLeader ] && leaders+=("$key:$id")
		leads+=" $lead"
	done
	[ "${#leaders[@]}" = 1 ] || return 1
	id=${leaders[0]#*:}
	for lead in $leads; do
		[ "$lead" = "$id" ] || return 1
	done
	LEADER=${leaders[0]%%:*}
}

# members_listed IMPL: each member's /v2/members lists the three members.
members_listed() {
	local key n
	for key in $(keys_of "$1"); do
		n=$(curl -sf -m 1 "$(client_url "$key")/v2/members" | grep -o '"id":' | wc -l || :)
		[ "$n" = 3 ] || { VIEW+="; ${key#*/} lists ${n:-no} members"; return 1; }
	done
}

# writes_ok IMPL: a v2 PUT through each member succeeds.
writes_ok() {
	local key
	for key in $(keys_of "$1"); do
		curl -sf -m 2 -o /dev/null -X PUT "$(client_url "$key")/v2/keys/bench/ready" \
			-d value="${key#*/}" || { VIEW+="; a write through ${key#*/} failed"; return 1; }
	done
}

# wait_cluster IMPL WHEN: wait (at most FORM_TIMEOUT s) until the cluster
# is whole and healthy (see the top); sets LEADER.
wait_cluster() {
	local impl=$1 when=$2 key deadline=$((SECONDS + FORM_TIMEOUT))
	while :; do
		for key in $(keys_of "$impl"); do
			kill -0 "${PID[$key]}" 2>/dev/null ||
				die "$impl member ${key#*/} exited $when; see $WORK/$key/server.log"
		done
		find_leader "$impl" && members_listed "$impl" && writes_ok "$impl" && return 0
		[ "$SECONDS" -lt "$deadline" ] || {
			[ "$impl" = cetcd ] && [ -z "$ONLY" ] && VIEW+="; BENCH_ONLY=etcd measures etcd alone"
			die "$impl did not form a healthy 3-member cluster within ${FORM_TIMEOUT}s $when (${VIEW:-no view}); logs: $WORK/$impl/cd*/server.log"
		}
		sleep 0.2
	done
}

# pause_others IMPL / resume_others IMPL: SIGSTOP / SIGCONT every member
# of the other cluster.
signal_others() {
	local impl key
	for impl in "${IMPLS[@]}"; do
		[ "$impl" = "$2" ] && continue
		for key in $(keys_of "$impl"); do
			signal_tree "$1" "${PID[$key]}"
		done
	done
}
pause_others() { signal_others STOP "$1"; }
resume_others() { signal_others CONT "$1"; }

# follower_of IMPL: the first member (by name) that is not LEADER.
follower_of() {
	local key
	for key in $(keys_of "$1"); do
		[ "$key" != "$LEADER" ] && { echo "$key"; return; }
	done
}

now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# failover_once IMPL REP: kill the leader, time the first successful write
# through a survivor (FAILOVER_MS), restart the killed member.
failover_once() {
	local impl=$1 rep=$2 victim survivor url t0 i=0 dir first f pollers=()
	wait_cluster "$impl" "before failover $rep"
	victim=$LEADER
	survivor=$(follower_of "$impl")
	url=$(client_url "$survivor")
	dir=$WORK/$impl/failover-$rep
	mkdir -p "$dir"
	t0=$(now_us)
	kill -KILL -- "-${PID[$victim]}" 2>/dev/null || :
	signal_tree KILL "${PID[$victim]}"
	while :; do
		i=$((i + 1))
		(curl -sf -m 1 -o /dev/null -X PUT "$url/v2/keys/bench/failover" \
			-d "value=$rep-$i" && now_us >"$dir/ok.$i") &
		pollers+=($!)
		sleep "$POLL"
		for f in "$dir"/ok.*; do
			[ -e "$f" ] && break 2
		done
		if [ $(($(now_us) - t0)) -gt $((FAILOVER_LIMIT * 1000000)) ]; then
			wait "${pollers[@]}" 2>/dev/null || :
			die "$impl: no write through ${survivor#*/} succeeded within ${FAILOVER_LIMIT}s after killing leader ${victim#*/} (failover $rep); logs: $WORK/$impl/cd*/server.log"
		fi
	done
	wait "${pollers[@]}" 2>/dev/null || :
	first=$(cat "$dir"/ok.* | sort -n | head -1)
	FAILOVER_MS=$(((first - t0 + 500) / 1000))
	for i in $(seq 1 100); do
		kill -0 "${PID[$victim]}" 2>/dev/null || break
		sleep 0.05
	done
	note "$impl failover $rep: killed leader ${victim#*/}, a write through ${survivor#*/} succeeded after ${FAILOVER_MS} ms"
	start_member "$victim"
}

# median_max "N N N...": prints "median max".
median_max() {
	# shellcheck disable=SC2086 # split the list into lines
	printf '%s\n' $1 | sort -n | awk '{ a[NR] = $1 }
		END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      print m, a[NR] }'
}

for impl in "${IMPLS[@]}"; do
	note "starting a 3-member $impl cluster (${BIN[$impl]}): ${ICLUSTER[$impl]}"
	for key in $(keys_of "$impl"); do
		start_member "$key"
	done
done
for impl in "${IMPLS[@]}"; do
	wait_cluster "$impl" "at startup"
	note "$impl cluster is up; leader ${LEADER#*/}"
done

# Warm-up: a short PUT load through the leader, the other cluster paused.
WARM=$((SECONDS_PER_PHASE < 2 ? 1 : 2))
for impl in "${IMPLS[@]}"; do
	pause_others "$impl"
	wait_cluster "$impl" "before the warm-up"
	note "warm-up $impl (${WARM}s PUT through the leader)"
	run_wrk "$WORK/$impl/warm.wrk" "$WARM" "$(client_url "$LEADER")" put.lua "$VALUE_SIZE" /v2/keys/bench/warm
	resume_others "$impl"
done

for target in leader follower; do
	for impl in "${IMPLS[@]}"; do
		pause_others "$impl"
		wait_cluster "$impl" "before the PUT phase ($target)"
		key=$LEADER
		[ "$target" = follower ] && key=$(follower_of "$impl")
		note "PUT $impl through the $target (${key#*/}): ${SECONDS_PER_PHASE}s, $CONNS connections (other cluster paused)"
		run_wrk "$WORK/$impl/put-$target.wrk" "$SECONDS_PER_PHASE" "$(client_url "$key")" \
			put.lua "$VALUE_SIZE" "/v2/keys/bench/put-$target"
		resume_others "$impl"
	done
done

declare -A FAILOVERS=()
for impl in "${IMPLS[@]}"; do
	pause_others "$impl"
	FAILOVERS[$impl]=
	for rep in $(seq 1 "$REPS"); do
		failover_once "$impl" "$rep"
		FAILOVERS[$impl]+="${FAILOVERS[$impl]:+ }$FAILOVER_MS"
	done
	wait_cluster "$impl" "after the last failover"
	resume_others "$impl"
done

# fig IMPL WHAT: one figure of IMPL, "-" when IMPL was not measured.
fig() {
	local impl=$1 w=$WORK/$1
	[ -n "${FAILOVERS[$impl]+set}" ] || { echo -; return; }
	case $2 in
	rps-*) wrk_rps "$w/put-${2#rps-}.wrk" ;;
	p99-*) wrk_p99_ms "$w/put-${2#p99-}.wrk" ;;
	errors) echo $(($(wrk_errors "$w/put-leader.wrk") + $(wrk_errors "$w/put-follower.wrk"))) ;;
	fo-median) median_max "${FAILOVERS[$impl]}" | awk '{ print $1 }' ;;
	fo-max) median_max "${FAILOVERS[$impl]}" | awk '{ print $2 }' ;;
	esac
}
both() { row "$1" "$(fig etcd "$2")" "$(fig cetcd "$2")"; }
version_of() {
	if [ -n "${FAILOVERS[$1]+set}" ]; then
		echo "${BIN[$1]} ($(bin_version "${BIN[$1]}"))"
	else
		echo "not measured (BENCH_ONLY=$ONLY)"
	fi
}

echo
echo "## 3-member clusters: cetcd vs etcd — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| metric | etcd | cetcd | ratio cetcd/etcd |"
echo "|---|---|---|---|"
both "v2 PUT throughput through the leader (req/s, ${VALUE_SIZE} B values, $CONNS conns)" rps-leader
both "v2 PUT latency p99 through the leader (ms)" p99-leader
both "v2 PUT throughput through a follower (req/s)" rps-follower
both "v2 PUT latency p99 through a follower (ms)" p99-follower
both "leader failover, median of $REPS (ms until a write through a survivor succeeds)" fo-median
both "leader failover, max of $REPS (ms)" fo-max
echo "| failed requests (non-2xx + socket errors, both PUT phases) | $(fig etcd errors) | $(fig cetcd errors) | - |"
echo
machine_line
echo "- etcd: $(version_of etcd)"
echo "- cetcd: $(version_of cetcd)"
echo "- clusters: 3 members each on loopback, static bootstrap (--initial-cluster), default --heartbeat-interval 100 / --election-timeout 1000, v2 API (--enable-v2)"
echo "- load: $(wrk_version), $THREADS threads, $CONNS connections, ${SECONDS_PER_PHASE}s per phase, the other cluster paused (SIGSTOP) while one is measured"
echo "- failover: SIGKILL of the leader's process group; a v2 PUT through a surviving member started every ${POLL}s (1 s timeout each) until one succeeds; the killed member restarted and the cluster healthy again before the next repetition; each run (ms): etcd: ${FAILOVERS[etcd]:--}; cetcd: ${FAILOVERS[cetcd]:--}"
echo "- command: BENCH_ONLY=$ONLY BENCH_SECONDS=$SECONDS_PER_PHASE BENCH_CONNECTIONS=$CONNS BENCH_THREADS=$THREADS BENCH_VALUE_SIZE=$VALUE_SIZE BENCH_FAILOVER_REPS=$REPS BENCH_POLL_INTERVAL=$POLL CETCD_BIN=$CETCD_BIN ETCD_BIN=$ETCD_BIN $CMDLINE"
