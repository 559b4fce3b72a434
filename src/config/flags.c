/* flags.c - the one table of cetcd's settings. Each row names a flag, its
 * type, its default (parsed by the same code as user input, so a default
 * can never be something a user could not type), where it lives in
 * struct cetcd_config, its help group, its YAML key and its help text.
 * Command line, environment, YAML, --help and the man-page test all read
 * this table; nothing else lists flags. */
#include "config.h"
#include "config/cfg.h"

#include <stddef.h>
#include <string.h>

#include "config/internal.h"

#define O(field) offsetof(struct cetcd_config, field)

static const char *const ch_state[] = {"new", "existing", NULL};
static const char *const ch_fallback[] = {"exit", "proxy", NULL};
static const char *const ch_proxy[] = {"off", "readonly", "on", NULL};

/* Row builders: name, type, default, field, group, YAML key, help. */
#define ROW(n, t, d, f, g, y, h) {n, t, d, O(f), g, y, NULL, NULL, h, 0}
#define ROWS(n, t, d, f, g, y, shown, h) {n, t, d, O(f), g, y, shown, NULL, h, 0}
#define ENUM(n, d, f, g, ch, h) {n, CT_ENUM, d, O(f), g, n, NULL, ch, h, 0}
#define NOFILE(n, t, d, f, g, h) {n, t, d, O(f), g, NULL, NULL, NULL, h, CF_NOFILE}
/* Flags etcd dropped long ago but still accepts (and warns about). */
#define IGNORED(n) {n, CT_IGNORED, NULL, 0, CG_HIDDEN, NULL, NULL, NULL, "Ignored; kept for compatibility.", CF_NOFILE}

