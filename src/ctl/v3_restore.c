/* v3_restore.c - cetcdctl snapshot restore FILE: etcdctl 3.4's offline
 * restore of a saved snapshot (cetcdctl snapshot save, or the gateway's
 * /v3/maintenance/snapshot stream) into a new member data directory.
 *
 * The file is cetcd's database snapshot with its SHA-256 at the end; the
 * restore checks the hash (unless --skip-hash-check) and writes the v3
 * state (keys, revisions, leases) into <data-dir>/member/db. As with
 * etcd, the member is then started with the same --name, --initial-cluster,
 * --initial-cluster-token and --initial-advertise-peer-urls given here: it
 * bootstraps a new cluster from those flags that serves the snapshot's
 * keys. The flags are checked here as etcdctl checks them.
 */
#include "config.h"
#include "ctl/v3_int.h"

#include "stored/dbsnap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *rs_data_dir = "";
static const char *rs_wal_dir = "";
static const char *rs_name = "default";
static const char *rs_cluster = "default=http://localhost:2380";
static const char *rs_token = "etcd-cluster";
static const char *rs_apurls = "http://localhost:2380";
static int rs_skip_hash;

struct v3_flag v3_restore_flags[] = {
	{ "data-dir", 0, V3_FLAG_STRING, &rs_data_dir, "\"\"", "Path to the data directory", 0 },
	{ "initial-advertise-peer-urls", 0, V3_FLAG_STRING, &rs_apurls,
		"\"http://localhost:2380\"",
		"List of this member's peer URLs to advertise to the rest of the cluster", 0 },
	{ "initial-cluster", 0, V3_FLAG_STRING, &rs_cluster, "\"default=http://localhost:2380\"",
		"Initial cluster configuration for restore bootstrap", 0 },
	{ "initial-cluster-token", 0, V3_FLAG_STRING, &rs_token, "\"etcd-cluster\"",
		"Initial cluster token for the etcd cluster during restore bootstrap", 0 },
	{ "name", 0, V3_FLAG_STRING, &rs_name, "\"default\"", "Human-readable name for this member", 0 },
	{ "skip-hash-check", 0, V3_FLAG_BOOL, &rs_skip_hash, "false",
		"Ignore snapshot integrity hash value (required if copied from data directory)", 0 },
	{ "wal-dir", 0, V3_FLAG_STRING, &rs_wal_dir, "\"\"",
		"Path to the WAL directory (use --data-dir if none given)", 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};

/* in_cluster: does the initial cluster name this member with one of its
 * advertised peer URLs (etcd's "couldn't find local name")? */
static int in_cluster(void)
{
	char want[512];
	const char *p = rs_cluster;

	snprintf(want, sizeof(want), "%s=", rs_name);
	while ((p = strstr(p, want)) != NULL) {
		if (p == rs_cluster || p[-1] == ',')
			return 1;
		p++;
	}
	return 0;
}

int v3_restore_run(struct v3_ctx *c, int argc, char **argv)
{
	struct store_snap_info info;
	char dir[4096], err[1024];
	struct stat st;
	int rc;

	(void)c;
	if (argc != 1)
		return v3_fail(V3_EXIT_BAD_ARGS, "snapshot restore requires exactly one argument");
	if (!in_cluster())
		return v3_fail(V3_EXIT_INVALID_INPUT,
			"couldn't find local name \"%s\" in the initial cluster configuration", rs_name);
	if (*rs_wal_dir)
		return v3_fail(V3_EXIT_BAD_FEATURE, "snapshot restore --wal-dir is not supported by "
			"cetcdctl (the WAL is created when the member first starts)");
	snprintf(dir, sizeof(dir), "%s", *rs_data_dir ? rs_data_dir : "");
	if (!*dir)
		snprintf(dir, sizeof(dir), "%s.etcd", rs_name);
	if (stat(dir, &st) == 0)
		return v3_fail(V3_EXIT_ERROR, "data-dir \"%s\" exists", dir);
	if (!rs_skip_hash && (rc = dbsnap_verify(argv[0], err, sizeof(err))) != 0)
		return v3_fail(V3_EXIT_ERROR, "%s", err);
	if ((rc = dbsnap_restore(argv[0], dir, &info, err, sizeof(err))) != 0)
		return v3_fail(V3_EXIT_ERROR, "%s", err);
	fprintf(stderr, "restored snapshot (%" PRIu64 " records) to %s; start the member with "
		"--name %s --initial-cluster %s --initial-cluster-token %s "
		"--initial-advertise-peer-urls %s --data-dir %s\n", info.records, dir, rs_name,
		rs_cluster, rs_token, rs_apurls, dir);
	return V3_EXIT_OK;
}
