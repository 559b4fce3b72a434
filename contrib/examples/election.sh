#!/bin/sh
# election.sh: leader election with a TTL'd key (etcd v2 API).
# Every candidate tries to create the leader key with prevExist=false and a
# TTL; one wins (201), the others get errorCode 105 and become followers that
# watch the key. The leader keeps the key alive with refreshes; when it
# resigns (compare-and-delete) or dies (the TTL expires), the followers'
# watch fires and they run the election again.
#
# Variables: ETCD_ENDPOINT (default http://127.0.0.1:2379), ELECTION_KEY
# (default /election/leader), LEADER_TTL seconds (default 5),
# ELECTION_EXPIRE=1 to let the leader "crash" (TTL expiry) instead of resign.
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

KEY=${ELECTION_KEY:-/election/leader}
TTL=${LEADER_TTL:-5}
EXPIRE=${ELECTION_EXPIRE:-0}
A="node-a-$$"
B="node-b-$$"

require_absent "$KEY"
at_exit "quiet_api DELETE '$KEY'; quiet_api DELETE '${KEY%/*}?dir=true'"

say "$A campaigns"
api PUT "$KEY?prevExist=false" -d value="$A" -d ttl="$TTL"
expect_status 201
say "$A is leader"

say "$B campaigns"
api PUT "$KEY?prevExist=false" -d value="$B" -d ttl="$TTL"
expect_status 412
expect_error 105
# Watch from just after the index of the refusal, so no change is missed.
NEXT=$((ETCD_INDEX + 1))
say "$B lost (errorCode 105) and follows: watching $KEY from index $NEXT"
curl -sS -m $((TTL * 3 + 10)) -o "$EX_TMP/event" "$EP/v2/keys$KEY?wait=true&waitIndex=$NEXT" &
WATCH=$!
at_exit "kill $WATCH 2>/dev/null || :"

say "$A refreshes its term"
api PUT "$KEY" -d ttl="$TTL" -d refresh=true -d prevValue="$A"
expect_status 200
# A refresh is not an event for watchers, so the follower keeps waiting.

if [ "$EXPIRE" = 1 ]; then
	say "$A crashes: no more refreshes, the key expires within ${TTL}s"
	WANT=expire
else
	say "$A resigns (compare-and-delete on prevValue=$A)"
	api DELETE "$KEY?prevValue=$A"
	expect_status 200
	WANT=compareAndDelete
fi

wait "$WATCH" || die "follower's watch failed"
EVENT=$(cat "$EX_TMP/event")
say "$B saw: $EVENT"
[ "$(json_get action "$EVENT")" = "$WANT" ] || die "expected a $WANT event"

say "$B campaigns again"
api PUT "$KEY?prevExist=false" -d value="$B" -d ttl="$TTL"
expect_status 201
api GET "$KEY"
expect_field value "$B"
say "$B is leader"
api DELETE "$KEY?prevValue=$B"
expect_status 200
say "OK"