static const struct config_flag flag_table[] = {
	/* How cetcd is invoked */
	{"config-file", CT_STR, NULL, O(config_file), CG_INVOCATION, NULL, NULL, NULL,
	 "Path to a YAML configuration file. When given, all other flags and ETCD_* variables are ignored.",
	 CF_NOENV | CF_NOFILE},
	{"version", CT_BOOL, "false", O(print_version), CG_INVOCATION, NULL, NULL, NULL,
	 "Print the version and exit.", CF_NOENV | CF_NOFILE},

	/* Member */
	ROW("name", CT_STR, "default", name, CG_MEMBER, "name", "Human-readable name of this member."),
	ROWS("data-dir", CT_STR, NULL, data_dir, CG_MEMBER, "data-dir", "${name}.etcd",
	     "Directory holding this member's data."),
	ROW("wal-dir", CT_STR, NULL, wal_dir, CG_MEMBER, "wal-dir",
	    "Separate directory for the write-ahead log (default: inside the data directory)."),
	ROW("snapshot-count", CT_UINT, "100000", snapshot_count, CG_MEMBER, "snapshot-count",
	    "Committed entries that trigger a snapshot to disk."),
	ROW("heartbeat-interval", CT_UINT, "100", heartbeat_interval_ms, CG_MEMBER, "heartbeat-interval",
	    "Heartbeat interval, in milliseconds."),
	ROW("election-timeout", CT_UINT, "1000", election_timeout_ms, CG_MEMBER, "election-timeout",
	    "Election timeout, in milliseconds (at least 5 heartbeats, at most 50000)."),
	ROW("initial-election-tick-advance", CT_BOOL, "true", initial_election_tick_advance, CG_MEMBER,
	    "initial-election-tick-advance", "Fast-forward the election ticks at start-up for a quicker first election."),
	ROW("listen-peer-urls", CT_URLS, "http://localhost:2380", listen_peer_urls, CG_MEMBER, "listen-peer-urls",
	    "URLs to listen on for traffic from other members."),
	ROW("listen-client-urls", CT_URLS, "http://localhost:2379", listen_client_urls, CG_MEMBER,
	    "listen-client-urls", "URLs to listen on for client traffic."),
	ROW("max-snapshots", CT_UINT, "5", max_snapshots, CG_MEMBER, "max-snapshots",
	    "Snapshot files to keep (0 keeps all)."),
	ROW("max-wals", CT_UINT, "5", max_wals, CG_MEMBER, "max-wals", "WAL files to keep (0 keeps all)."),
	ROW("quota-backend-bytes", CT_INT, "0", quota_backend_bytes, CG_MEMBER, "quota-backend-bytes",
	    "Raise the NOSPACE alarm when the database grows past this size (0 means the default, 2 GiB)."),
	ROWS("backend-batch-interval", CT_DUR, NULL, backend_batch_interval_ns, CG_MEMBER, "backend-batch-interval",
	     "", "Longest time before a database transaction is committed (Go duration, e.g. 100ms)."),
	ROW("backend-batch-limit", CT_INT, "0", backend_batch_limit, CG_MEMBER, "backend-batch-limit",
	    "Most operations before a database transaction is committed."),
	ROW("max-txn-ops", CT_UINT, "128", max_txn_ops, CG_MEMBER, "max-txn-ops",
	    "Most operations allowed in one transaction."),
	ROW("max-request-bytes", CT_UINT, "1572864", max_request_bytes, CG_MEMBER, "max-request-bytes",
	    "Largest client request accepted, in bytes."),
	ROW("max-concurrent-streams", CT_UINT, "4294967295", max_concurrent_streams, CG_MEMBER,
	    "max-concurrent-streams", "Most concurrent streams one client may open."),
	ROW("grpc-keepalive-min-time", CT_DUR, "5s", grpc_keepalive_min_time_ns, CG_MEMBER,
	    "grpc-keepalive-min-time", "Shortest interval a client should wait between pings."),
	ROW("grpc-keepalive-interval", CT_DUR, "2h", grpc_keepalive_interval_ns, CG_MEMBER,
	    "grpc-keepalive-interval", "How often the server pings an idle connection (0 disables)."),
	ROW("grpc-keepalive-timeout", CT_DUR, "20s", grpc_keepalive_timeout_ns, CG_MEMBER, "grpc-keepalive-timeout",
	    "How long to wait for a ping answer before closing the connection (0 disables)."),
	ROW("enable-grpc-gateway", CT_BOOL, "true", enable_grpc_gateway, CG_MEMBER, "enable-grpc-gateway",
	    "Serve the v3 JSON gateway under /v3/."),

	/* Clustering */
	ROW("initial-advertise-peer-urls", CT_URLS, "http://localhost:2380", initial_advertise_peer_urls,
	    CG_CLUSTERING, "initial-advertise-peer-urls", "This member's peer URLs as told to the rest of the cluster."),
	ROW("initial-cluster", CT_STR, "default=http://localhost:2380", initial_cluster, CG_CLUSTERING,
	    "initial-cluster", "Members of the cluster at bootstrap: name=peer-url,name=peer-url,..."),
	ENUM("initial-cluster-state", "new", initial_cluster_state, CG_CLUSTERING, ch_state,
	     "Initial cluster state ('new' or 'existing')."),
	ROW("initial-cluster-token", CT_STR, "etcd-cluster", initial_cluster_token, CG_CLUSTERING,
	    "initial-cluster-token", "Token that keeps separate clusters bootstrapped side by side apart."),
	ROW("advertise-client-urls", CT_URLS, "http://localhost:2379", advertise_client_urls, CG_CLUSTERING,
	    "advertise-client-urls", "This member's client URLs as told to clients; they must be reachable by them."),
	ROW("discovery", CT_STR, NULL, discovery, CG_CLUSTERING, "discovery",
	    "Discovery service URL used to bootstrap the cluster."),
	ENUM("discovery-fallback", "proxy", discovery_fallback, CG_CLUSTERING, ch_fallback,
	     "What to do when discovery fails ('exit' or 'proxy'); 'proxy' serves the v2 API only."),
	ROW("discovery-proxy", CT_STR, NULL, discovery_proxy, CG_CLUSTERING, "discovery-proxy",
	    "HTTP proxy for talking to the discovery service."),
	ROW("discovery-srv", CT_STR, NULL, discovery_srv, CG_CLUSTERING, "discovery-srv",
	    "DNS domain whose SRV records list the cluster."),
	ROW("discovery-srv-name", CT_STR, NULL, discovery_srv_name, CG_CLUSTERING, "discovery-srv-name",
	    "Suffix of the SRV name queried during DNS discovery."),
	ROW("strict-reconfig-check", CT_BOOL, "true", strict_reconfig_check, CG_CLUSTERING, "strict-reconfig-check",
	    "Refuse membership changes that would lose quorum."),
	ROW("pre-vote", CT_BOOL, "false", pre_vote, CG_CLUSTERING, "pre-vote",
	    "Run Raft's pre-vote phase before an election."),
	ROW("auto-compaction-retention", CT_STR, "0", auto_compaction_retention, CG_CLUSTERING,
	    "auto-compaction-retention", "History to keep when compacting automatically; 0 disables it."),
	ROW("auto-compaction-mode", CT_STR, "periodic", auto_compaction_mode, CG_CLUSTERING, "auto-compaction-mode",
	    "How to read the retention: 'periodic' (a duration, hours if no unit) or 'revision' (a count)."),
	ROW("enable-v2", CT_BOOL, "true", enable_v2, CG_CLUSTERING, "enable-v2",
	    "Serve the etcd v2 API (cetcd default: true; etcd 3.4: false)."),

	/* Security */
	ROW("cert-file", CT_STR, NULL, cert_file, CG_SECURITY, "client-transport-security.cert-file",
	    "TLS certificate for the client port."),
	ROW("key-file", CT_STR, NULL, key_file, CG_SECURITY, "client-transport-security.key-file",
	    "TLS key for the client port."),
	ROW("client-cert-auth", CT_BOOL, "false", client_cert_auth, CG_SECURITY,
	    "client-transport-security.client-cert-auth", "Require client certificates on the client port."),
	NOFILE("client-crl-file", CT_STR, NULL, client_crl_file, CG_SECURITY,
	       "Certificate revocation list for client certificates."),
	NOFILE("client-cert-allowed-hostname", CT_STR, NULL, client_cert_allowed_hostname, CG_SECURITY,
	       "Host name client certificates must carry."),
	ROW("trusted-ca-file", CT_STR, NULL, trusted_ca_file, CG_SECURITY, "client-transport-security.trusted-ca-file",
	    "CA bundle that client certificates are checked against."),
	ROW("auto-tls", CT_BOOL, "false", auto_tls, CG_SECURITY, "client-transport-security.auto-tls",
	    "Use a generated self-signed certificate on the client port."),
	ROW("peer-cert-file", CT_STR, NULL, peer_cert_file, CG_SECURITY, "peer-transport-security.cert-file",
	    "TLS certificate for the peer port."),
	ROW("peer-key-file", CT_STR, NULL, peer_key_file, CG_SECURITY, "peer-transport-security.key-file",
	    "TLS key for the peer port."),
	ROW("peer-client-cert-auth", CT_BOOL, "false", peer_client_cert_auth, CG_SECURITY,
	    "peer-transport-security.client-cert-auth", "Require certificates from connecting peers."),
	ROW("peer-trusted-ca-file", CT_STR, NULL, peer_trusted_ca_file, CG_SECURITY,
	    "peer-transport-security.trusted-ca-file", "CA bundle that peer certificates are checked against."),
	NOFILE("peer-cert-allowed-cn", CT_STR, NULL, peer_cert_allowed_cn, CG_SECURITY,
	       "Common name peer certificates must carry."),
	NOFILE("peer-cert-allowed-hostname", CT_STR, NULL, peer_cert_allowed_hostname, CG_SECURITY,
	       "Host name peer certificates must carry."),
	ROW("peer-auto-tls", CT_BOOL, "false", peer_auto_tls, CG_SECURITY, "peer-transport-security.auto-tls",
	    "Use a generated self-signed certificate on the peer port when no key and certificate are given."),
	NOFILE("peer-crl-file", CT_STR, NULL, peer_crl_file, CG_SECURITY,
	       "Certificate revocation list for peer certificates."),
	ROW("cipher-suites", CT_LIST, NULL, cipher_suites, CG_SECURITY, "cipher-suites",
	    "Comma-separated TLS cipher suites (empty: the library's defaults)."),
	ROW("cors", CT_LIST, "*", cors, CG_SECURITY, "cors",
	    "Comma-separated origins allowed by CORS (empty or * allows all)."),
	ROW("host-whitelist", CT_LIST, "*", host_whitelist, CG_SECURITY, "host-whitelist",
	    "Host names accepted in client requests when not using TLS (empty or * allows all)."),

	/* Auth */
	ROW("auth-token", CT_STR, "simple", auth_token, CG_AUTH, "auth-token",
	    "Kind of v3 auth token and its options ('simple' or 'jwt,...')."),
	ROW("bcrypt-cost", CT_UINT, "10", bcrypt_cost, CG_AUTH, "bcrypt-cost",
	    "bcrypt cost for hashing passwords (4..31)."),
	ROW("auth-token-ttl", CT_UINT, "300", auth_token_ttl, CG_AUTH, "auth-token-ttl",
	    "Lifetime of a simple auth token, in seconds."),

	/* Profiling and monitoring */
	ROW("enable-pprof", CT_BOOL, "false", enable_pprof, CG_PROFILING, "enable-pprof",
	    "Serve profiling data under /debug/pprof/ on the client URLs."),
	ROW("metrics", CT_STR, "basic", metrics, CG_PROFILING, "metrics",
	    "Detail of exported metrics ('basic' or 'extensive')."),
	ROW("listen-metrics-urls", CT_URLS, NULL, listen_metrics_urls, CG_PROFILING, "listen-metrics-urls",
	    "Extra URLs serving only /metrics and /health."),

	/* Logging */
	ROW("logger", CT_STR, "capnslog", logger, CG_LOGGING, "logger",
	    "Log format: 'capnslog' (etcd 3.4's default) or 'zap'."),
	ROW("log-outputs", CT_LIST, "default", log_outputs, CG_LOGGING, "log-outputs",
	    "Where to log: 'default' or 'stderr', 'stdout', or file paths, comma-separated."),
	ROW("log-level", CT_STR, "info", log_level, CG_LOGGING, "log-level",
	    "Lowest level logged: debug, info, warn, error, panic or fatal."),

	/* v2 proxy */
	ENUM("proxy", "off", proxy, CG_PROXY, ch_proxy, "Proxy mode ('off', 'readonly' or 'on')."),
	ROW("proxy-failure-wait", CT_UINT, "5000", proxy_failure_wait_ms, CG_PROXY, "proxy-failure-wait",
	    "How long a failed endpoint stays out of use, in milliseconds."),
	ROW("proxy-refresh-interval", CT_UINT, "30000", proxy_refresh_interval_ms, CG_PROXY, "proxy-refresh-interval",
	    "How often the member list is refreshed, in milliseconds."),
	ROW("proxy-dial-timeout", CT_UINT, "1000", proxy_dial_timeout_ms, CG_PROXY, "proxy-dial-timeout",
	    "Connect timeout, in milliseconds."),
	ROW("proxy-write-timeout", CT_UINT, "5000", proxy_write_timeout_ms, CG_PROXY, "proxy-write-timeout",
	    "Write timeout, in milliseconds."),
	ROW("proxy-read-timeout", CT_UINT, "0", proxy_read_timeout_ms, CG_PROXY, "proxy-read-timeout",
	    "Read timeout, in milliseconds (0: none)."),

	/* Experimental */
	ROW("experimental-initial-corrupt-check", CT_BOOL, "false", experimental_initial_corrupt_check,
	    CG_EXPERIMENTAL, "experimental-initial-corrupt-check", "Check the data for corruption before serving."),
	ROW("experimental-corrupt-check-time", CT_DUR, "0s", experimental_corrupt_check_time_ns, CG_EXPERIMENTAL,
	    "experimental-corrupt-check-time", "Time between cluster-wide corruption checks (0s: never)."),
	ROW("experimental-enable-v2v3", CT_STR, NULL, experimental_enable_v2v3, CG_EXPERIMENTAL,
	    "experimental-enable-v2v3", "Serve v2 requests from the v3 store under this prefix."),
	ROW("experimental-backend-bbolt-freelist-type", CT_STR, "array", experimental_backend_bbolt_freelist_type,
	    CG_EXPERIMENTAL, "experimental-backend-bbolt-freelist-type", "Accepted for etcd compatibility; unused."),
	ROW("experimental-enable-lease-checkpoint", CT_BOOL, "false", experimental_enable_lease_checkpoint,
	    CG_EXPERIMENTAL, "experimental-enable-lease-checkpoint",
	    "Accepted for etcd compatibility: cetcd always checkpoints lease TTLs, so a leader change does not renew them."),
	ROW("experimental-lease-checkpoint-interval", CT_DUR, "5m",
	    experimental_lease_checkpoint_interval_ns, CG_EXPERIMENTAL,
	    "experimental-lease-checkpoint-interval",
	    "How often the leader checkpoints a lease's remaining TTL (etcd 3.5's flag)."),
	ROW("experimental-enable-lease-checkpoint-persist", CT_BOOL, "false",
	    experimental_enable_lease_checkpoint_persist, CG_EXPERIMENTAL,
	    "experimental-enable-lease-checkpoint-persist",
	    "Persist lease checkpoints (needs --experimental-enable-lease-checkpoint)."),
	ROW("experimental-compaction-batch-limit", CT_INT, "1000", experimental_compaction_batch_limit,
	    CG_EXPERIMENTAL, "experimental-compaction-batch-limit", "Most revisions deleted per compaction batch."),
	ROW("experimental-peer-skip-client-san-verification", CT_BOOL, "false",
	    experimental_peer_skip_client_san_verification, CG_EXPERIMENTAL,
	    "experimental-peer-skip-client-san-verification", "Do not check the SAN of peer client certificates."),
	ROW("experimental-watch-progress-notify-interval", CT_DUR, "10m",
	    experimental_watch_progress_notify_interval_ns, CG_EXPERIMENTAL,
	    "experimental-watch-progress-notify-interval", "Interval of watch progress notifications."),
	ROW("experimental-warning-apply-duration", CT_DUR, "100ms", experimental_warning_apply_duration_ns,
	    CG_EXPERIMENTAL, "experimental-warning-apply-duration", "Warn when applying a request takes longer."),

	/* Unsafe */
	ROW("force-new-cluster", CT_BOOL, "false", force_new_cluster, CG_UNSAFE, "force-new-cluster",
	    "Restart as a one-member cluster, dropping the other members."),
	ROW("unsafe-no-fsync", CT_BOOL, "false", unsafe_no_fsync, CG_UNSAFE, "unsafe-no-fsync",
	    "Do not fsync; a crash can lose acknowledged writes."),

	/* To be deprecated */
	ROW("debug", CT_BOOL, "false", debug, CG_DEPRECATED, "debug", "Log at debug level (use --log-level=debug)."),
	ROW("log-package-levels", CT_STR, NULL, log_package_levels, CG_DEPRECATED, "log-package-levels",
	    "Per-package log levels (accepted; cetcd logs at one level)."),
	ROW("log-output", CT_LIST, "default", log_output, CG_DEPRECATED, "log-output",
	    "Old spelling of --log-outputs."),

	/* cetcd only */
	ROW("api-workers", CT_UINT, "2", api_workers, CG_CETCD, "api-workers",
	    "Number of API worker processes sharing the client ports (1..64)."),
	ROW("pid-file", CT_STR, NULL, pid_file, CG_CETCD, "pid-file",
	    "Write the supervisor's process ID to this file (empty: none)."),

	IGNORED("cluster-active-size"),
	IGNORED("cluster-remove-delay"),
	IGNORED("cluster-sync-interval"),
	IGNORED("config"),
	IGNORED("force"),
	IGNORED("max-result-buffer"),
	IGNORED("max-retry-attempts"),
	IGNORED("peer-heartbeat-interval"),
	IGNORED("peer-election-timeout"),
	IGNORED("retry-interval"),
	IGNORED("snapshot"),
	IGNORED("v"),
	IGNORED("vv"),
};

