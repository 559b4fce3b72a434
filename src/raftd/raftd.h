/* raftd.h - the raft worker process: owns the Raft core, the WAL, the peer
 * listener, and the order in which the core's ready batches are carried out
 * (persist, fsync once, send, hand committed entries to the storage worker).
 */
#ifndef CETCD_RAFTD_RAFTD_H
#define CETCD_RAFTD_RAFTD_H

struct worker;

int raftd_main(struct worker *w);

#endif
