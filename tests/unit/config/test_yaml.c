/* test_yaml.c - --config-file: etcd's YAML keys and types, lists, nested TLS
 * sections, malformed files (line numbers in messages), wrong types, and
 * the rule that a config file overrides flags and environment. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "util/err.h"

static char *dir;

static void setup(void)
{
	dir = tmpdir_new();
	ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
	tmpdir_rm(dir);
	dir = NULL;
}

/* load writes text to cfg.yml and parses "--config-file <it>". */
static int load(struct cetcd_config *c, char *err, size_t errlen, const char *text)
{
	char *path = write_file(dir, "cfg.yml", text);
	int rc;

	ck_assert_ptr_nonnull(path);
	rc = parse_args(c, err, errlen, NULL, "--config-file", path, NULL);
	free(path);
	return rc;
}

static void load_fail(const char *text, const char *needle)
{
	struct cetcd_config c;
	char err[1024];
	int rc = load(&c, err, sizeof(err), text);

	ck_assert_msg(rc == CE_INVAL, "rc=%d err=%s", rc, err);
	ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
	config_close(&c);
}

static const char full_yaml[] =
	"# a cetcd configuration\n"
	"name: infra0\n"
	"data-dir: /var/lib/cetcd\n"
	"wal-dir: /wal\n"
	"snapshot-count: 5000\n"
	"heartbeat-interval: 200\n"
	"election-timeout: 2000\n"
	"quota-backend-bytes: 8589934592\n"
	"listen-peer-urls: http://10.0.0.1:2380\n"
	"listen-client-urls: http://10.0.0.1:2379,http://127.0.0.1:2379\n"
	"initial-advertise-peer-urls: http://10.0.0.1:2380\n"
	"advertise-client-urls: 'http://10.0.0.1:2379'\n"
	"initial-cluster: infra0=http://10.0.0.1:2380,infra1=http://10.0.0.2:2380\n"
	"initial-cluster-state: existing\n"
	"initial-cluster-token: tok\n"
	"enable-v2: false\n"
	"pre-vote: yes\n"
	"strict-reconfig-check: off\n"
	"backend-batch-interval: 100000000\n"
	"grpc-keepalive-min-time: 10s\n"
	"auto-compaction-retention: \"1h\"\n"
	"log-level: debug\n"
	"log-outputs: [stderr, /tmp/cetcd.log]\n"
	"proxy: off\n"
	"discovery-fallback: exit\n"
	"cors: http://a.example\n"
	"client-transport-security:\n"
	"  cert-file: /etc/c.pem\n"
	"  key-file: /etc/k.pem\n"
	"  client-cert-auth: true\n"
	"peer-transport-security:\n"
	"  auto-tls: true\n"
	"api-workers: 4\n"
	"pid-file: /run/cetcd.pid\n"
	"proxy-failure-wait: 100\n";

START_TEST(test_full_file)
{
	struct cetcd_config c;
	char err[1024];

	ck_assert_msg(load(&c, err, sizeof(err), full_yaml) == 0, "%s", err);
	ck_assert_str_eq(c.name, "infra0");
	ck_assert_str_eq(c.data_dir, "/var/lib/cetcd");
	ck_assert_str_eq(c.wal_dir, "/wal");
	ck_assert_uint_eq(c.snapshot_count, 5000);
	ck_assert_uint_eq(c.heartbeat_interval_ms, 200);
	ck_assert_uint_eq(c.election_timeout_ms, 2000);
	ck_assert_int_eq(c.quota_backend_bytes, 8589934592LL);
	ck_assert_int_eq(c.listen_client_urls.n, 2);
	ck_assert_str_eq(c.advertise_client_urls.v[0].str, "http://10.0.0.1:2379");
	ck_assert_int_eq(c.cluster.n, 2);
	ck_assert_str_eq(c.initial_cluster_state, "existing");
	ck_assert_str_eq(c.initial_cluster_token, "tok");
	ck_assert(!c.enable_v2);
	ck_assert(c.pre_vote);
	ck_assert(!c.strict_reconfig_check);
	ck_assert_int_eq(c.backend_batch_interval_ns, 100000000);
	ck_assert_int_eq(c.grpc_keepalive_min_time_ns, 10000000000LL);
	ck_assert_int_eq(c.auto_compaction_retention_value, 3600000000000LL);
	ck_assert_str_eq(c.log_level, "debug");
	ck_assert_int_eq(c.log_outputs.n, 2);
	ck_assert_str_eq(c.log_outputs.v[1], "/tmp/cetcd.log");
	ck_assert_str_eq(c.proxy, "off"); /* "off" is a string here, not YAML's false */
	ck_assert_str_eq(c.discovery_fallback, "exit");
	ck_assert_str_eq(c.cors.v[0], "http://a.example");
	ck_assert_str_eq(c.cert_file, "/etc/c.pem");
	ck_assert_str_eq(c.key_file, "/etc/k.pem");
	ck_assert(c.client_cert_auth);
	ck_assert(c.peer_auto_tls);
	ck_assert(!c.auto_tls);
	ck_assert_uint_eq(c.api_workers, 4);
	ck_assert_str_eq(c.pid_file, "/run/cetcd.pid");
	ck_assert_uint_eq(c.proxy_failure_wait_ms, 100);
	ck_assert_int_eq(c.warnings.n, 0);
	config_close(&c);
}
END_TEST

