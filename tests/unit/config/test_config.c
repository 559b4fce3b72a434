/* test_config.c - command line (Go flag semantics), ETCD_* environment and
 * precedence, defaults, and every validation error of config_parse(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suites.h"
#include "util/err.h"

#define A(...) ((char *[]){__VA_ARGS__, NULL})
#define NOARGS ((char *[]){NULL})

static int run(struct cetcd_config *c, char *err, size_t errlen, char **envp, char **args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "cetcd";
	for (char **a = args; *a && argc < 63; a++)
		argv[argc++] = *a;
	argv[argc] = NULL;
	err[0] = '\0';
	return config_parse(c, argc, argv, envp, err, errlen);
}

/* expect_fail: parsing fails with CE_INVAL and a message containing needle. */
static void expect_fail(char **envp, char **args, const char *needle)
{
	struct cetcd_config c;
	char err[2048];
	int rc = run(&c, err, sizeof(err), envp, args);

	ck_assert_msg(rc == CE_INVAL, "rc=%d (want CE_INVAL) for \"%s\"; err=%s", rc, args[0] ? args[0] : "", err);
	ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
	config_close(&c);
}

/* expect_ok parses into *c and asserts success. */
static void expect_ok(struct cetcd_config *c, char **envp, char **args)
{
	char err[2048];
	int rc = run(c, err, sizeof(err), envp, args);

	ck_assert_msg(rc == 0, "rc=%d err=%s", rc, err);
}

START_TEST(test_defaults)
{
	struct cetcd_config c;

	expect_ok(&c, NULL, NOARGS);
	ck_assert_str_eq(c.name, "default");
	ck_assert_str_eq(c.data_dir, "default.etcd");
	ck_assert_str_eq(c.wal_dir, "");
	ck_assert_int_eq(c.listen_client_urls.n, 1);
	ck_assert_str_eq(c.listen_client_urls.v[0].str, "http://localhost:2379");
	ck_assert_str_eq(c.listen_client_urls.v[0].host, "localhost");
	ck_assert_int_eq(c.listen_client_urls.v[0].port, 2379);
	ck_assert_str_eq(c.advertise_client_urls.v[0].str, "http://localhost:2379");
	ck_assert_str_eq(c.listen_peer_urls.v[0].str, "http://localhost:2380");
	ck_assert_str_eq(c.initial_advertise_peer_urls.v[0].str, "http://localhost:2380");
	ck_assert_str_eq(c.initial_cluster, "default=http://localhost:2380");
	ck_assert_int_eq(c.cluster.n, 1);
	ck_assert_str_eq(c.cluster.v[0].name, "default");
	ck_assert_str_eq(c.initial_cluster_state, "new");
	ck_assert_str_eq(c.initial_cluster_token, "etcd-cluster");
	ck_assert_uint_eq(c.heartbeat_interval_ms, 100);
	ck_assert_uint_eq(c.election_timeout_ms, 1000);
	ck_assert_uint_eq(c.snapshot_count, 100000);
	ck_assert_uint_eq(c.max_request_bytes, 1572864);
	ck_assert_int_eq(c.quota_backend_bytes, 0);
	ck_assert_uint_eq(c.max_snapshots, 5);
	ck_assert_uint_eq(c.max_wals, 5);
	ck_assert_uint_eq(c.max_txn_ops, 128);
	ck_assert(c.enable_v2); /* cetcd's documented divergence */
	ck_assert(!c.pre_vote);
	ck_assert(c.strict_reconfig_check);
	ck_assert(c.initial_election_tick_advance);
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_str_eq(c.logger, "capnslog");
	ck_assert_int_eq(c.log_outputs.n, 1);
	ck_assert_str_eq(c.log_outputs.v[0], "default");
	ck_assert_str_eq(c.proxy, "off");
	ck_assert_str_eq(c.discovery_fallback, "proxy");
	ck_assert_uint_eq(c.proxy_failure_wait_ms, 5000);
	ck_assert_uint_eq(c.proxy_refresh_interval_ms, 30000);
	ck_assert_int_eq(c.grpc_keepalive_min_time_ns, 5000000000LL);
	ck_assert_int_eq(c.grpc_keepalive_interval_ns, 7200000000000LL);
	ck_assert_int_eq(c.grpc_keepalive_timeout_ns, 20000000000LL);
	ck_assert_int_eq(c.backend_batch_interval_ns, 0);
	ck_assert_str_eq(c.auto_compaction_mode, "periodic");
	ck_assert_int_eq(c.auto_compaction_retention_value, 0);
	ck_assert_uint_eq(c.api_workers, 2);
	ck_assert_str_eq(c.pid_file, "");
	ck_assert_int_eq(c.cors.n, 1);
	ck_assert_str_eq(c.cors.v[0], "*");
	ck_assert_int_eq(c.warnings.n, 0);
	config_close(&c);
}
END_TEST

