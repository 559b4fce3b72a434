/* validate.c - etcd 3.4's checks on a parsed configuration (embed.Config's
 * Validate, etcdmain's defaults for advertise URLs and the initial cluster,
 * etcdserver's bootstrap checks), in etcd's order and with its messages,
 * plus the checks for cetcd's own flags. */
#include "config.h"
#include "config/internal.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define DEFAULT_INITIAL_CLUSTER "default=http://localhost:2380"

static int flag_set(const unsigned char *set, const char *name)
{
	return set[cfg_flag_index(config_flag_find(name))] != 0;
}

static int may_be_proxy(const struct cetcd_config *c)
{
	return strcmp(c->proxy, "off") != 0 || (c->discovery[0] && strcmp(c->discovery_fallback, "proxy") == 0);
}

/* check_bind: listen URLs must name an IP address (or localhost). */
static int check_bind(const struct url_list *l, char *err, size_t errlen)
{
	for (int i = 0; i < l->n; i++) {
		const struct cetcd_url *u = &l->v[i];
		if (strncmp(u->scheme, "unix", 4) == 0 || strcmp(u->host, "localhost") == 0)
			continue;
		if (!url_is_ip(u->host))
			return errf(err, errlen, CE_INVAL, "expected IP in URL for binding (%s)", u->str);
	}
	return 0;
}

/* check_host: advertised URLs need a host. */
static int check_host(const struct url_list *l, const char *flag, char *err, size_t errlen)
{
	char all[1024];

	for (int i = 0; i < l->n; i++) {
		if (l->v[i].host[0] != '\0')
			continue;
		url_list_format(l, all, sizeof(all));
		return errf(err, errlen, CE_INVAL, "--%s \"%s\" must be \"host:port\" (unexpected empty host (%s))", flag,
			    all, l->v[i].str);
	}
	return 0;
}

static int check_urls(const struct cetcd_config *c, char *err, size_t errlen)
{
	int rc;

	if ((rc = check_bind(&c->listen_peer_urls, err, errlen)) != 0 ||
	    (rc = check_bind(&c->listen_client_urls, err, errlen)) != 0 ||
	    (rc = check_bind(&c->listen_metrics_urls, err, errlen)) != 0 ||
	    (rc = check_host(&c->initial_advertise_peer_urls, "initial-advertise-peer-urls", err, errlen)) != 0 ||
	    (rc = check_host(&c->advertise_client_urls, "advertise-client-urls", err, errlen)) != 0)
		return rc;
	return 0;
}

/* check_timing: Raft timing, etcd's wording. */
static int check_timing(const struct cetcd_config *c, char *err, size_t errlen)
{
	uint64_t tick = c->heartbeat_interval_ms, el = c->election_timeout_ms;

	if (tick == 0)
		return errf(err, errlen, CE_INVAL, "--heartbeat-interval must be >0 (set to %llums)",
			    (unsigned long long)tick);
	if (el == 0)
		return errf(err, errlen, CE_INVAL, "--election-timeout must be >0 (set to %llums)", (unsigned long long)el);
	if (tick > el / 5 || 5 * tick > el)
		return errf(err, errlen, CE_INVAL,
			    "--election-timeout[%llums] should be at least as 5 times as --heartbeat-interval[%llums]",
			    (unsigned long long)el, (unsigned long long)tick);
	if (el > CONFIG_MAX_ELECTION_MS)
		return errf(err, errlen, CE_INVAL, "--election-timeout[%llums] is too long, and should be set less than %dms",
			    (unsigned long long)el, CONFIG_MAX_ELECTION_MS);
	return 0;
}

/* compaction_retention is etcd's parseCompactionRetention. */
static int compaction_retention(struct cetcd_config *c, char *err, size_t errlen)
{
	const char *r = c->auto_compaction_retention;
	char *end, why[200];
	long long h;

	h = strtoll(r, &end, 10);
	if (*r != '\0' && *end == '\0' && h >= 0 && !isspace((unsigned char)r[0])) {
		if (strcmp(c->auto_compaction_mode, "revision") == 0)
			c->auto_compaction_retention_value = h;
		else if (h > INT64_MAX / 3600000000000LL)
			return errf(err, errlen, CE_INVAL, "error parsing CompactionRetention: value out of range");
		else
			c->auto_compaction_retention_value = h * 3600000000000LL;
		return 0;
	}
	if (go_parse_duration(r, &c->auto_compaction_retention_value, why, sizeof(why)) != 0)
		return errf(err, errlen, CE_INVAL, "error parsing CompactionRetention: %s", why);
	return 0;
}