START_TEST(test_file_overrides_flags_and_env)
{
	struct cetcd_config c;
	char err[1024];
	char *path = write_file(dir, "cfg.yml", "name: fromfile\n");
	char *env[] = {"ETCD_NAME=fromenv", "ETCD_FOO=1", NULL};
	char *env2[3];
	char envfile[600];

	ck_assert_int_eq(parse_args(&c, err, sizeof(err), env, "--name", "fromflag", "--config-file", path, NULL), 0);
	ck_assert_str_eq(c.name, "fromfile");
	ck_assert_str_eq(c.data_dir, "fromfile.etcd");
	ck_assert_str_eq(c.initial_cluster, "fromfile=http://localhost:2380");
	ck_assert(has_warning(&c, "other command-line flags and environment variables are ignored"));
	ck_assert(has_warning(&c, "--name"));
	ck_assert(has_warning(&c, "ETCD_NAME"));
	ck_assert(!has_warning(&c, "unrecognized")); /* env not looked at */
	config_close(&c);

	/* ETCD_CONFIG_FILE works too, and then the rest of the environment
	 * is ignored */
	snprintf(envfile, sizeof(envfile), "ETCD_CONFIG_FILE=%s", path);
	env2[0] = envfile;
	env2[1] = "ETCD_ENABLE_V2=false";
	env2[2] = NULL;
	ck_assert_int_eq(parse_args(&c, err, sizeof(err), env2, NULL), 0);
	ck_assert_str_eq(c.name, "fromfile");
	ck_assert(c.enable_v2);
	ck_assert_str_eq(c.config_file, path);
	config_close(&c);

	/* bad flags still fail before the file is read */
	ck_assert_int_eq(parse_args(&c, err, sizeof(err), NULL, "--config-file", path, "--bogus", NULL), CE_INVAL);
	ck_assert_str_eq(err, "flag provided but not defined: -bogus");
	config_close(&c);
	free(path);
}
END_TEST

START_TEST(test_malformed)
{
	load_fail("name: a\nfoo: bar: baz\n", "cfg.yml:2:");
	load_fail("name: a\nfoo: bar: baz\n", "invalid YAML: mapping values are not allowed");
	load_fail("name: a\nlog-outputs: [a, b\n", "invalid YAML");
	load_fail("- a\n- b\n", "cfg.yml:1: the file must be a mapping of keys to values");
	load_fail("\tname: a\n", "cfg.yml:1:");
}
END_TEST

START_TEST(test_wrong_types)
{
	load_fail("name: a\n\nheartbeat-interval: abc\n",
		  "cfg.yml:3: key \"heartbeat-interval\": invalid value \"abc\": expected a non-negative integer");
	load_fail("snapshot-count: -5\n", "key \"snapshot-count\": invalid value \"-5\"");
	load_fail("heartbeat-interval: \"100\"\n", "key \"heartbeat-interval\"");
	load_fail("enable-v2: \"true\"\n", "cfg.yml:1: key \"enable-v2\": invalid value \"true\": expected a boolean");
	load_fail("enable-v2: maybe\n", "expected a boolean");
	load_fail("name: [a, b]\n", "cfg.yml:1: key \"name\": expected a scalar, got a sequence");
	load_fail("log-outputs: {a: b}\n", "key \"log-outputs\": expected a string or a list, got a mapping");
	load_fail("log-outputs: [[a]]\n", "key \"log-outputs\": expected a list of strings");
	load_fail("client-transport-security: yes\n", "key \"client-transport-security\": expected a mapping");
	load_fail("client-transport-security:\n  cert-file: [x]\n",
		  "cfg.yml:2: key \"client-transport-security.cert-file\": expected a scalar");
	load_fail("listen-client-urls: ftp://x:1\nadvertise-client-urls: http://a:1\n",
		  "cfg.yml:1: key \"listen-client-urls\": invalid value \"ftp://x:1\": URL scheme must be");
	load_fail("proxy: bogus\n", "key \"proxy\": invalid value \"bogus\": expected one of: off, readonly, on");
	load_fail("grpc-keepalive-min-time: soon\n", "key \"grpc-keepalive-min-time\"");
	/* validation applies to files too */
	load_fail("election-timeout: 200\n",
		  "--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]");
	load_fail("initial-cluster-state: bogus\n", "invalid value \"bogus\"");
}
END_TEST

START_TEST(test_edge_cases)
{
	struct cetcd_config c;
	char err[1024];

	/* empty file: all defaults */
	ck_assert_int_eq(load(&c, err, sizeof(err), ""), 0);
	ck_assert_str_eq(c.name, "default");
	ck_assert(c.enable_v2);
	config_close(&c);
	/* nulls keep defaults; unknown keys are warned about; lists may be
	 * comma strings; discovery clears the default initial cluster */
	ck_assert_msg(load(&c, err, sizeof(err),
			   "name: ~\ndata-dir:\nsnapshot-count: null\nno-such-key: 1\nlog-outputs: stdout\n"
			   "discovery: https://discovery.example/abc\nlisten-client-urls: ''\n") == 0,
		      "%s", err);
	ck_assert_str_eq(c.name, "default");
	ck_assert_str_eq(c.data_dir, "default.etcd");
	ck_assert_uint_eq(c.snapshot_count, 100000);
	ck_assert(has_warning(&c, "cfg.yml:4: unknown configuration key \"no-such-key\" ignored"));
	ck_assert_str_eq(c.log_outputs.v[0], "stdout");
	ck_assert_str_eq(c.initial_cluster, "");
	ck_assert_int_eq(c.listen_client_urls.n, 1);
	config_close(&c);
	/* a missing file */
	ck_assert_int_eq(parse_args(&c, err, sizeof(err), NULL, "--config-file", "/nonexistent/x.yml", NULL), CE_INVAL);
	ck_assert_ptr_nonnull(strstr(err, "open config file /nonexistent/x.yml"));
	config_close(&c);
}
END_TEST

Suite *suite_yaml(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_file_overrides_flags_and_env);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_edge_cases);
	suite_add_tcase(s, tc);
	return s;
}