START_TEST(test_name_derives_data_dir_and_cluster)
{
	struct cetcd_config c;

	expect_ok(&c, NULL, A("--name", "infra1"));
	ck_assert_str_eq(c.data_dir, "infra1.etcd");
	ck_assert_str_eq(c.initial_cluster, "infra1=http://localhost:2380");
	config_close(&c);
	expect_ok(&c, NULL, A("--name", "n1", "--data-dir", "/tmp/x", "--initial-advertise-peer-urls",
			      "http://10.0.0.1:2380,http://10.0.0.2:2380"));
	ck_assert_str_eq(c.data_dir, "/tmp/x");
	ck_assert_str_eq(c.initial_cluster, "n1=http://10.0.0.1:2380,n1=http://10.0.0.2:2380");
	ck_assert_int_eq(c.cluster.n, 2);
	config_close(&c);
}
END_TEST

START_TEST(test_dash_forms)
{
	static const char *const forms[][2] = {
		{"-name", "a"}, {"--name", "a"}, {"-name=a", NULL}, {"--name=a", NULL}};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct cetcd_config c;
		char *args[3] = {(char *)forms[i][0], (char *)forms[i][1], NULL};
		expect_ok(&c, NULL, args);
		ck_assert_msg(strcmp(c.name, "a") == 0, "form %s gave %s", forms[i][0], c.name);
		config_close(&c);
	}
}
END_TEST

START_TEST(test_last_wins_and_value_with_equals)
{
	struct cetcd_config c;

	expect_ok(&c, NULL, A("--name", "a", "-name=b", "--heartbeat-interval", "50", "--heartbeat-interval=200",
			      "--initial-cluster-token=x=y"));
	ck_assert_str_eq(c.name, "b");
	ck_assert_uint_eq(c.heartbeat_interval_ms, 200);
	ck_assert_str_eq(c.initial_cluster_token, "x=y");
	config_close(&c);
	/* a value that starts with '-' is still taken, as Go does */
	expect_ok(&c, NULL, A("--initial-cluster-token", "-tok"));
	ck_assert_str_eq(c.initial_cluster_token, "-tok");
	config_close(&c);
}
END_TEST

START_TEST(test_bool_forms)
{
	static const struct {
		const char *arg;
		bool want;
	} cases[] = {{"--pre-vote", true},         {"-pre-vote", true},         {"--pre-vote=true", true},
		     {"--pre-vote=1", true},       {"--pre-vote=t", true},      {"--pre-vote=T", true},
		     {"--pre-vote=TRUE", true},    {"--pre-vote=True", true},   {"--pre-vote=false", false},
		     {"--pre-vote=0", false},      {"--pre-vote=f", false},     {"--pre-vote=F", false},
		     {"--pre-vote=FALSE", false},  {"--pre-vote=False", false}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cetcd_config c;
		char *args[] = {(char *)cases[i].arg, NULL};
		expect_ok(&c, NULL, args);
		ck_assert_msg(c.pre_vote == cases[i].want, "%s", cases[i].arg);
		config_close(&c);
	}
	expect_fail(NULL, A("--pre-vote=yes"), "invalid boolean value \"yes\" for -pre-vote: parse error");
	/* "--bool false" does not consume "false": it is a leftover argument */
	expect_fail(NULL, A("--enable-v2", "false"), "'false' is not a valid flag");
}
END_TEST

