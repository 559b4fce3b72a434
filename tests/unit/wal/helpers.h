/* helpers.h - test helpers for src/wal: temp dirs, segment files, byte
 * surgery on files, and a replay model to compare recovery against. */
#ifndef CETCD_TEST_WAL_HELPERS_H
#define CETCD_TEST_WAL_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "wal/wal.h"

#define T_MAX_SEGS 512

/* t_tmpdir makes a fresh directory under /tmp; the wal goes in <it>/wal. */
void t_tmpdir(char out[256]);
void t_rmrf(const char *path);
void t_waldir(char out[300], const char *tmp);

/* t_segs lists the *.wal names in dir sorted; returns the count. */
int t_segs(const char *dir, char names[][64], int max);
void t_path(char out[400], const char *dir, const char *name);

uint64_t t_file_size(const char *path);
uint64_t t_data_end(const char *path); /* just past the last non-zero byte */
void t_read(const char *path, uint64_t off, void *p, size_t n);
void t_write(const char *path, uint64_t off, const void *p, size_t n);
void t_truncate(const char *path, uint64_t size);

/* A simple replay model: what recovery should return after these ops. */
enum { T_ENTRY, T_HS, T_SNAP };
struct t_op {
	int kind;
	uint64_t a, b, c; /* entry: index, term, type; hs: term, vote, commit; snap: index, term */
	uint8_t *data;
	size_t len;
};
struct t_model {
	struct wal_entry *e; /* data points into the ops, not owned */
	size_t n, cap;
	int has_hs, has_snap;
	struct wal_hardstate hs;
	struct wal_snapshot snap;
};
void t_model_apply(struct t_model *m, const struct t_op *op);
void t_model_free(struct t_model *m);
/* t_model_equal returns 1 if rec holds exactly the model's state. */
int t_model_equal(const struct t_model *m, const struct wal_recovered *rec);
/* t_op_append applies op to the wal; returns the wal's result. */
int t_op_append(struct wal *w, const struct t_op *op);

#endif
