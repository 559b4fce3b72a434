#!/bin/sh
# lock.sh: a distributed mutex from one key (etcd v2 API).
# Acquire = create the key only if absent (prevExist=false) with a TTL, so a
# crashed holder's lock frees itself; the value names the owner. A second
# acquirer gets errorCode 105 (Key already exists) and must wait or retry.
# The holder refreshes the TTL and finally releases with a compare-and-delete
# on its own value, so it can never delete a lock someone else now holds.
#
# Variables: ETCD_ENDPOINT (default http://127.0.0.1:2379), LOCK_KEY
# (default /locks/mylock), LOCK_TTL seconds (default 30).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

LOCK=${LOCK_KEY:-/locks/mylock}
TTL=${LOCK_TTL:-30}
ME="owner-A-$$"
OTHER="owner-B-$$"

require_absent "$LOCK"
at_exit "quiet_api DELETE '$LOCK'; quiet_api DELETE '${LOCK%/*}?dir=true'"

say "$ME acquires $LOCK (prevExist=false, ttl=$TTL)"
api PUT "$LOCK?prevExist=false" -d value="$ME" -d ttl="$TTL"
expect_status 201
expect_field action create

say "$OTHER tries to acquire the same lock"
api PUT "$LOCK?prevExist=false" -d value="$OTHER" -d ttl="$TTL"
expect_status 412
expect_error 105
say "$OTHER is refused: errorCode 105 ($(json_get message))"

say "$ME refreshes its lease (refresh=true, prevValue=$ME)"
api PUT "$LOCK" -d ttl="$TTL" -d refresh=true -d prevValue="$ME"
expect_status 200
expect_field action compareAndSwap
expect_field value "$ME"

say "$OTHER cannot refresh or release a lock it does not hold"
api PUT "$LOCK" -d ttl="$TTL" -d refresh=true -d prevValue="$OTHER"
expect_status 412
expect_error 101
api DELETE "$LOCK?prevValue=$OTHER"
expect_status 412
expect_error 101

say "$ME releases $LOCK (compare-and-delete on prevValue=$ME)"
api DELETE "$LOCK?prevValue=$ME"
expect_status 200
expect_field action compareAndDelete

say "$OTHER acquires the now free lock"
api PUT "$LOCK?prevExist=false" -d value="$OTHER" -d ttl="$TTL"
expect_status 201
api DELETE "$LOCK?prevValue=$OTHER"
expect_status 200
say "OK"
