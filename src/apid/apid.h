/* apid.h - the api worker process: client listeners, HTTP parsing, the v2
 * handlers, watchers, and reads straight from the database environment.
 * It never writes the database: writes become proposals to the raft
 * worker, and their outcome comes back from the storage worker. */
#ifndef CETCD_APID_APID_H
#define CETCD_APID_APID_H

struct worker;

int apid_main(struct worker *w);

#endif
