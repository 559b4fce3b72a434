#!/bin/sh
# pubsub.sh: publish/subscribe with a watch (etcd v2 API).
# A subscriber long-polls GET /v2/keys/config?wait=true; a publisher PUTs a
# new value; the subscriber's request returns with the change event.
# The subscriber passes waitIndex = (X-Etcd-Index of a prior read) + 1, so an
# update made between its read and the moment the watch is registered is
# still delivered: without waitIndex that update would be missed.
#
# Variables: ETCD_ENDPOINT (default http://127.0.0.1:2379), PUBSUB_KEY
# (default /config).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

KEY=${PUBSUB_KEY:-/config}
MSG="color=blue $(date +%s)"

require_absent "$KEY"
at_exit "quiet_api DELETE '$KEY'"
# The 404 answer above still carries the store's current index.
NEXT=$((ETCD_INDEX + 1))

say "subscriber: GET $KEY?wait=true&waitIndex=$NEXT (in the background)"
curl -sS -m 20 -o "$EX_TMP/event" "$EP/v2/keys$KEY?wait=true&waitIndex=$NEXT" &
SUB=$!
at_exit "kill $SUB 2>/dev/null || :"
sleep 1

say "publisher: PUT $KEY = $MSG"
api PUT "$KEY" -d value="$MSG"
expect_status 201
PUB_INDEX=$(json_get modifiedIndex)

wait "$SUB" || die "subscriber's watch failed"
EVENT=$(cat "$EX_TMP/event")
say "subscriber got: $EVENT"
[ "$(json_get action "$EVENT")" = set ] || die "event action is not set"
[ "$(json_get value "$EVENT")" = "$MSG" ] || die "event value differs"
[ "$(json_get modifiedIndex "$EVENT")" = "$PUB_INDEX" ] ||
	die "event index differs from the publisher's"
say "OK"
