/* proxyd.h - the proxy worker: etcd's v2 proxy (--proxy on|readonly, or
 * the over-size discovery fallback). It is not a member: it forwards
 * every client request (v2 keys, the v3 JSON gateway, everything but its
 * own /metrics and /v2/config/local/proxy) to a member's client URL,
 * learned from the members' peer URLs (GET <peer>/members), refreshed
 * every --proxy-refresh-interval, failing over away from members that do
 * not answer.
 */
#ifndef CETCD_PROXYD_PROXYD_H
#define CETCD_PROXYD_PROXYD_H

struct worker;

/* proxyd_main runs the proxy worker on w's client sockets, starting from
 * the peer URLs in w->proxy_peers (comma-separated). */
int proxyd_main(struct worker *w);

#endif