START_TEST(test_stop_at_non_flag)
{
	struct cetcd_config c;

	expect_fail(NULL, A("--name", "a", "extra"), "'extra' is not a valid flag");
	expect_fail(NULL, A("--", "--name", "x"), "'--name' is not a valid flag");
	expect_fail(NULL, A("-", "--name", "x"), "'-' is not a valid flag");
	expect_ok(&c, NULL, A("--name", "a", "--"));
	ck_assert_str_eq(c.name, "a");
	config_close(&c);
}
END_TEST

START_TEST(test_unknown_and_bad_syntax)
{
	char buf[256];

	expect_fail(NULL, A("--foo"), "flag provided but not defined: -foo");
	expect_fail(NULL, A("-foo=1"), "flag provided but not defined: -foo");
	expect_fail(NULL, A("---name", "x"), "bad flag syntax: ---name");
	expect_fail(NULL, A("-=x"), "bad flag syntax: -=x");
	expect_fail(NULL, A("--name"), "flag needs an argument: -name");
	/* the message is printed with cetcd's prefix */
	{
		FILE *f = fmemopen(buf, sizeof(buf), "w");
		config_print_error(f, "flag provided but not defined: -foo");
		fclose(f);
		ck_assert(strncmp(buf, "cetcd: flag provided but not defined: -foo\n", 43) == 0);
	}
}
END_TEST

START_TEST(test_bad_numbers)
{
	struct cetcd_config c;

	expect_fail(NULL, A("--heartbeat-interval", "abc"), "invalid value \"abc\" for flag -heartbeat-interval: parse error");
	expect_fail(NULL, A("--snapshot-count", "-1"), "invalid value \"-1\" for flag -snapshot-count: parse error");
	expect_fail(NULL, A("--max-wals", "99999999999999999999"), "value out of range");
	expect_fail(NULL, A("--quota-backend-bytes", "1.5"), "parse error");
	expect_fail(NULL, A("--grpc-keepalive-min-time", "5"), "invalid value \"5\" for flag -grpc-keepalive-min-time: parse error");
	expect_fail(NULL, A("--proxy-failure-wait", "5s"), "invalid value \"5s\" for flag -proxy-failure-wait: parse error");
	expect_fail(NULL, A("--backend-batch-interval", "10"), "parse error");
	expect_ok(&c, NULL, A("--quota-backend-bytes", "-5", "--heartbeat-interval", "0x10", "--max-wals", "010",
			      "--snapshot-count", "0b101", "--grpc-keepalive-min-time", "1h30m", "--backend-batch-interval",
			      "1.5s", "--grpc-keepalive-timeout", "500ms"));
	ck_assert_int_eq(c.quota_backend_bytes, -5);
	ck_assert_uint_eq(c.heartbeat_interval_ms, 16);
	ck_assert_uint_eq(c.max_wals, 8);
	ck_assert_uint_eq(c.snapshot_count, 5);
	ck_assert_int_eq(c.grpc_keepalive_min_time_ns, 5400000000000LL);
	ck_assert_int_eq(c.backend_batch_interval_ns, 1500000000LL);
	ck_assert_int_eq(c.grpc_keepalive_timeout_ns, 500000000LL);
	config_close(&c);
}
END_TEST

START_TEST(test_help_and_version)
{
	struct cetcd_config c;
	char err[256];
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);

	/* keep the printed help out of the test log */
	ck_assert(saved >= 0 && null >= 0);
	fflush(stdout);
	dup2(null, STDOUT_FILENO);

	ck_assert_int_eq(run(&c, err, sizeof(err), NULL, A("--help")), CONFIG_EXIT_OK);
	ck_assert(c.print_help);
	config_close(&c);
	ck_assert_int_eq(run(&c, err, sizeof(err), NULL, A("-h")), CONFIG_EXIT_OK);
	config_close(&c);
	ck_assert_int_eq(run(&c, err, sizeof(err), NULL, A("--version")), CONFIG_EXIT_OK);
	ck_assert(c.print_version);
	config_close(&c);
	/* flags are handled in order: an unknown flag before --help wins */
	expect_fail(NULL, A("--foo", "--help"), "flag provided but not defined: -foo");
	ck_assert_int_eq(run(&c, err, sizeof(err), NULL, A("--help", "--foo")), CONFIG_EXIT_OK);
	config_close(&c);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
}
END_TEST

