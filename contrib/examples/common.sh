# shellcheck shell=sh
# common.sh: helpers shared by the cetcd/etcd v2 example scripts in this
# folder (sourced, not run). Only POSIX sh, curl, awk and sed are needed.
#
# Every example talks to ${ETCD_ENDPOINT:-http://127.0.0.1:2379}, checks each
# answer it gets (status code, action, errorCode, values) and exits non-zero
# on the first surprise, so the scripts double as smoke tests.

EP=${ETCD_ENDPOINT:-http://127.0.0.1:2379}
EP=${EP%/}
EX_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cetcd-example.XXXXXX") || exit 1
EX_NAME=$(basename "$0")
EX_CLEANUP=""

# Registered cleanup commands run on every exit (success, failure, ^C) so the
# examples never leave their keys behind.
ex_on_exit() {
	rc=$?
	trap - EXIT INT TERM
	if [ -n "$EX_CLEANUP" ]; then
		eval "$EX_CLEANUP"
	fi
	rm -rf "$EX_TMP"
	exit "$rc"
}
trap ex_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# at_exit CMD: run CMD (a shell string) at exit, most recent first.
at_exit() { EX_CLEANUP="$1; $EX_CLEANUP"; }

say() { printf '%s: %s\n' "$EX_NAME" "$*"; }
die() {
	printf '%s: FAIL: %s\n' "$EX_NAME" "$*" >&2
	[ -n "${BODY:-}" ] && printf '%s: last answer (%s): %s\n' "$EX_NAME" "${STATUS:-?}" "$BODY" >&2
	exit 1
}

# api METHOD PATH [curl args...]: one request to /v2/keys PATH.
# Sets STATUS (HTTP code), BODY (JSON answer) and ETCD_INDEX (X-Etcd-Index).
api() {
	method=$1 path=$2
	shift 2
	STATUS=$(curl -sS -m 30 -o "$EX_TMP/body" -D "$EX_TMP/headers" \
		-w '%{http_code}' -X "$method" "$EP/v2/keys$path" "$@") ||
		die "curl $method $EP/v2/keys$path failed (is the server up?)"
	BODY=$(cat "$EX_TMP/body")
	# shellcheck disable=SC2034 # read by the scripts that source this file
	ETCD_INDEX=$(tr -d '\r' <"$EX_TMP/headers" |
		awk 'tolower($1) == "x-etcd-index:" { print $2 }')
}

# quiet_api: like api, but for cleanup: never fails the script.
quiet_api() {
	curl -s -m 10 -o /dev/null -X "$1" "$EP/v2/keys$2" || :
}

# json_get NAME [TEXT]: value of the first "NAME": in TEXT (default BODY), as
# a string without quotes or a bare number/boolean. etcd prints "node" before
# "prevNode", so the first match is the current node's field. Escaped quotes
# inside string values are kept escaped; the examples never use them.
json_get() {
	printf '%s' "${2-$BODY}" | awk -v k="\"$1\":" '
		{ buf = buf $0 }
		END {
			i = index(buf, k); if (i == 0) exit 1
			s = substr(buf, i + length(k))
			if (substr(s, 1, 1) == "\"") {
				s = substr(s, 2); out = ""
				while (length(s) > 0) {
					c = substr(s, 1, 1)
					if (c == "\\") { out = out substr(s, 1, 2); s = substr(s, 3); continue }
					if (c == "\"") break
					out = out c; s = substr(s, 2)
				}
				print out
			} else {
				match(s, /^[^,}\]]*/); print substr(s, 1, RLENGTH)
			}
		}'
}

# expect_status CODE: the last answer had HTTP status CODE.
expect_status() {
	[ "$STATUS" = "$1" ] || die "expected HTTP $1, got $STATUS"
}

# expect_field NAME VALUE: the last answer's first NAME is VALUE.
expect_field() {
	got=$(json_get "$1") || die "answer has no \"$1\""
	[ "$got" = "$2" ] || die "expected $1=$2, got $1=$got"
}

# expect_error CODE: the last answer is an etcd error with errorCode CODE.
expect_error() {
	expect_field errorCode "$1"
}

# require_absent PATH: refuse to run over keys the user already has.
require_absent() {
	api GET "$1"
	[ "$STATUS" = 404 ] ||
		die "$1 already exists on $EP; remove it or pick another key (see the variables at the top of $EX_NAME)"
}
