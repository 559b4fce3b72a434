/* cfg.h - cetcd's server configuration: etcd 3.4's command-line flags, the
 * ETCD_* environment variables and etcd's YAML --config-file, all driven by
 * one table of flags (config_flag_get()).
 *
 * (Named cfg.h, not config.h: a .c file in this folder includes autoconf's
 * "config.h" first, and a quoted include looks in the including file's own
 * folder before -I paths, so a src/config/config.h would shadow it.)
 *
 * Precedence, as in etcd 3.4:
 *   - command line (Go flag syntax) is parsed first; unknown flags and bad
 *     values are errors;
 *   - if --config-file (or ETCD_CONFIG_FILE) names a file, the settings come
 *     from defaults + that file only; other flags and ETCD_* variables are
 *     ignored (a warning lists them);
 *   - otherwise each ETCD_<FLAG> variable fills a flag not given on the
 *     command line; the same setting given both ways is an error (etcd:
 *     "conflicting environment variable ... is shadowed by corresponding
 *     command-line flag"); unknown ETCD_* variables produce a warning.
 * Warnings are collected in cfg->warnings (the caller logs them once its
 * logger is set up) because this library never writes to stderr.
 */
#ifndef CETCD_CONFIG_CFG_H
#define CETCD_CONFIG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/cluster.h"
#include "config/url.h"

/* config_parse's return value when --help or --version was printed. */
#define CONFIG_EXIT_OK 1

/* The largest --election-timeout etcd accepts, in milliseconds. */
#define CONFIG_MAX_ELECTION_MS 50000

/* A list of strings (--log-outputs, --cors, ...). Owns the strings. */
struct str_list {
	int n;
	char **v;
};

/* All settings. Strings are owned (NULL never: "" when empty), freed by
 * config_close(). Times ending in _ms are milliseconds; _ns nanoseconds. */
struct cetcd_config {
	/* Member */
	char *name;
	char *data_dir; /* "${name}.etcd" when not given */
	char *wal_dir;
	uint64_t snapshot_count;
	uint64_t heartbeat_interval_ms;
	uint64_t election_timeout_ms;
	bool initial_election_tick_advance;
	struct url_list listen_peer_urls;
	struct url_list listen_client_urls;
	uint64_t max_snapshots;
	uint64_t max_wals;
	int64_t quota_backend_bytes; /* 0 = the default quota (2 GiB) */
	int64_t backend_batch_interval_ns;
	int64_t backend_batch_limit;
	uint64_t max_txn_ops;
	uint64_t max_request_bytes;
	uint64_t max_concurrent_streams;
	int64_t grpc_keepalive_min_time_ns;
	int64_t grpc_keepalive_interval_ns;
	int64_t grpc_keepalive_timeout_ns;

	/* Clustering */
	struct url_list initial_advertise_peer_urls;
	char *initial_cluster; /* text; "" when discovery is used */
	struct initial_cluster cluster; /* initial_cluster parsed */
	char *initial_cluster_state; /* "new" or "existing" */
	char *initial_cluster_token;
	struct url_list advertise_client_urls; /* may be empty in proxy mode */
	char *discovery;
	char *discovery_fallback; /* "exit" or "proxy" */
	char *discovery_proxy;
	char *discovery_srv;
	char *discovery_srv_name;
	bool strict_reconfig_check;
	bool pre_vote;
	char *auto_compaction_retention; /* text as given */
	int64_t auto_compaction_retention_value; /* ns (periodic) or revisions */
	char *auto_compaction_mode; /* "periodic" or "revision" */
	bool enable_v2; /* true by default in cetcd (etcd 3.4: false) */

	/* Security */
	char *cert_file;
	char *key_file;
	bool client_cert_auth;
	char *client_crl_file;
	char *client_cert_allowed_hostname;
	char *trusted_ca_file;
	bool auto_tls;
	char *peer_cert_file;
	char *peer_key_file;
	bool peer_client_cert_auth;
	char *peer_trusted_ca_file;
	char *peer_cert_allowed_cn;
	char *peer_cert_allowed_hostname;
	bool peer_auto_tls;
	char *peer_crl_file;
	struct str_list cipher_suites;
	struct str_list cors;
	struct str_list host_whitelist;

	/* Auth */
	char *auth_token;
	uint64_t bcrypt_cost;
	uint64_t auth_token_ttl;

	/* Profiling and monitoring */
	bool enable_pprof;
	char *metrics;
	struct url_list listen_metrics_urls;

	/* Logging */
	char *logger;
	struct str_list log_outputs;
	char *log_level; /* "debug" when --debug is set */
	bool debug;
	char *log_package_levels;
	struct str_list log_output; /* deprecated spelling of log_outputs */

