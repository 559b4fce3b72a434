/* v3_int.h - private to cetcdctl's v3 command set (src/ctl/v3*.c): the
 * parsed global flags, the pflag-like argument parser shared by every
 * command, the gateway call helper and etcdctl's output printers.
 *
 * Ownership: a struct v3_ctx lives for one cetcdctl run (v3.c owns it);
 * commands borrow it. JSON answers (jansson) belong to the caller.
 * Exit codes are etcdctl's (V3_EXIT_*); commands return one of them.
 */
#ifndef CETCD_CTL_V3_INT_H
#define CETCD_CTL_V3_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "util/buf.h"

/* etcdctl 3.4's exit codes (etcdctl/ctlv3/command/error.go). */
enum {
	V3_EXIT_OK = 0,
	V3_EXIT_ERROR = 1,
	V3_EXIT_BAD_CONNECTION = 2,
	V3_EXIT_INVALID_INPUT = 3,
	V3_EXIT_BAD_FEATURE = 4,
	V3_EXIT_INTERRUPTED = 5,
	V3_EXIT_IO = 6,
	V3_EXIT_BAD_ARGS = 128,
};

/* --write-out values. */
enum v3_out { V3_OUT_SIMPLE, V3_OUT_JSON, V3_OUT_FIELDS, V3_OUT_TABLE, V3_OUT_PROTOBUF };

/* One flag a command (or the global set) accepts, pflag style. */
enum v3_flag_type { V3_FLAG_BOOL, V3_FLAG_STRING, V3_FLAG_INT, V3_FLAG_DURATION, V3_FLAG_LIST };
struct v3_flag {
	const char *name;   /* long name without "--" */
	char shorthand;     /* 0 when none */
	enum v3_flag_type type;
	void *ptr;          /* int *, const char **, int64_t *, int64_t * (ms) */
	const char *defshow; /* default as etcdctl's help shows it */
	const char *help;
	int persistent;     /* a parent command's flag: help lists it under GLOBAL OPTIONS */
};

struct v3_ctx {
	struct ctl_conn conn;
	enum v3_out out;
	int hex;
	const char *user, *password;
	char *token;              /* from /v3/auth/authenticate, owned */
	char *endpoints_raw;      /* owned copy that conn.endpoints point into */
	int64_t cmd_timeout_ms;   /* the --command-timeout as given */
};

/* A command: its name path ("lease grant"), usage, help, flags and body.
 * argv holds only the positional arguments (after flag parsing). */
struct v3_cmd {
	const char *name;
	const char *usage;   /* after "etcdctl " */
	const char *desc;
	const char *long_desc; /* DESCRIPTION text or NULL */
	struct v3_flag *flags; /* terminated by name == NULL; may be NULL */
	int (*run)(struct v3_ctx *c, int argc, char **argv);
	int keep_dashdash;     /* pass a "--" on as a positional (watch KEY -- CMD) */
};

/* v3.c */
/* v3_restore.c: snapshot restore */
extern struct v3_flag v3_restore_flags[];
struct v3_ctx;
int v3_restore_run(struct v3_ctx *c, int argc, char **argv);

int v3_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v3_call POSTs req (a JSON object, not stolen) to path and parses the
 * answer into *resp. A gateway error becomes "Error: <message>" on
 * stderr and the exit code is returned; V3_EXIT_OK on success. */
int v3_call(struct v3_ctx *c, const char *path, json_t *req, json_t **resp);
/* v3_call_raw: as v3_call, but on an error answer returns -1 with the
 * message in err (nothing printed); connection errors still print. */
int v3_call_raw(struct v3_ctx *c, const char *path, json_t *req, json_t **resp, char *err,
	size_t errlen);
/* Reads all of stdin into b (appending). 0 or -1. */
int v3_read_stdin(struct buf *b);
/* Sets a conn targeting just one endpoint (for endpoint/cluster commands). */
void v3_conn_one(const struct v3_ctx *c, struct ctl_conn *one, char **ep);

/* v3_out.c: value helpers. */
/* Decodes base64 s into a malloc'd buffer (NUL-terminated); *len its size. */
char *v3_b64dec(const char *s, size_t *len);
/* Encodes len bytes into a malloc'd NUL-terminated base64 string. */
char *v3_b64enc(const void *p, size_t len);
/* Reads an integer gateway field (string or number), default 0. */
int64_t v3_jint(json_t *o, const char *k);
uint64_t v3_juint(json_t *o, const char *k);
int v3_jbool(json_t *o, const char *k);
/* Prints bytes as etcdctl: raw, or \xNN with --hex. */
void v3_print_bytes(const struct v3_ctx *c, const char *p, size_t len);
/* Go's strconv.Quote of bytes (for the fields format), onto stdout. */
void v3_print_quoted(const char *p, size_t len);
/* Prints the base64 field k of o decoded, raw or hex. */
void v3_print_b64field(const struct v3_ctx *c, json_t *o, const char *k);
/* Writes the gateway answer as etcdctl's -w json (Go's encoding/json of the
 * gRPC struct), followed by a newline. */
void v3_print_json(json_t *resp);
void v3_print_json_inline(json_t *v); /* same, without the newline */
/* Fields format pieces. */
void v3_fields_header(json_t *resp);
void v3_fields_kv(const struct v3_ctx *c, json_t *kv, const char *prefix);
/* Simple format of a KeyValue: key line, value line. */
void v3_simple_kv(const struct v3_ctx *c, json_t *kv, int keys_only, int value_only);
/* Draws a table as etcdctl's tablewriter does. cells: nrows*ncols strings. */
void v3_table(const char *const *head, size_t ncols, char **cells, size_t nrows);

/* v3_args.c */
/* Parses argv (after the command words) against the command's flags and
 * the global flags. Positional args collected into pos (caller-allocated,
 * argc entries). Prints etcdctl's error and help on failure; returns
 * V3_EXIT_OK, or an exit code, or -1 when help was shown (exit 0). */
int v3_parse(struct v3_ctx *c, const struct v3_cmd *cmd, int argc, char **argv, char **pos,
	int *npos);
void v3_help_cmd(const struct v3_cmd *cmd, FILE *f);
/* One OPTIONS block (fl; with extra's persistent flags when fl is the
 * global set), tab-aligned as Go's tabwriter pads it. */
void v3_help_flags(FILE *o, const struct v3_flag *fl, const struct v3_flag *extra,
	int with_help, const char *cmdname);
int v3_parse_duration(const char *s, int64_t *ms);
extern struct v3_flag v3_global_flags[];

/* v3_kv.c: the printers of put / get / del answers (txn reuses them), and
 * one txn op line ("put k v", "get k --prefix", ...) turned into a
 * RequestOp: 0, an exit code (message printed), or -1 when not an op. */
void v3_put_print(struct v3_ctx *c, json_t *resp);
void v3_get_print(struct v3_ctx *c, json_t *resp);
void v3_del_print(struct v3_ctx *c, json_t *resp);
int v3_kv_op(struct v3_ctx *c, int argc, char **argv, json_t **op);

/* Command tables (each v3_<area>.c). */
extern const struct v3_cmd v3_kv_cmds[];
extern const struct v3_cmd v3_txn_cmds[];
extern const struct v3_cmd v3_lease_cmds[];
extern const struct v3_cmd v3_watch_cmds[];
extern const struct v3_cmd v3_cluster_cmds[];
extern const struct v3_cmd v3_misc_cmds[];
extern const struct v3_cmd v3_perf_cmds[];

#endif
