/* test_cluster.c - the member table's JSON: what the peer port answers on
 * GET /members, and published attributes taken into the table. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/cluster.h"

/* two members; the second's id does not fit in an int64 */
static void two(struct cluster *c)
{
	memset(c, 0, sizeof(*c));
	c->n = 2;
	c->v[0].id = 0xf000000000000001ull;
	snprintf(c->v[0].name, sizeof(c->v[0].name), "big");
	c->v[0].peer_urls[c->v[0].npeer++] = strdup("http://10.0.0.2:2380");
	c->v[1].id = 0x10;
	c->v[1].learner = 1;
	c->v[1].peer_urls[c->v[1].npeer++] = strdup("http://10.0.0.1:2380");
}

START_TEST(test_peer_members_json)
{
	struct cluster c;
	char *s;

	two(&c);
	s = cluster_peer_members_json(&c);
	ck_assert_ptr_nonnull(s);
	/* sorted by id; uint64 ids as numbers; etcd's omitempty fields */
	ck_assert_str_eq(s, "[{\"id\":16,\"peerURLs\":[\"http://10.0.0.1:2380\"],\"isLearner\":true},"
		"{\"id\":17293822569102704641,\"peerURLs\":[\"http://10.0.0.2:2380\"],\"name\":\"big\"}]");
	free(s);
	cluster_close(&c);
}
END_TEST

START_TEST(test_set_attributes)
{
	static const char attrs[] = "{\"name\":\"m1\",\"clientURLs\":[\"http://10.0.0.1:2379\"]}";
	static const char moved[] =
		"{\"name\":\"m1\",\"clientURLs\":[\"http://10.0.0.9:2379\",\"http://h:1\"]}";
	struct cluster c;
	char *s;

	two(&c);
	ck_assert_int_eq(cluster_set_attributes(&c, 0x10, attrs, strlen(attrs)), 1);
	ck_assert_str_eq(c.v[1].name, "m1");
	ck_assert_uint_eq(c.v[1].nclient, 1);
	ck_assert_str_eq(c.v[1].client_urls[0], "http://10.0.0.1:2379");
	/* the same again changes nothing; unknown ids and bad JSON neither */
	ck_assert_int_eq(cluster_set_attributes(&c, 0x10, attrs, strlen(attrs)), 0);
	ck_assert_int_eq(cluster_set_attributes(&c, 0x99, attrs, strlen(attrs)), 0);
	ck_assert_int_eq(cluster_set_attributes(&c, 0x10, "{\"clientURLs\":[1]}", 18), 0);
	ck_assert_int_eq(cluster_set_attributes(&c, 0x10, "not json", 8), 0);
	ck_assert_uint_eq(c.v[1].nclient, 1);
	s = cluster_peer_members_json(&c);
	ck_assert_ptr_nonnull(strstr(s, "\"name\":\"m1\",\"clientURLs\":[\"http://10.0.0.1:2379\"]"));
	free(s);
	/* a new address replaces the old */
	ck_assert_int_eq(cluster_set_attributes(&c, 0x10, moved, strlen(moved)), 1);
	ck_assert_uint_eq(c.v[1].nclient, 2);
	ck_assert_str_eq(c.v[1].client_urls[0], "http://10.0.0.9:2379");
	cluster_close(&c);
}
END_TEST

static Suite *suite_cluster(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, test_peer_members_json);
	tcase_add_test(tc, test_set_attributes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite_cluster());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
