/* srv.c - --discovery-srv: the initial cluster from DNS SRV records, as
 * etcd 3.4's srv.GetCluster builds it. Records of
 * _etcd-server-ssl[-<name>]._tcp.<domain> become https peers and
 * _etcd-server[-<name>]._tcp.<domain> http peers; the record whose address
 * is one of this member's advertised peer URLs takes this member's name,
 * the others get the names "0", "1", ... in the order found.
 *
 * The resolver is the system's (res_query); the environment variable
 * CETCD_DNS_SERVER=<ip>[:port] sends the queries to one server instead,
 * which is how the tests use a DNS server on loopback.
 */
#include "config.h"
#include "supervisor/srv.h"

#include "config/cfg.h"
#include "config/url.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct srv_rec {
	char target[NS_MAXDNAME];
	int port;
	int prio, weight;
};

/* use_server points the resolver at CETCD_DNS_SERVER when it is set. */
static int use_server(char *err, size_t errlen)
{
	const char *s = getenv("CETCD_DNS_SERVER");
	char host[64];
	const char *colon;
	int port = 53;

	if (res_init() != 0)
		return errf(err, errlen, CE_IO, "srv: cannot initialise the resolver");
	if (s == NULL || *s == '\0')
		return 0;
	colon = strrchr(s, ':');
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - s) : (int)strlen(s), s);
	if (colon)
		port = atoi(colon + 1);
	memset(&_res.nsaddr_list[0], 0, sizeof(_res.nsaddr_list[0]));
	_res.nsaddr_list[0].sin_family = AF_INET;
	_res.nsaddr_list[0].sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &_res.nsaddr_list[0].sin_addr) != 1 || port <= 0 || port > 65535)
		return errf(err, errlen, CE_INVAL, "srv: bad CETCD_DNS_SERVER \"%s\"", s);
	_res.nscount = 1;
	return 0;
}

/* lookup gets the SRV records of name, sorted by priority then weight as
 * Go's net.LookupSRV gives them (weight order within a priority is Go's
 * random shuffle; by weight here). How many, or -1 with err set. */
static int srv_cmp(const void *x, const void *y)
{
	const struct srv_rec *a = x, *b = y;

	if (a->prio != b->prio)
		return a->prio - b->prio;
	return b->weight - a->weight;
}

static int lookup(const char *name, struct srv_rec *out, int max, char *err, size_t errlen)
{
	unsigned char ans[NS_PACKETSZ * 4];
	ns_msg msg;
	ns_rr rr;
	int len, n = 0;

	len = res_query(name, ns_c_in, ns_t_srv, ans, sizeof(ans));
	if (len < 0) {
		errf(err, errlen, CE_NOTFOUND, "lookup %s: no such host", name);
		return -1;
	}
	if (ns_initparse(ans, len, &msg) != 0) {
		errf(err, errlen, CE_CORRUPT, "lookup %s: malformed answer", name);
		return -1;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && n < max; i++) {
		const unsigned char *rd;
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv ||
			ns_rr_rdlen(rr) < 7)
			continue;
		rd = ns_rr_rdata(rr);
		out[n].prio = ns_get16(rd);
		out[n].weight = ns_get16(rd + 2);
		out[n].port = ns_get16(rd + 4);
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, out[n].target,
			sizeof(out[n].target)) < 0)
			continue;
		n++;
	}
	qsort(out, (size_t)n, sizeof(out[0]), srv_cmp);
	return n;
}

/* addr_of resolves host:port to "ip:port" text (IPv4 or [IPv6]:port). */
static int addr_of(const char *host, int port, char *out, size_t outlen)
{
	struct addrinfo hints, *ai = NULL;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &ai)) != 0 || ai == NULL)
		return -1;
	if (ai->ai_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, ip, sizeof(ip));
	snprintf(out, outlen, ai->ai_family == AF_INET ? "%s:%d" : "[%s]:%d", ip, port);
	freeaddrinfo(ai);
	return 0;
}

