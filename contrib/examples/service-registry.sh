#!/bin/sh
# service-registry.sh: service discovery with TTL'd keys (etcd v2 API).
# A web server registers itself under /services/web/<host> with ttl=10 and
# keeps the entry alive by refreshing the TTL (refresh=true keeps the value
# and does not wake watchers); clients list /services/web to find servers.
# If the server dies, the key expires and it drops out of the list.
#
# Variables: ETCD_ENDPOINT (default http://127.0.0.1:2379), SERVICE_DIR
# (default /services/web), SERVICE_HOST (default: hostname), REFRESH_COUNT
# (default 3), REFRESH_INTERVAL seconds (default 1, keep it below the TTL).
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

DIR=${SERVICE_DIR:-/services/web}
HOST=${SERVICE_HOST:-$(hostname)}
COUNT=${REFRESH_COUNT:-3}
INTERVAL=${REFRESH_INTERVAL:-1}
KEY=$DIR/$HOST
ADDR="http://$HOST:8080"

require_absent "$KEY"
# Remove our key, then the directories if that left them empty (dir=true
# without recursive refuses to delete a directory that still has entries).
at_exit "quiet_api DELETE '$KEY'; quiet_api DELETE '$DIR?dir=true'; quiet_api DELETE '${DIR%/*}?dir=true'"

say "register $KEY = $ADDR (ttl=10)"
api PUT "$KEY" -d value="$ADDR" -d ttl=10
expect_status 201
expect_field action set
expect_field ttl 10

i=1
while [ "$i" -le "$COUNT" ]; do
	sleep "$INTERVAL"
	api PUT "$KEY" -d ttl=10 -d refresh=true -d prevExist=true
	expect_status 200
	expect_field action update
	expect_field value "$ADDR"
	expect_field ttl 10
	say "heartbeat $i/$COUNT: ttl back to 10, expires $(json_get expiration)"
	i=$((i + 1))
done

say "list $DIR"
api GET "$DIR?sorted=true"
expect_status 200
case "$BODY" in
*"\"key\":\"$KEY\",\"value\":\"$ADDR\""*) ;;
*) die "$KEY missing from the listing" ;;
esac
printf '%s\n' "$BODY"

# A refresh only works on a live registration: once the key is gone (expired
# or deregistered) the server must register again rather than refresh.
api DELETE "$KEY"
expect_status 200
api PUT "$KEY" -d ttl=10 -d refresh=true -d prevExist=true
expect_status 404
expect_error 100
say "refresh after deregistration fails with errorCode 100 (Key not found), as it should"
say "OK"