static int one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return 1;
	return 0;
}

/* check_misc: the checks etcd makes later (logging, compaction) and the
 * checks for cetcd's own flags. */
static int check_misc(struct cetcd_config *c, char *err, size_t errlen)
{
	static const char *const modes[] = {"", "periodic", "revision", NULL};
	static const char *const levels[] = {"debug", "info", "warn", "error", "panic", "fatal", NULL};
	static const char *const loggers[] = {"capnslog", "zap", NULL};

	if (!one_of(c->auto_compaction_mode, modes))
		return errf(err, errlen, CE_INVAL, "unknown auto-compaction-mode \"%s\"", c->auto_compaction_mode);
	if (c->experimental_enable_lease_checkpoint_persist && !c->experimental_enable_lease_checkpoint)
		return errf(err, errlen, CE_INVAL,
			    "setting experimental-enable-lease-checkpoint-persist requires "
			    "experimental-enable-lease-checkpoint");
	if (!one_of(c->logger, loggers))
		return errf(err, errlen, CE_INVAL, "unknown logger option \"%s\"", c->logger);
	if (!one_of(c->log_level, levels))
		return errf(err, errlen, CE_INVAL,
			    "unknown level \"%s\" (--log-level supports debug, info, warn, error, panic, or fatal)",
			    c->log_level);
	if (c->debug) {
		char *d = strdup("debug");
		if (d == NULL)
			return errf(err, errlen, CE_NOMEM, "out of memory");
		free(c->log_level);
		c->log_level = d;
	}
	if (c->max_concurrent_streams > UINT32_MAX)
		return errf(err, errlen, CE_INVAL, "invalid value \"%llu\" for flag -max-concurrent-streams: value out of range",
			    (unsigned long long)c->max_concurrent_streams);
	if (c->api_workers < 1 || c->api_workers > 64)
		return errf(err, errlen, CE_INVAL, "--api-workers must be between 1 and 64 (set to %llu)",
			    (unsigned long long)c->api_workers);
	/* v3 auth: only etcd's default "simple" tokens (src/v3/v3auth.h) */
	if (strcmp(c->auth_token, "jwt") == 0 || strncmp(c->auth_token, "jwt,", 4) == 0)
		return errf(err, errlen, CE_INVAL,
			    "--auth-token jwt is not supported by cetcd; use --auth-token simple (the default)");
	if (strcmp(c->auth_token, "simple") != 0)
		return errf(err, errlen, CE_INVAL, "auth: invalid auth options (unknown --auth-token \"%s\")",
			    c->auth_token);
	return compaction_retention(c, err, errlen);
}

/* etcd_validate is embed.Config.Validate. */
static int etcd_validate(struct cetcd_config *c, char *err, size_t errlen)
{
	int rc, nset;

	if ((rc = check_urls(c, err, errlen)) != 0)
		return rc;
	nset = (c->discovery[0] != '\0') + (c->initial_cluster[0] != '\0') + (c->discovery_srv[0] != '\0');
	if (strcmp(c->initial_cluster_state, "new") != 0 && strcmp(c->initial_cluster_state, "existing") != 0)
		return errf(err, errlen, CE_INVAL, "unexpected clusterState \"%s\"", c->initial_cluster_state);
	if (nset > 1)
		return errf(err, errlen, CE_INVAL,
			    "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", "
			    "\"discovery\" or \"discovery-srv\"");
	if ((rc = check_timing(c, err, errlen)) != 0)
		return rc;
	/* etcdmain lets a possible proxy go without advertised client URLs */
	if (c->listen_client_urls.n > 0 && c->advertise_client_urls.n == 0 && !may_be_proxy(c))
		return errf(err, errlen, CE_INVAL,
			    "--advertise-client-urls is required when --listen-client-urls is set explicitly");
	return check_misc(c, err, errlen);
}