START_TEST(test_help_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_print_help(f);
	config_print_version(f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "Member:\n  --name 'default'\n"));
	ck_assert_ptr_nonnull(strstr(text, "  --data-dir '${name}.etcd'\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nClustering:\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nLogging:\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nv2 Proxy:\n"));
	ck_assert_ptr_nonnull(strstr(text, "  --enable-v2 'true'\n"));
	ck_assert_ptr_nonnull(strstr(text, "  --api-workers '2'\n"));
	ck_assert_ptr_nonnull(strstr(text, "cetcd Version: " PACKAGE_VERSION "\n"));
	ck_assert_ptr_nonnull(strstr(text, "etcd API Version: 3.4.23\n"));
	ck_assert_ptr_null(strstr(text, "--cluster-active-size")); /* ignored flags are hidden */
	for (int i = 0; i < config_flag_count(); i++) {
		const struct config_flag *fl = config_flag_get(i);
		char want[128];
		if (fl->group >= CG_INVOCATION)
			continue;
		snprintf(want, sizeof(want), "  --%s '", fl->name);
		ck_assert_msg(strstr(text, want) != NULL, "help lacks --%s", fl->name);
	}
	free(text);
}
END_TEST

START_TEST(test_env)
{
	struct cetcd_config c;

	expect_ok(&c, A("ETCD_NAME=envname", "ETCD_ENABLE_V2=false", "ETCD_SNAPSHOT_COUNT=42", "PATH=/bin",
			"ETCD_LOG_OUTPUTS=stderr,stdout", "ETCD_DATA_DIR="),
		  NOARGS);
	ck_assert_str_eq(c.name, "envname");
	ck_assert_str_eq(c.data_dir, "envname.etcd"); /* empty variables are skipped */
	ck_assert(!c.enable_v2);
	ck_assert_uint_eq(c.snapshot_count, 42);
	ck_assert_int_eq(c.log_outputs.n, 2);
	ck_assert_int_eq(c.warnings.n, 0);
	config_close(&c);

	expect_ok(&c, A("ETCD_FOO=bar", "ETCD_ENABLE_V2=0"), A("--name", "a"));
	ck_assert(has_warning(&c, "unrecognized environment variable ETCD_FOO=bar"));
	ck_assert(!c.enable_v2);
	ck_assert_str_eq(c.name, "a");
	config_close(&c);
}
END_TEST

START_TEST(test_env_precedence_and_errors)
{
	/* etcd 3.4 refuses a setting given both ways rather than picking one */
	expect_fail(A("ETCD_NAME=x"), A("--name", "y"),
		    "conflicting environment variable \"ETCD_NAME\" is shadowed by corresponding command-line flag");
	expect_fail(A("ETCD_HEARTBEAT_INTERVAL=abc"), NOARGS,
		    "invalid value \"abc\" for ETCD_HEARTBEAT_INTERVAL: parse error");
	expect_fail(A("ETCD_ENABLE_V2=yes"), NOARGS, "invalid value \"yes\" for ETCD_ENABLE_V2: parse error");
	/* a URL flag set from the environment counts as set */
	expect_fail(A("ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379"), NOARGS,
		    "--advertise-client-urls is required when --listen-client-urls is set explicitly");
}
END_TEST

START_TEST(test_choices)
{
	expect_fail(NULL, A("--initial-cluster-state", "bogus"),
		    "invalid value \"bogus\" for flag -initial-cluster-state: invalid value");
	expect_fail(NULL, A("--proxy", "bogus"), "invalid value \"bogus\" for flag -proxy: invalid value");
	expect_fail(NULL, A("--discovery-fallback", "bogus"),
		    "invalid value \"bogus\" for flag -discovery-fallback: invalid value");
	expect_fail(NULL, A("--auto-compaction-mode", "bogus"), "unknown auto-compaction-mode \"bogus\"");
	expect_fail(NULL, A("--log-level", "bogus"), "unknown level \"bogus\"");
	expect_fail(NULL, A("--logger", "bogus"), "unknown logger option \"bogus\"");
}
END_TEST