#define NFLAGS ((int)(sizeof(flag_table) / sizeof(flag_table[0])))

static const char *const group_titles[CG_COUNT] = {
	[CG_MEMBER] = "Member",
	[CG_CLUSTERING] = "Clustering",
	[CG_SECURITY] = "Security",
	[CG_AUTH] = "Auth",
	[CG_PROFILING] = "Profiling and Monitoring",
	[CG_LOGGING] = "Logging",
	[CG_PROXY] = "v2 Proxy",
	[CG_EXPERIMENTAL] = "Experimental feature",
	[CG_UNSAFE] = "Unsafe feature",
	[CG_DEPRECATED] = "TO BE DEPRECATED",
	[CG_CETCD] = "cetcd only",
	[CG_INVOCATION] = "Invocation",
	[CG_HIDDEN] = "Ignored",
};

int config_flag_count(void)
{
	return NFLAGS;
}

const struct config_flag *config_flag_get(int i)
{
	return i >= 0 && i < NFLAGS ? &flag_table[i] : NULL;
}

int cfg_flag_index(const struct config_flag *f)
{
	return (int)(f - flag_table);
}

const struct config_flag *config_flag_find(const char *name)
{
	for (int i = 0; i < NFLAGS; i++)
		if (strcmp(flag_table[i].name, name) == 0)
			return &flag_table[i];
	return NULL;
}

const struct config_flag *config_flag_yaml_find(const char *key)
{
	for (int i = 0; i < NFLAGS; i++)
		if (flag_table[i].yaml != NULL && strcmp(flag_table[i].yaml, key) == 0)
			return &flag_table[i];
	return NULL;
}

void config_flag_env(const struct config_flag *f, char *buf, size_t len)
{
	size_t o = 0;

	for (const char *p = "ETCD_"; *p && o + 1 < len; p++)
		buf[o++] = *p;
	for (const char *p = f->name; *p && o + 1 < len; p++)
		buf[o++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	if (len > 0)
		buf[o] = '\0';
}

const char *config_group_title(enum config_group g)
{
	return (unsigned)g < CG_COUNT ? group_titles[g] : "";
}