static int set_str(char **dst, const char *v, char *err, size_t errlen)
{
	char *c = strdup(v);

	if (c == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	free(*dst);
	*dst = c;
	return 0;
}

/* cluster_from_name: with --name changed and --initial-cluster left at its
 * default, etcd bootstraps a one-member cluster "name=<advertised peer
 * URLs>". */
static int cluster_from_name(struct cetcd_config *c, char *err, size_t errlen)
{
	size_t need = 1, o = 0;
	char *s;

	if (strcmp(c->name, "default") == 0 || strcmp(c->initial_cluster, DEFAULT_INITIAL_CLUSTER) != 0 ||
	    c->initial_advertise_peer_urls.n == 0)
		return 0;
	for (int i = 0; i < c->initial_advertise_peer_urls.n; i++)
		need += strlen(c->name) + 2 + strlen(c->initial_advertise_peer_urls.v[i].str);
	s = malloc(need);
	if (s == NULL)
		return errf(err, errlen, CE_NOMEM, "out of memory");
	for (int i = 0; i < c->initial_advertise_peer_urls.n; i++)
		o += (size_t)snprintf(s + o, need - o, "%s%s=%s", i ? "," : "", c->name,
				      c->initial_advertise_peer_urls.v[i].str);
	free(c->initial_cluster);
	c->initial_cluster = s;
	return 0;
}

/* wal_exists: etcd skips the bootstrap checks when the member restarts
 * from an existing WAL (wal.Exist: the directory holds *.wal files). */
void config_wal_dir(const struct cetcd_config *c, char *out, size_t len)
{
	if (c->wal_dir && c->wal_dir[0] != '\0')
		snprintf(out, len, "%s", c->wal_dir);
	else
		snprintf(out, len, "%s/member/wal", c->data_dir);
}

static int wal_exists(const struct cetcd_config *c)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int found = 0;

	config_wal_dir(c, path, sizeof(path));
	d = opendir(path);
	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		found = n > 4 && strcmp(de->d_name + n - 4, ".wal") == 0;
	}
	closedir(d);
	return found;
}

/* check_bootstrap parses --initial-cluster and, for a member that is about
 * to bootstrap from it, makes etcdserver's VerifyBootstrap checks. */
static int check_bootstrap(struct cetcd_config *c, char *err, size_t errlen)
{
	int rc, is_new = strcmp(c->initial_cluster_state, "new") == 0;

	if (c->discovery[0] != '\0' || c->discovery_srv[0] != '\0') {
		if (!is_new && c->discovery[0] != '\0' && strcmp(c->proxy, "off") == 0 && !wal_exists(c))
			return errf(err, errlen, CE_INVAL,
				    "discovery URL should not be set when joining existing initial cluster");
		return 0;
	}
	initial_cluster_free(&c->cluster);
	if ((rc = initial_cluster_parse(c->initial_cluster, &c->cluster, err, errlen)) != 0)
		return errwrap(err, errlen, rc, "error setting up initial cluster");
	if (strcmp(c->proxy, "off") != 0 || wal_exists(c))
		return 0;
	if ((rc = initial_cluster_has_member(&c->cluster, c->name, err, errlen)) != 0)
		return rc;
	if (is_new && (rc = initial_cluster_check_advertise(&c->cluster, c->name, &c->initial_advertise_peer_urls,
							    err, errlen)) != 0)
		return rc;
	return initial_cluster_check_dup(&c->cluster, err, errlen);
}

int cfg_validate(struct cetcd_config *c, const unsigned char *set, int cmdline, char *err, size_t errlen)
{
	int rc, discovering = c->discovery[0] || c->discovery_srv[0] || (cmdline && c->discovery_srv_name[0]);

	if (cmdline) {
		/* etcdmain: an explicit --listen-client-urls drops the default
		 * advertise URL, so forgetting --advertise-client-urls is caught */
		if (flag_set(set, "listen-client-urls") && !flag_set(set, "advertise-client-urls") && !may_be_proxy(c))
			url_list_free(&c->advertise_client_urls);
		if (discovering && !flag_set(set, "initial-cluster") && (rc = set_str(&c->initial_cluster, "", err, errlen)))
			return rc;
	} else if (discovering && strcmp(c->initial_cluster, DEFAULT_INITIAL_CLUSTER) == 0 &&
		   (rc = set_str(&c->initial_cluster, "", err, errlen)) != 0) {
		return rc;
	}
	if ((rc = etcd_validate(c, err, errlen)) != 0)
		return rc;
	if (c->data_dir[0] == '\0') {
		char *d;
		if (asprintf(&d, "%s.etcd", c->name) < 0)
			return errf(err, errlen, CE_NOMEM, "out of memory");
		free(c->data_dir);
		c->data_dir = d;
	}
	if ((rc = cluster_from_name(c, err, errlen)) != 0)
		return rc;
	return check_bootstrap(c, err, errlen);
}
