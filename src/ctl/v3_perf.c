/* v3_perf.c - cetcdctl v3's `check perf`: etcdctl 3.4's write load test
 * (a rate-limited stream of puts under a prefix for 60 seconds, then
 * PASS/FAIL on throughput, slowest request and standard deviation), run by
 * a few worker processes since each gateway call here is synchronous. */
#include "config.h"
#include "ctl/v3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *pf_load = "s", *pf_prefix = "/etcdctl-check-perf/";
static int pf_compact, pf_defrag;
static int64_t pf_secs = 60;
static struct v3_flag perf_flags[] = {
	{ "load", 0, V3_FLAG_STRING, &pf_load, "\"s\"", "The performance check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)", 0 },
	{ "prefix", 0, V3_FLAG_STRING, &pf_prefix, "\"/etcdctl-check-perf/\"", "The prefix for writing the performance check's keys.", 0 },
	{ "auto-compact", 0, V3_FLAG_BOOL, &pf_compact, "false", "Compact storage with last revision after test is finished.", 0 },
	{ "auto-defrag", 0, V3_FLAG_BOOL, &pf_defrag, "false", "Defragment storage after test is finished.", 0 },
	/* hidden, cetcdctl only: a shorter run for tests */
	{ "duration-seconds", 0, V3_FLAG_INT, &pf_secs, NULL, NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

/* etcdctl's workload models: writes/s, clients, value size. */
static const struct { const char *name; int limit, clients, size; } loads[] = {
	{ "s", 150, 50, 1024 }, { "m", 1000, 200, 1024 }, { "l", 8000, 500, 1024 },
	{ "xl", 15000, 1000, 1024 },
};

/* What each worker reports through its pipe. */
struct perf_stat {
	uint64_t n;
	double sum, sumsq, max;
};

/* Square root without libm (cetcdctl links no -lm). */
static double perf_sqrt(double x)
{
	double r = x > 1 ? x : 1;

	if (x <= 0)
		return 0;
	for (int i = 0; i < 60; i++)
		r = 0.5 * (r + x / r);
	return r;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void perf_worker(struct v3_ctx *c, int wfd, int id, double rate, double end, int size)
{
	struct perf_stat st = { 0, 0, 0, 0 };
	char *val = malloc((size_t)size), key[256], err[256];
	double next = mono();

	if (val == NULL)
		_exit(1);
	srand((unsigned)(getpid() ^ (unsigned)id));
	for (int i = 0; i < size; i++)
		val[i] = (char)('a' + rand() % 26);
	char *v64 = v3_b64enc(val, (size_t)size);
	while (mono() < end) {
		double now = mono();
		if (now < next) {
			struct timespec ts = { 0, (long)((next - now) * 1e9) };
			nanosleep(&ts, NULL);
		}
		next += 1.0 / rate;
		snprintf(key, sizeof(key), "%s%08x%08x", pf_prefix, (unsigned)id, (unsigned)rand());
		char *k64 = v3_b64enc(key, strlen(key)), body[4096];
		snprintf(body, sizeof(body), "{\"key\":\"%s\",\"value\":\"%s\"}", k64, v64);
		free(k64);
		struct ctl_resp r;
		double t0 = mono();
		ctl_resp_init(&r);
		int rc = ctl_http(&c->conn, "POST", "/v3/kv/put", "application/json", body,
			strlen(body), &r, err, sizeof(err));
		ctl_resp_close(&r);
		double d = mono() - t0;
		if (rc != 0)
			continue;
		st.n++;
		st.sum += d;
		st.sumsq += d * d;
		if (d > st.max)
			st.max = d;
	}
	if (write(wfd, &st, sizeof(st)) != (ssize_t)sizeof(st))
		_exit(1);
	_exit(0);
}

static int prefix_empty(struct v3_ctx *c)
{
	size_t n = strlen(pf_prefix);
	char *end = malloc(n + 1);
	json_t *req, *resp = NULL;
	int rc;

	memcpy(end, pf_prefix, n + 1);
	end[n - 1]++;
	char *k = v3_b64enc(pf_prefix, n), *e = v3_b64enc(end, n);
	req = json_pack("{s:s,s:s,s:b}", "key", k, "range_end", e, "count_only", 1);
	free(k);
	free(e);
	free(end);
	rc = v3_call(c, "/v3/kv/range", req, &resp);
	json_decref(req);
	if (rc != 0)
		return rc;
	if (v3_jint(resp, "count") > 0)
		rc = v3_fail(V3_EXIT_INVALID_INPUT, "prefix \"%s\" has keys. Delete with etcdctl del "
			"--prefix %s first", pf_prefix, pf_prefix);
	json_decref(resp);
	return rc;
}

static void perf_cleanup(struct v3_ctx *c)
{
	size_t n = strlen(pf_prefix);
	char *end = strdup(pf_prefix);
	json_t *req, *resp = NULL;

	end[n - 1]++;
	char *k = v3_b64enc(pf_prefix, n), *e = v3_b64enc(end, n);
	req = json_pack("{s:s,s:s}", "key", k, "range_end", e);
	if (v3_call(c, "/v3/kv/deleterange", req, &resp) == 0 && pf_compact) {
		json_t *creq = json_pack("{s:I,s:b}", "revision",
			(json_int_t)v3_jint(json_object_get(resp, "header"), "revision"), "physical", 1);
		json_t *cresp = NULL;
		v3_call(c, "/v3/kv/compaction", creq, &cresp);
		json_decref(creq);
		json_decref(cresp);
	}
	if (pf_defrag) {
		json_t *dreq = json_object(), *dresp = NULL;
		v3_call(c, "/v3/maintenance/defragment", dreq, &dresp);
		json_decref(dreq);
		json_decref(dresp);
	}
	free(k);
	free(e);
	free(end);
	json_decref(req);
	json_decref(resp);
}

static void progress(int64_t done, int64_t total, double left, int last)
{
	printf("\r%3" PRId64 " / %" PRId64 " %7.2f%%", done, total,
		total ? 100.0 * (double)done / (double)total : 100.0);
	if (last)
		printf(" %dm%ds\n", (int)(total / 60), (int)(total % 60));
	else if (done > 0)
		printf(" %02dm%02ds", (int)left / 60, (int)left % 60);
	fflush(stdout);
}

static int perf_run(struct v3_ctx *c, int argc, char **argv)
{
	size_t li;
	int fds[2], nw, rc;
	pid_t kids[16];

	(void)argc;
	(void)argv;
	for (li = 0; li < 4 && strcmp(loads[li].name, pf_load) != 0; li++)
		;
	if (li == 4)
		return v3_fail(V3_EXIT_BAD_FEATURE, "unknown load option %s", pf_load);
	if (*pf_prefix == '\0')
		return v3_fail(V3_EXIT_BAD_ARGS, "prefix must not be empty");
	if ((rc = prefix_empty(c)) != 0)
		return rc;
	nw = loads[li].clients < 16 ? loads[li].clients : 16;
	if (pipe(fds) != 0)
		return v3_fail(V3_EXIT_ERROR, "pipe: %s", strerror(errno));
	double start = mono(), end = start + (double)pf_secs;
	fflush(stdout);
	for (int i = 0; i < nw; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			close(fds[0]);
			perf_worker(c, fds[1], i, (double)loads[li].limit / nw, end, loads[li].size);
		}
	}
	close(fds[1]);
	for (int64_t s = 0; s < pf_secs; s++) {
		progress(s, pf_secs, (double)(pf_secs - s), 0);
		double wake = start + (double)(s + 1);
		double now = mono();
		if (wake > now) {
			struct timespec ts = { (time_t)(wake - now), (long)((wake - now - (double)(time_t)(wake - now)) * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	struct perf_stat all = { 0, 0, 0, 0 }, st;
	for (int i = 0; i < nw; i++) {
		if (read(fds[0], &st, sizeof(st)) == (ssize_t)sizeof(st)) {
			all.n += st.n;
			all.sum += st.sum;
			all.sumsq += st.sumsq;
			if (st.max > all.max)
				all.max = st.max;
		}
	}
	for (int i = 0; i < nw; i++)
		waitpid(kids[i], NULL, 0);
	close(fds[0]);
	progress(pf_secs, pf_secs, 0, 1);
	double took = mono() - start, rps = took > 0 ? (double)all.n / took : 0;
	double mean = all.n ? all.sum / (double)all.n : 0;
	double var = all.n ? all.sumsq / (double)all.n - mean * mean : 0;
	double sd = var > 0 ? perf_sqrt(var) : 0;
	int ok = 1;
	if (rps / loads[li].limit <= 0.9) {
		printf("FAIL: Throughput too low: %d writes/s\n", (int)rps + 1);
		ok = 0;
	} else
		printf("PASS: Throughput is %d writes/s\n", (int)rps + 1);
	if (all.max > 0.5) {
		printf("FAIL: Slowest request took too long: %fs\n", all.max);
		ok = 0;
	} else
		printf("PASS: Slowest request took %fs\n", all.max);
	if (sd > 0.1) {
		printf("FAIL: Stddev too high: %fs\n", sd);
		ok = 0;
	} else
		printf("PASS: Stddev is %fs\n", sd);
	perf_cleanup(c);
	if (!ok) {
		puts("FAIL");
		return V3_EXIT_ERROR;
	}
	puts("PASS");
	return V3_EXIT_OK;
}

const struct v3_cmd v3_perf_cmds[] = {
	{ "check perf", "check perf [options]", "Check the performance of the etcd cluster", NULL,
		perf_flags, perf_run, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
