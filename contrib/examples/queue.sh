#!/bin/sh
# queue.sh: a work queue from in-order keys (etcd v2 API).
# POST to a directory creates a key named after the store index, so keys sort
# in arrival order. A consumer lists the directory sorted, takes the lowest
# key and deletes it with prevIndex = its modifiedIndex: the compare-and-delete
# succeeds for exactly one consumer, every other one gets errorCode 100/101
# and moves on to the next job.
#
# Variables: ETCD_ENDPOINT (default http://127.0.0.1:2379), QUEUE_DIR
# (default /queue).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

Q=${QUEUE_DIR:-/queue}

require_absent "$Q"
at_exit "quiet_api DELETE '$Q?dir=true&recursive=true'"

for job in Job1 Job2 Job3; do
	api POST "$Q" -d value="$job"
	expect_status 201
	expect_field action create
	say "enqueued $job as $(json_get key)"
done

api GET "$Q?recursive=true&sorted=true"
expect_status 200
printf '%s\n' "$BODY"
ORDER=$(printf '%s' "$BODY" | tr ',' '\n' | sed -n 's/^"value":"\(.*\)"$/\1/p' | tr '\n' ' ')
[ "$ORDER" = "Job1 Job2 Job3 " ] || die "sorted listing is '$ORDER', not 'Job1 Job2 Job3 '"

# The first "nodes" entry is the lowest key.
FIRST=$(printf '%s' "$BODY" | sed 's/.*"nodes":\[//')
HEAD_KEY=$(json_get key "$FIRST")
HEAD_IDX=$(json_get modifiedIndex "$FIRST")
say "consume $HEAD_KEY (modifiedIndex $HEAD_IDX) with compare-and-delete"
api DELETE "$HEAD_KEY?prevIndex=$HEAD_IDX"
expect_status 200
expect_field action compareAndDelete
PREV=$(printf '%s' "$BODY" | sed 's/.*"prevNode"://')
[ "$(json_get value "$PREV")" = Job1 ] || die "consumed job is not Job1"
say "got Job1"

# A slower consumer racing for the same job loses.
api DELETE "$HEAD_KEY?prevIndex=$HEAD_IDX"
expect_status 404
expect_error 100
say "second consumer of $HEAD_KEY gets errorCode 100 and moves on"

api GET "$Q?recursive=true&sorted=true"
ORDER=$(printf '%s' "$BODY" | tr ',' '\n' | sed -n 's/^"value":"\(.*\)"$/\1/p' | tr '\n' ' ')
[ "$ORDER" = "Job2 Job3 " ] || die "queue now holds '$ORDER', not 'Job2 Job3 '"
say "queue now: $ORDER"
say "OK"
