/* v2_int.h - shared parts of cetcdctl's v2 command set (ETCDCTL_API=2):
 * the global options, etcdctl's urfave/cli style flag parsing, the v2
 * client (sync, failover with etcdctl's cluster error, v2 error lines) and
 * the node rendering. Private to src/ctl/v2*.c.
 */
#ifndef CETCD_CTL_V2_INT_H
#define CETCD_CTL_V2_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl/ctl.h"

/* etcdctl 2's exit codes. */
enum {
	V2_EXIT_OK = 0,
	V2_EXIT_BADARGS = 1,
	V2_EXIT_BADCONN = 2,
	V2_EXIT_BADAUTH = 3,
	V2_EXIT_SERVER = 4,
	V2_EXIT_UNHEALTHY = 5,
};

/* One flag of a command: "name, n" like urfave/cli. */
enum v2_flag_kind { V2F_BOOL, V2F_STR, V2F_INT };

struct v2_flag {
	const char *names;     /* "recursive, r" */
	enum v2_flag_kind kind;
	int set;               /* given on the command line */
	int b;                 /* V2F_BOOL */
	const char *s;         /* V2F_STR (points into argv) */
	int64_t i;             /* V2F_INT */
};

/* The parsed global options and the connection they describe. */
struct v2_ctx {
	struct ctl_conn conn;
	const char *output;     /* simple | extended | json */
	int no_sync;
	int debug;
	char *user;             /* "user:password" (malloc'd), or NULL */
	int synced;
	const char *cmd;        /* the command's name, for its help */
};

/* v2_flags_parse reorders argv[0..argc) as urfave/cli 1 does (defined
 * flags first, a "--" and what follows left in place), parses the flags
 * into fl and leaves the positional arguments in *pos and *npos (a new
 * malloc'd array of pointers into argv). On a bad flag it prints
 * etcdctl's "Incorrect Usage" text and returns -1. */
int v2_flags_parse(struct v2_ctx *x, const char *cmd, int argc, char **argv, struct v2_flag *fl,
	size_t nfl, char ***pos, int *npos);
struct v2_flag *v2_flag(struct v2_flag *fl, size_t nfl, const char *name);

/* v2_fail prints "Error:  msg" and returns code (for exit). */
int v2_fail(int code, const char *msg);

/* v2_do sends one request (syncing first unless --no-sync), trying each
 * endpoint in turn. Returns 0 with the answer in r; otherwise it printed
 * etcdctl's cluster error and returns the exit code. */
int v2_do(struct v2_ctx *x, const char *method, const char *path, const char *form,
	struct ctl_resp *r, int exit_code);
/* v2_do_raw is v2_do without the sync and without printing, with any
 * body type: 0; -1 with etcdctl's ClusterError text in msg and its detail
 * in detail; -2 when the total timeout passed ("context deadline
 * exceeded" in msg). */
int v2_do_raw(struct v2_ctx *x, const char *method, const char *path, const char *ctype,
	const char *body, struct ctl_resp *r, char *msg, size_t msglen, char *detail, size_t dlen);
/* v2_print_call_error prints a v2_do_raw failure as etcdctl's
 * handleError does ("Error:  " and the message, then the detail). */
void v2_print_call_error(int rc, const char *msg, const char *detail);
/* v2_sync asks /v2/members and uses the members' client URLs, as etcdctl
 * does before every command. Returns 0 or the exit code it printed. */
int v2_sync(struct v2_ctx *x);

/* v2_keys_path builds "/v2/keys<key>" escaped and cleaned like etcd's
 * client (trailing slash kept). */
void v2_keys_path(const char *key, char *out, size_t outlen);
/* v2_escape appends s to b, URL-query escaped. */
void v2_query_escape(struct buf *b, const char *s);

/* Answers of the keys API. */
int v2_key_error(struct v2_ctx *x, const struct ctl_resp *r, json_t *j);
void v2_print_response(struct v2_ctx *x, const struct ctl_resp *r, json_t *j);

/* Commands. Each returns the process's exit code. */
int v2_cmd_keys(struct v2_ctx *x, const char *cmd, int argc, char **argv);
int v2_cmd_watch(struct v2_ctx *x, const char *cmd, int argc, char **argv);
int v2_cmd_member(struct v2_ctx *x, int argc, char **argv);
int v2_cmd_cluster_health(struct v2_ctx *x, int argc, char **argv);
int v2_cmd_auth(struct v2_ctx *x, const char *cmd, int argc, char **argv);

/* v2help.c: etcdctl's help text for "" (the app) or a command, or NULL. */
const char *v2_help_text(const char *cmd);

#endif
