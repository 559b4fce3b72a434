/* test_ipc.c - IPC frame headers, payload codecs (incl. garbage input), the
 * shared-memory layout, and a framed round trip over a socketpair. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc/conn.h"
#include "ipc/frame.h"
#include "ipc/proto.h"
#include "ipc/shm.h"
#include "util/err.h"

START_TEST(test_hdr_roundtrip)
{
	struct ipc_hdr h = { IPC_MAGIC, IPC_VERSION, IPC_APPLY, 1234, 99, 3, 7 }, g;
	uint8_t raw[IPC_HDR_SIZE];

	ipc_hdr_pack(&h, raw);
	ck_assert_int_eq(ipc_hdr_unpack(&g, raw), 0);
	ck_assert_uint_eq(g.type, IPC_APPLY);
	ck_assert_uint_eq(g.len, 1234);
	ck_assert_uint_eq(g.req_id, 99);
	ck_assert_uint_eq(g.origin, 3);
	ck_assert_uint_eq(g.gen, 7);
	raw[2] = 9; /* a future version */
	ck_assert_int_eq(ipc_hdr_unpack(&g, raw), CE_VERSION);
	raw[2] = IPC_VERSION;
	raw[7] = 0xff; /* absurd length */
	ck_assert_int_eq(ipc_hdr_unpack(&g, raw), CE_TOOBIG);
}
END_TEST

START_TEST(test_envelope_and_garbage)
{
	struct proto_envelope e = { PROTO_V2, 0x1234, 2, 5, 77, "body", 4 }, d;
	struct buf b;

	buf_init(&b);
	proto_envelope_encode(&b, &e);
	ck_assert_int_eq(proto_envelope_decode(&d, b.data, b.len), 0);
	ck_assert_uint_eq(d.kind, PROTO_V2);
	ck_assert_uint_eq(d.member, 0x1234);
	ck_assert_uint_eq(d.req_id, 77);
	ck_assert_uint_eq(d.len, 4);
	ck_assert_int_eq(memcmp(d.body, "body", 4), 0);
	/* every truncation is an error, never a crash */
	for (size_t n = 0; n < PROTO_ENVELOPE_SIZE; n++)
		ck_assert_int_ne(proto_envelope_decode(&d, b.data, n), 0);
	buf_close(&b);
	srand(42);
	for (int i = 0; i < 10000; i++) {
		uint8_t junk[64];
		size_t n = (size_t)(rand() % 64);
		struct proto_event ev;
		struct proto_result r;
		struct proto_hello h;
		for (size_t j = 0; j < n; j++)
			junk[j] = (uint8_t)rand();
		proto_envelope_decode(&d, junk, n);
		proto_event_decode(&ev, junk, n);
		proto_result_decode(&r, junk, n);
		proto_hello_decode(&h, junk, n);
	}
}
END_TEST

START_TEST(test_shm_layout)
{
	struct shm s, t;
	char err[128];

	ck_assert_int_eq(shm_create(&s, 4, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.hdr->magic, SHM_MAGIC);
	ck_assert_uint_eq(s.hdr->version, SHM_LAYOUT_VERSION);
	ck_assert_uint_eq(s.hdr->nslots, 4);
	ck_assert_uint_eq(s.hdr->size, shm_size(4));
	ck_assert_uint_eq(s.hdr->raft_off % 64, 0);
	ck_assert_uint_eq(s.hdr->store_off % 64, 0);
	ck_assert_int_eq(shm_attach(&t, s.hdr, s.size, err, sizeof(err)), 0);
	ck_assert_ptr_eq(t.slots, s.slots);
	s.hdr->version++;
	ck_assert_int_eq(shm_attach(&t, s.hdr, s.size, err, sizeof(err)), CE_VERSION);
	s.hdr->version--;
	/* a writer killed mid-update must not wedge readers */
	shm_write_begin(&s.raft->seq);
	struct shm_raft copy;
	shm_raft_read(&s, &copy);
	shm_writer_reset(&s.raft->seq);
	ck_assert_uint_eq(s.raft->seq % 2, 0);
	shm_destroy(&s);
}
END_TEST

struct rt {
	int got;
	size_t bytes;
	int bursts;
};

static void rt_msg(struct ipc_conn *c, const struct ipc_hdr *h, const uint8_t *p, void *arg)
{
	struct rt *rt = arg;
	rt->got++;
	rt->bytes += h->len;
	size_t bad = 0;
	for (size_t i = 0; i < h->len; i++)
		bad += p[i] != (uint8_t)(h->req_id + i);
	ck_assert_uint_eq(bad, 0);
}

static void rt_burst(struct ipc_conn *c, void *arg)
{
	((struct rt *)arg)->bursts++;
}

static void rt_close(struct ipc_conn *c, void *arg)
{
	ipc_conn_free(c);
}

START_TEST(test_conn_roundtrip)
{
	struct event_base *base = event_base_new();
	struct rt rt = { 0 };
	int sv[2];
	uint8_t *big = malloc(300000);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	struct ipc_conn *a = ipc_conn_new(base, sv[0], rt_msg, rt_burst, rt_close, &rt);
	struct ipc_conn *b = ipc_conn_new(base, sv[1], rt_msg, rt_burst, rt_close, &rt);
	for (int i = 0; i < 50; i++) {
		size_t n = (size_t)(i * 6000);
		for (size_t j = 0; j < n; j++)
			big[j] = (uint8_t)(i + j);
		ck_assert_int_eq(ipc_conn_send(a, IPC_APPLY, (uint64_t)i, 0, 0, big, n / 2, big + n / 2,
			n - n / 2), 0);
	}
	/* bounded number of non-blocking loop turns */
	for (int i = 0; i < 200000 && rt.got < 50; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(rt.got, 50);
	ck_assert_int_ge(rt.bursts, 1);
	ipc_conn_free(a);
	ipc_conn_free(b);
	event_base_free(base);
	free(big);
}
END_TEST

Suite *suite_ipc(void);
Suite *suite_ipc(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hdr_roundtrip);
	tcase_add_test(tc, test_envelope_and_garbage);
	tcase_add_test(tc, test_shm_layout);
	tcase_add_test(tc, test_conn_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_ipc());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