START_TEST(test_timing)
{
	struct cetcd_config c;

	expect_fail(NULL, A("--election-timeout", "200"),
		    "--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]");
	expect_fail(NULL, A("--election-timeout", "60000", "--heartbeat-interval", "1000"),
		    "--election-timeout[60000ms] is too long, and should be set less than 50000ms");
	expect_fail(NULL, A("--heartbeat-interval", "0"), "--heartbeat-interval must be >0 (set to 0ms)");
	expect_fail(NULL, A("--election-timeout", "0"), "--election-timeout must be >0 (set to 0ms)");
	expect_ok(&c, NULL, A("--election-timeout", "500", "--heartbeat-interval", "100"));
	config_close(&c);
	expect_ok(&c, NULL, A("--election-timeout", "50000", "--heartbeat-interval", "10000"));
	config_close(&c);
}
END_TEST

START_TEST(test_url_flags)
{
	struct cetcd_config c;

	expect_fail(NULL, A("--listen-client-urls", "foo"),
		    "invalid value \"foo\" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo");
	expect_fail(NULL, A("--listen-client-urls", "ftp://1.2.3.4:5"), "URL scheme must be");
	expect_fail(NULL, A("--listen-client-urls", "http://1.2.3.4"),
		    "URL address does not have the form \"host:port\": http://1.2.3.4");
	expect_fail(NULL, A("--listen-peer-urls", "http://1.2.3.4:1/x"), "URL must not contain a path: http://1.2.3.4:1/x");
	expect_fail(NULL, A("--initial-advertise-peer-urls", "http://127.0.0.1:2380,ftp://x:1"),
		    "URL scheme must be http, https, unix, or unixs: ftp://x:1");
	expect_fail(NULL, A("--listen-client-urls", "http://example.com:2379", "--advertise-client-urls", "http://a:1"),
		    "expected IP in URL for binding (http://example.com:2379)");
	expect_fail(NULL, A("--listen-client-urls", "http://127.0.0.1:2379"),
		    "--advertise-client-urls is required when --listen-client-urls is set explicitly");
	expect_fail(NULL, A("--advertise-client-urls", "http://:2379"),
		    "--advertise-client-urls \"http://:2379\" must be \"host:port\" (unexpected empty host (http://:2379))");
	/* several URLs: sorted and de-duplicated as etcd does */
	expect_ok(&c, NULL, A("--listen-client-urls", "http://127.0.0.1:2379,http://0.0.0.0:4001,http://127.0.0.1:2379",
			      "--advertise-client-urls", "https://[::1]:2379", "--listen-metrics-urls",
			      "unix://localhost:7"));
	ck_assert_int_eq(c.listen_client_urls.n, 2);
	ck_assert_str_eq(c.listen_client_urls.v[0].str, "http://0.0.0.0:4001");
	ck_assert_str_eq(c.advertise_client_urls.v[0].host, "::1");
	ck_assert_str_eq(c.listen_metrics_urls.v[0].scheme, "unix");
	config_close(&c);
	/* a proxy keeps the default advertise URL */
	expect_ok(&c, NULL, A("--proxy", "on", "--listen-client-urls", "http://127.0.0.1:2379"));
	ck_assert_int_eq(c.advertise_client_urls.n, 1);
	config_close(&c);
	/* etcd treats an empty URL list as "no change" (and as set) */
	expect_ok(&c, NULL, A("--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", ""));
	ck_assert_int_eq(c.advertise_client_urls.n, 1);
	ck_assert_str_eq(c.advertise_client_urls.v[0].str, "http://localhost:2379");
	config_close(&c);
}
END_TEST

