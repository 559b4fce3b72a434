# shellcheck shell=bash
# common.sh: helpers shared by bench.sh (one member each),
# bench-cluster.sh (three-member clusters) and bench-proxy.sh (proxies). Sourced, never run; bash only.
#
# The sourcing script sets PROG (its name, for messages), WORK (its temp
# dir) and KEEP (1 = keep WORK on success), records every server it starts
# in PID[<name>] (root pid), and calls bench_traps once. On exit every
# server in PID is stopped, by pid and process group, paused or not.

declare -gA PID=()

# bench_settings PORT_BASE_DEFAULT: the settings every script shares, from
# the environment (see each script's header).
# shellcheck disable=SC2034 # used by the sourcing scripts
bench_settings() {
	CETCD_BIN=${CETCD_BIN:-./cetcd}
	ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
	SECONDS_PER_PHASE=${BENCH_SECONDS:-10}
	CONNS=${BENCH_CONNECTIONS:-32}
	THREADS=${BENCH_THREADS:-2}
	VALUE_SIZE=${BENCH_VALUE_SIZE:-256}
	PORT_BASE=${BENCH_PORT_BASE:-$1}
	KEEP=${BENCH_KEEP:-0}
}

# ready NAME PORT: wait until the server (or proxy) on PORT accepts a v2
# and a v3 write; they also create the keys the GET and range phases read.
ready() {
	local _ v
	v=$(printf '%*s' "$VALUE_SIZE" '' | tr ' ' g)
	for _ in $(seq 1 300); do
		kill -0 "${PID[$1]}" 2>/dev/null ||
			die "$1 exited during startup; see $WORK/$1/server.log"
		if curl -sf -m 2 -o /dev/null -X PUT "http://127.0.0.1:$2/v2/keys/bench/get" \
			-d value="$v" &&
			curl -sf -m 2 -o /dev/null "http://127.0.0.1:$2/v3/kv/put" \
				-d "{\"key\":\"djNnZXQ=\",\"value\":\"$(printf '%s' "$v" | base64 -w0)\"}"; then
			return 0
		fi
		sleep 0.1
	done
	die "$1 did not accept a write within 30 s; see $WORK/$1/server.log"
}

# load NAME PORT PHASE SECONDS SCRIPT ARGS...: one wrk run, output kept in
# $WORK/NAME/PHASE.wrk.
load() {
	local name=$1 port=$2 phase=$3 secs=$4 script=$5
	shift 5
	run_wrk "$WORK/$name/$phase.wrk" "$secs" "http://127.0.0.1:$port" "$script" "$@"
}

# bench_check_bins: both servers exist (cetcd's path made absolute) and
# the wrk settings make sense.
bench_check_bins() {
	[ -x "$ETCD_BIN" ] || die "reference etcd not found at $ETCD_BIN (set ETCD_BIN)"
	[ -x "$CETCD_BIN" ] || die "cetcd not found at $CETCD_BIN (set CETCD_BIN)"
	CETCD_BIN=$(abs_bin "$CETCD_BIN")
	[ "$THREADS" -le "$CONNS" ] || die "BENCH_THREADS must not exceed BENCH_CONNECTIONS"
}

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "$PROG: $*" >&2; }

# need_tools TOOL...: stop early, naming the first missing tool.
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool is required"
	done
}

# abs_bin PATH: PATH as an absolute path (checked executable first).
abs_bin() {
	echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

# descendants PID: PID and every process below it, from one ps snapshot.
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			keep[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (i in pids) {
					p = pids[i]
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
				}
			}
			for (p in keep) print p
		}'
}

# pss_tree PID: summed PSS in KiB of PID and its descendants. Summed RSS
# counts a page shared by several processes of the tree (cetcd's database
# cache, mapped by its storage and api workers) once per process; PSS
# splits each shared page among the processes that map it, so the sum is
# the memory the tree holds together.
pss_tree() {
	local pids
	pids=$(descendants "$1" | tr '\n' ' ')
	for p in $pids; do
		awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || :
	done | awk '{ s += $1 } END { print s + 0 }'
}