	/* v2 proxy */
	char *proxy; /* "off", "readonly" or "on" */
	uint64_t proxy_failure_wait_ms;
	uint64_t proxy_refresh_interval_ms;
	uint64_t proxy_dial_timeout_ms;
	uint64_t proxy_write_timeout_ms;
	uint64_t proxy_read_timeout_ms;

	/* Experimental (accepted and stored; cetcd may ignore them) */
	bool experimental_initial_corrupt_check;
	int64_t experimental_corrupt_check_time_ns;
	char *experimental_enable_v2v3;
	char *experimental_backend_bbolt_freelist_type;
	bool experimental_enable_lease_checkpoint;
	bool experimental_enable_lease_checkpoint_persist;
	int64_t experimental_lease_checkpoint_interval_ns;
	int64_t experimental_compaction_batch_limit;
	int64_t experimental_watch_progress_notify_interval_ns;
	int64_t experimental_warning_apply_duration_ns;
	bool experimental_peer_skip_client_san_verification;
	bool enable_grpc_gateway;

	/* Unsafe */
	bool force_new_cluster;
	bool unsafe_no_fsync;

	/* cetcd only */
	uint64_t api_workers; /* 1..64 */
	char *pid_file;

	/* How we were invoked */
	char *config_file;
	bool print_version;
	bool print_help;
	struct str_list warnings; /* for the caller to log */
};

/* config_parse fills *cfg (which need not be initialised) from argv[1..],
 * envp (a NULL-terminated "KEY=VALUE" array; NULL = none) and the config
 * file, then validates it. Returns:
 *   0                  ready to run;
 *   CONFIG_EXIT_OK     --help or --version was printed to stdout: exit 0;
 *   CE_INVAL           message in err: print it and exit 2;
 *   CE_NOMEM / CE_IO   message in err.
 * In every case the caller calls config_close(cfg) afterwards. */
int config_parse(struct cetcd_config *cfg, int argc, char **argv, char **envp, char *err, size_t errlen);

/* config_close frees everything in cfg and zeroes it. Safe to call twice. */
void config_close(struct cetcd_config *cfg);

/* config_wal_dir: --wal-dir, or <data-dir>/member/wal. */
void config_wal_dir(const struct cetcd_config *cfg, char *out, size_t len);

/* config_print_help writes the usage text (every flag, its default, its
 * group as etcd groups them). config_print_version writes the version. */
void config_print_help(FILE *f);
void config_print_version(FILE *f);

/* config_print_error writes a config_parse error the way cetcd reports it:
 * "cetcd: <msg>" and a hint to run --help. */
void config_print_error(FILE *f, const char *msg);

/* --- the flag table (read-only; used by help, tests and tools) --- */

enum config_type {
	CT_STR,     /* char * */
	CT_BOOL,    /* bool; Go's strconv.ParseBool forms */
	CT_UINT,    /* uint64_t; Go's ParseUint(s, 0, 64) */
	CT_INT,     /* int64_t; Go's ParseInt(s, 0, 64) */
	CT_DUR,     /* int64_t nanoseconds; Go duration text ("1h30m") */
	CT_URLS,    /* struct url_list; comma-separated URLs */
	CT_LIST,    /* struct str_list; comma-separated strings */
	CT_ENUM,    /* char *, one of config_flag.choices */
	CT_IGNORED, /* accepted for compatibility, warned about, not stored */
};

enum config_group {
	CG_MEMBER,
	CG_CLUSTERING,
	CG_SECURITY,
	CG_AUTH,
	CG_PROFILING,
	CG_LOGGING,
	CG_PROXY,
	CG_EXPERIMENTAL,
	CG_UNSAFE,
	CG_DEPRECATED,
	CG_CETCD,
	CG_INVOCATION, /* --config-file, --version: shown in the usage header */
	CG_HIDDEN,
	CG_COUNT
};

#define CF_NOENV 0x1 /* no ETCD_ variable (it is handled elsewhere) */
#define CF_NOFILE 0x2 /* cannot appear in the YAML file */

struct config_flag {
	const char *name;       /* without dashes: "data-dir" */
	enum config_type type;
	const char *def;        /* default, parsed like a user value; NULL = empty */
	size_t off;             /* offsetof(struct cetcd_config, field) */
	enum config_group group;
	const char *yaml;       /* YAML key; "a.b" = key b in mapping a */
	const char *shown;      /* default as help shows it, if not def */
	const char *const *choices; /* CT_ENUM: NULL-terminated */
	const char *help;
	unsigned flags;         /* CF_* */
};

int config_flag_count(void);
const struct config_flag *config_flag_get(int i);
const struct config_flag *config_flag_find(const char *name);
/* config_flag_yaml_find looks a flag up by its YAML key ("a.b" nested). */
const struct config_flag *config_flag_yaml_find(const char *key);
/* config_flag_env writes "ETCD_<NAME>" for f into buf. */
void config_flag_env(const struct config_flag *f, char *buf, size_t len);
const char *config_group_title(enum config_group g);

#endif
