#!/bin/sh
# cas.sh: optimistic concurrency with compare-and-swap (etcd v2 API).
# A writer reads a value, computes the new one and writes it only if nobody
# changed it meanwhile: prevValue compares the value, prevIndex compares the
# key's modifiedIndex. A lost race answers HTTP 412 with errorCode 101
# (Compare failed); the writer re-reads and retries.
#
# Variables: ETCD_ENDPOINT (default http://127.0.0.1:2379), CAS_KEY
# (default /cas/counter).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

KEY=${CAS_KEY:-/cas/counter}

require_absent "$KEY"
at_exit "quiet_api DELETE '$KEY'; quiet_api DELETE '${KEY%/*}?dir=true'"

api PUT "$KEY" -d value=1
expect_status 201
IDX1=$(json_get modifiedIndex)
say "created $KEY = 1 (modifiedIndex $IDX1)"

say "swap 1 -> 2 with prevValue=1"
api PUT "$KEY?prevValue=1" -d value=2
expect_status 200
expect_field action compareAndSwap
expect_field value 2
IDX2=$(json_get modifiedIndex)

say "a stale writer swaps 1 -> 3 with prevValue=1"
api PUT "$KEY?prevValue=1" -d value=3
expect_status 412
expect_error 101
expect_field cause "[1 != 2]"
say "refused: $BODY"

say "a stale writer swaps with prevIndex=$IDX1 (the key is now at $IDX2)"
api PUT "$KEY?prevIndex=$IDX1" -d value=3
expect_status 412
expect_error 101
expect_field cause "[$IDX1 != $IDX2]"
say "refused: $BODY"

say "re-read, then swap 2 -> 3 with prevIndex=$IDX2"
api PUT "$KEY?prevIndex=$IDX2" -d value=3
expect_status 200
expect_field action compareAndSwap
expect_field value 3

say "a compare on a missing key is errorCode 100, not 101"
api PUT "$KEY-missing?prevValue=1" -d value=2
expect_status 404
expect_error 100

api GET "$KEY"
expect_field value 3
say "OK"