START_TEST(test_bootstrap_flags)
{
	struct cetcd_config c;

	expect_fail(NULL, A("--discovery", "https://discovery.etcd.io/x", "--initial-cluster", "default=http://localhost:2380"),
		    "multiple discovery or bootstrap flags are set. Choose one of \"initial-cluster\", \"discovery\" or "
		    "\"discovery-srv\"");
	expect_ok(&c, NULL, A("--discovery", "https://discovery.etcd.io/x"));
	ck_assert_str_eq(c.initial_cluster, "");
	ck_assert_int_eq(c.cluster.n, 0);
	config_close(&c);
	expect_ok(&c, NULL, A("--discovery-srv", "example.com"));
	ck_assert_str_eq(c.initial_cluster, "");
	config_close(&c);
	expect_fail(NULL, A("--discovery", "https://d/x", "--initial-cluster-state", "existing"),
		    "discovery URL should not be set when joining existing initial cluster");
}
END_TEST

START_TEST(test_compaction_and_misc)
{
	struct cetcd_config c;

	expect_fail(NULL, A("--auto-compaction-retention", "1x"),
		    "error parsing CompactionRetention: time: unknown unit \"x\" in duration \"1x\"");
	expect_fail(NULL, A("--auto-compaction-retention", "-1"),
		    "error parsing CompactionRetention: time: missing unit in duration \"-1\"");
	expect_ok(&c, NULL, A("--auto-compaction-retention", "2"));
	ck_assert_int_eq(c.auto_compaction_retention_value, 2LL * 3600 * 1000000000LL);
	config_close(&c);
	expect_ok(&c, NULL, A("--auto-compaction-retention", "30m"));
	ck_assert_int_eq(c.auto_compaction_retention_value, 1800LL * 1000000000LL);
	config_close(&c);
	expect_ok(&c, NULL, A("--auto-compaction-mode", "revision", "--auto-compaction-retention", "1000"));
	ck_assert_int_eq(c.auto_compaction_retention_value, 1000);
	config_close(&c);
	expect_fail(NULL, A("--api-workers", "0"), "--api-workers must be between 1 and 64 (set to 0)");
	expect_fail(NULL, A("--api-workers", "65"), "--api-workers must be between 1 and 64 (set to 65)");
	expect_fail(NULL, A("--max-concurrent-streams", "4294967296"), "value out of range");
	expect_fail(NULL, A("--experimental-enable-lease-checkpoint-persist"),
		    "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint");
	expect_ok(&c, NULL, A("--api-workers", "64", "--pid-file", "/run/cetcd.pid", "--debug", "--cors",
			      "http://a.example,http://b.example", "--cert-file", "c.pem", "--peer-auto-tls",
			      "--cluster-active-size", "--client-cert-auth=true"));
	ck_assert_uint_eq(c.api_workers, 64);
	ck_assert_str_eq(c.pid_file, "/run/cetcd.pid");
	ck_assert_str_eq(c.log_level, "debug");
	ck_assert_int_eq(c.cors.n, 2);
	ck_assert_str_eq(c.cert_file, "c.pem");
	ck_assert(c.peer_auto_tls);
	ck_assert(c.client_cert_auth);
	ck_assert(has_warning(&c, "flag \"-cluster-active-size\" is no longer supported - ignoring."));
	config_close(&c);
}
END_TEST

START_TEST(test_static_cluster)
{
	struct cetcd_config c;

	expect_ok(&c, NULL,
		  A("--name", "cd0", "--initial-advertise-peer-urls", "http://127.0.0.1:2380", "--listen-peer-urls",
		    "http://127.0.0.1:2380", "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls",
		    "http://127.0.0.1:2379", "--initial-cluster-token", "etcd-cluster-1", "--initial-cluster",
		    "cd0=http://127.0.0.1:2380,cd1=http://127.0.0.1:2480,cd2=http://127.0.0.1:2580",
		    "--initial-cluster-state", "new"));
	ck_assert_int_eq(c.cluster.n, 3);
	ck_assert_str_eq(c.cluster.v[1].name, "cd1");
	ck_assert_int_eq(c.cluster.v[2].url.port, 2580);
	config_close(&c);
}
END_TEST

