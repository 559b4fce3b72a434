/* helpers.c - see helpers.h. Test-only code; aborts the test on I/O errors. */
#include "config.h"

#include "helpers.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void t_tmpdir(char out[256])
{
	snprintf(out, 256, "/tmp/cetcd-wal-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

void t_rmrf(const char *path)
{
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void t_waldir(char out[300], const char *tmp)
{
	snprintf(out, 300, "%s/member/wal", tmp);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int t_segs(const char *dir, char names[][64], int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l == 37 && strcmp(de->d_name + l - 4, ".wal") == 0 && n < max)
			snprintf(names[n++], 64, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, 64, name_cmp);
	return n;
}

void t_path(char out[400], const char *dir, const char *name)
{
	snprintf(out, 400, "%s/%s", dir, name);
}

uint64_t t_file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

uint64_t t_data_end(const char *path)
{
	uint64_t n = t_file_size(path);
	uint8_t *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	t_read(path, 0, p, n);
	while (n > 0 && p[n - 1] == 0)
		n--;
	free(p);
	return n;
}

void t_read(const char *path, uint64_t off, void *p, size_t n)
{
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

void t_write(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

void t_truncate(const char *path, uint64_t size)
{
	ck_assert_int_eq(truncate(path, (off_t)size), 0);
}

void t_model_apply(struct t_model *m, const struct t_op *op)
{
	switch (op->kind) {
	case T_HS:
		m->has_hs = 1;
		m->hs.term = op->a;
		m->hs.vote = op->b;
		m->hs.commit = op->c;
		break;
	case T_SNAP: {
		size_t k = 0;
		m->has_snap = 1;
		m->snap.index = op->a;
		m->snap.term = op->b;
		while (k < m->n && m->e[k].index <= op->a)
			k++;
		if (k > 0)
			memmove(m->e, m->e + k, (m->n - k) * sizeof(*m->e));
		m->n -= k;
		break;
	}
	case T_ENTRY:
		while (m->n > 0 && m->e[m->n - 1].index >= op->a)
			m->n--;
		if (m->has_snap && op->a <= m->snap.index)
			break;
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->e = realloc(m->e, m->cap * sizeof(*m->e));
			ck_assert_ptr_nonnull(m->e);
		}
		m->e[m->n].index = op->a;
		m->e[m->n].term = op->b;
		m->e[m->n].type = (uint8_t)op->c;
		m->e[m->n].data = op->data;
		m->e[m->n].len = op->len;
		m->n++;
		break;
	}
}

void t_model_free(struct t_model *m)
{
	free(m->e);
	memset(m, 0, sizeof(*m));
}

int t_model_equal(const struct t_model *m, const struct wal_recovered *rec)
{
	if (m->has_hs != rec->has_hardstate || m->has_snap != rec->has_snapshot)
		return 0;
	if (m->has_hs && memcmp(&m->hs, &rec->hardstate, sizeof(m->hs)) != 0)
		return 0;
	if (m->has_snap && memcmp(&m->snap, &rec->snapshot, sizeof(m->snap)) != 0)
		return 0;
	if (m->n != rec->n_entries)
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct wal_entry *a = &m->e[i], *b = &rec->entries[i];
		if (a->index != b->index || a->term != b->term || a->type != b->type || a->len != b->len)
			return 0;
		if (a->len > 0 && memcmp(a->data, b->data, a->len) != 0)
			return 0;
	}
	return 1;
}

int t_op_append(struct wal *w, const struct t_op *op)
{
	switch (op->kind) {
	case T_HS:
		return wal_append_hardstate(w, op->a, op->b, op->c);
	case T_SNAP:
		return wal_append_snapshot(w, op->a, op->b);
	default:
		return wal_append_entry(w, op->a, op->b, (uint8_t)op->c, op->data, op->len);
	}
}