/* own_url: the advertised peer URL at address addr ("ip:port"), or NULL. */
static const struct cetcd_url *own_url(const struct cetcd_config *cfg, const char *addr)
{
	for (int i = 0; i < cfg->initial_advertise_peer_urls.n; i++) {
		const struct cetcd_url *u = &cfg->initial_advertise_peer_urls.v[i];
		char a[INET6_ADDRSTRLEN + 16];
		if (addr_of(u->host, u->port, a, sizeof(a)) == 0 && strcmp(a, addr) == 0)
			return u;
	}
	return NULL;
}

/* add_service appends "name=scheme://host:port" parts for one service. */
static int add_service(const struct cetcd_config *cfg, const char *service, const char *scheme,
	struct buf *parts, int *temp_name, char *err, size_t errlen)
{
	struct srv_rec recs[64];
	char name[NS_MAXDNAME + 64];
	int n, added = 0;

	snprintf(name, sizeof(name), "_%s._tcp.%s", service, cfg->discovery_srv);
	if ((n = lookup(name, recs, 64, err, errlen)) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char addr[INET6_ADDRSTRLEN + 16], part[NS_MAXDNAME + 128], tmp[16];
		const struct cetcd_url *own;
		const char *who;
		size_t tl = strlen(recs[i].target);

		if (addr_of(recs[i].target, recs[i].port, addr, sizeof(addr)) != 0) {
			errf(err, errlen, CE_NOTFOUND, "lookup %s: no such host", recs[i].target);
			continue;
		}
		if (tl > 0 && recs[i].target[tl - 1] == '.')
			recs[i].target[tl - 1] = '\0'; /* URLs have no trailing dot */
		own = own_url(cfg, addr);
		if (own != NULL && strcmp(own->scheme, scheme) != 0) {
			errf(err, errlen, CE_INVAL, "bootstrap at %s://%s:%d from DNS for %s has scheme "
				"mismatch with expected peer %s", scheme, recs[i].target, recs[i].port,
				service, own->str);
			continue;
		}
		if (own != NULL) {
			who = cfg->name;
		} else {
			snprintf(tmp, sizeof(tmp), "%d", (*temp_name)++);
			who = tmp;
		}
		snprintf(part, sizeof(part), "%s%s=%s://%s:%d", parts->len ? "," : "", who, scheme,
			recs[i].target, recs[i].port);
		buf_put(parts, part, strlen(part));
		added++;
	}
	return added > 0 ? 0 : -1;
}

int srv_initial_cluster(const struct cetcd_config *cfg, char **out, char *err, size_t errlen)
{
	char service[160], e1[256] = "", e2[256] = "";
	struct buf parts;
	int temp_name = 0, fails = 0, rc;

	if ((rc = use_server(err, errlen)) != 0)
		return rc;
	snprintf(service, sizeof(service), "etcd-server%s%s", cfg->discovery_srv_name[0] ? "-" : "",
		cfg->discovery_srv_name);
	buf_init(&parts);
	{
		char ssl[176];
		snprintf(ssl, sizeof(ssl), "%s-ssl", service);
		if (add_service(cfg, ssl, "https", &parts, &temp_name, e1, sizeof(e1)) != 0)
			fails++;
	}
	if (add_service(cfg, service, "http", &parts, &temp_name, e2, sizeof(e2)) != 0)
		fails++;
	if (fails == 2 || parts.len == 0) {
		buf_close(&parts);
		return errf(err, errlen, CE_NOTFOUND,
			"error setting up initial cluster: srv: too many errors querying DNS SRV "
			"records (\"%s\", \"%s\")", e1, e2);
	}
	buf_put(&parts, "", 1);
	*out = (char *)buf_take(&parts, NULL);
	log_info("got bootstrap from DNS for %s at %s", service, *out);
	return 0;
}
