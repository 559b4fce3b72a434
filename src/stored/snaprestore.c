/* snaprestore.c - cetcd-snaprestore FILE DATA-DIR: restore a client
 * snapshot saved from Maintenance/Snapshot (etcdctl snapshot save) into a
 * new data directory, the offline half of "etcdctl snapshot restore" until
 * cetcdctl has it. Tests use it to prove a streamed snapshot restores. */
#include "config.h"
#include "stored/dbsnap.h"

#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct store_snap_info info;
	char err[1024] = "";

	if (argc != 3) {
		fprintf(stderr, "usage: %s SNAPSHOT-FILE DATA-DIR\n", argv[0]);
		return 2;
	}
	if (dbsnap_restore(argv[1], argv[2], &info, err, sizeof(err)) != 0) {
		fprintf(stderr, "restore: %s\n", err);
		return 1;
	}
	printf("restored %" PRIu64 " records (snapshot at index %" PRIu64 ", term %" PRIu64 ") into %s\n",
		info.records, info.index, info.term, argv[2]);
	return 0;
}