START_TEST(test_cluster_errors)
{
	expect_fail(NULL, A("--name", "foo", "--initial-cluster", "bar=http://127.0.0.1:23801"),
		    "couldn't find local name \"foo\" in the initial cluster configuration");
	expect_fail(NULL,
		    A("--name", "foo", "--initial-cluster", "foo=http://127.0.0.1:9999", "--initial-advertise-peer-urls",
		      "http://127.0.0.1:23801"),
		    "--initial-cluster has foo=http://127.0.0.1:9999 but missing from "
		    "--initial-advertise-peer-urls=http://127.0.0.1:23801 (resolved urls: \"http://127.0.0.1:23801\" != "
		    "\"http://127.0.0.1:9999\")");
	expect_fail(NULL,
		    A("--name", "a", "--initial-cluster", "a=http://127.0.0.1:1",
		      "--initial-advertise-peer-urls", "http://127.0.0.1:1,http://127.0.0.1:2"),
		    "--initial-advertise-peer-urls has http://127.0.0.1:2 but missing from "
		    "--initial-cluster=a=http://127.0.0.1:1,a=http://127.0.0.1:2");
	expect_fail(NULL,
		    A("--name", "a", "--initial-cluster", "a=http://127.0.0.1:2380,b=http://127.0.0.1:2380",
		      "--initial-advertise-peer-urls", "http://127.0.0.1:2380"),
		    "initial cluster a=http://127.0.0.1:2380,b=http://127.0.0.1:2380 has duplicate url");
	expect_fail(NULL, A("--initial-cluster", "foo"),
		    "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ");
	/* name left at default but peer URL changed: the default cluster no
	 * longer matches, as in etcd */
	expect_fail(NULL, A("--initial-advertise-peer-urls", "http://10.9.9.9:2380"),
		    "--initial-cluster has default=http://localhost:2380 but missing from "
		    "--initial-advertise-peer-urls=http://10.9.9.9:2380");
}
END_TEST

START_TEST(test_cluster_relaxed)
{
	struct cetcd_config c;
	char *dir = tmpdir_new(), path[512];

	ck_assert_ptr_nonnull(dir);
	/* localhost resolves to 127.0.0.1, so this matches like in etcd */
	expect_ok(&c, NULL, A("--initial-advertise-peer-urls", "http://127.0.0.1:2380"));
	config_close(&c);
	/* a proxy does not need to be in the cluster */
	expect_ok(&c, NULL, A("--name", "p", "--proxy", "readonly", "--initial-cluster", "a=http://127.0.0.1:2380"));
	ck_assert_int_eq(c.cluster.n, 1);
	config_close(&c);
	/* existing members (with a WAL) skip the bootstrap checks */
	snprintf(path, sizeof(path), "%s/member", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/member/wal", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	free(write_file(path, "0000000000000000-0000000000000000.wal", "x"));
	expect_ok(&c, NULL, A("--name", "foo", "--data-dir", dir, "--initial-cluster", "bar=http://127.0.0.1:2380"));
	config_close(&c);
	/* without the WAL the same flags fail */
	snprintf(path, sizeof(path), "%s/member/wal/0000000000000000-0000000000000000.wal", dir);
	ck_assert_int_eq(unlink(path), 0);
	expect_fail(NULL, A("--name", "foo", "--data-dir", dir, "--initial-cluster", "bar=http://127.0.0.1:2380"),
		    "couldn't find local name");
	tmpdir_rm(dir);
}
END_TEST

Suite *suite_config(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("flags");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_name_derives_data_dir_and_cluster);
	tcase_add_test(tc, test_dash_forms);
	tcase_add_test(tc, test_last_wins_and_value_with_equals);
	tcase_add_test(tc, test_bool_forms);
	tcase_add_test(tc, test_stop_at_non_flag);
	tcase_add_test(tc, test_unknown_and_bad_syntax);
	tcase_add_test(tc, test_bad_numbers);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_help_text);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_env_precedence_and_errors);
	tcase_add_test(tc, test_choices);
	tcase_add_test(tc, test_timing);
	tcase_add_test(tc, test_url_flags);
	tcase_add_test(tc, test_bootstrap_flags);
	tcase_add_test(tc, test_compaction_and_misc);
	tcase_add_test(tc, test_static_cluster);
	tcase_add_test(tc, test_cluster_errors);
	tcase_add_test(tc, test_cluster_relaxed);
	suite_add_tcase(s, tc);
	return s;
}