# rss_tree PID: summed RSS in KiB of PID and its descendants.
rss_tree() {
	local pids
	pids=$(descendants "$1" | paste -sd, -)
	ps -o rss= -p "$pids" | awk '{ s += $1 } END { print s + 0 }'
}

# signal_tree SIG PID: send SIG to PID, every process below it and, when
# PID leads a process group (bench-cluster.sh starts each member with
# setsid), to the whole group, which also reaches workers a killed
# supervisor left behind.
signal_tree() {
	local p
	for p in $(descendants "$2"); do
		kill "-$1" "$p" 2>/dev/null || :
	done
	if [ "$(ps -o pgid= -p "$2" 2>/dev/null | tr -d ' ')" = "$2" ]; then
		kill "-$1" -- "-$2" 2>/dev/null || :
	fi
}

# stop_servers: TERM every server in PID at once (cetcd's supervisor stops
# its workers), wait up to 10 s for all of them, then KILL what is left of
# each tree. A paused server is continued first so that it can stop.
stop_servers() {
	local name pid _
	declare -A tree=()
	for name in "${!PID[@]}"; do
		pid=${PID[$name]}
		kill -0 "$pid" 2>/dev/null || continue
		tree[$name]=$(descendants "$pid" | tr '\n' ' ')
		signal_tree CONT "$pid"
		kill -TERM "$pid" 2>/dev/null || :
	done
	for _ in $(seq 1 100); do
		local alive=0
		for name in "${!tree[@]}"; do
			kill -0 "${PID[$name]}" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for name in "${!tree[@]}"; do
		pid=${PID[$name]}
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL ${tree[$name]} 2>/dev/null || :
		signal_tree KILL "$pid"
		wait "$pid" 2>/dev/null || :
	done
}

# bench_cleanup: the EXIT trap. Keeps WORK when asked or on failure.
bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_servers
	if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then
		note "kept $WORK (server logs, data dirs, wrk output)"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}

bench_traps() {
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# run_wrk OUT SECONDS URL SCRIPT ARGS...: one wrk run of contrib/bench/SCRIPT
# with the BENCH_* connection settings; its output goes to OUT.
run_wrk() {
	local out=$1 secs=$2 url=$3 script=$4
	shift 4
	wrk -t "$THREADS" -c "$CONNS" -d "${secs}s" --latency -s "$HERE/$script" \
		"$url" -- "$@" >"$out" 2>&1 ||
		die "wrk failed against $url; see $out"
}

# wrk_rps FILE / wrk_p99_ms FILE / wrk_errors FILE: figures from wrk output.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
wrk_p99_ms() {
	awk '$1 == "99%" {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
		printf "%.2f\n", v * f }' "$1"
}
wrk_errors() {
	awk '/Non-2xx or 3xx responses:/ { e += $NF }
	     /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
	     END { print e + 0 }' "$1"
}

# row LABEL ETCD CETCD: one table line with the ratio cetcd/etcd; "-" when
# either figure is missing (not measured).
row() {
	awk -v l="$1" -v e="$2" -v c="$3" 'BEGIN {
		num = "^[0-9]+([.][0-9]+)?$"
		r = (e ~ num && c ~ num && e + 0 > 0) ? sprintf("%.2f", c / e) : "-"
		printf "| %s | %s | %s | %s |\n", l, e, c, r }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# bin_version BIN: first line of BIN --version ("-" if it has none).
bin_version() {
	local v
	v=$("$1" --version 2>/dev/null | head -1 || :)
	echo "${v:--}"
}

# machine_line: the "- machine:" footer line of both reports.
machine_line() {
	echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -srm)"
}
wrk_version() { wrk --version 2>&1 | head -1 | awk '{ print $1, $2 }'; }
