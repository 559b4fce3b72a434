/* stored.h - the storage worker process: the only writer of the Berkeley DB
 * environment. It applies committed entries in order, one transaction per
 * batch that also records the applied raft index, then answers the api
 * worker that proposed each entry and publishes watch events. */
#ifndef CETCD_STORED_STORED_H
#define CETCD_STORED_STORED_H

struct worker;

int stored_main(struct worker *w);

#endif
