/* test_sim.c - randomized, deterministic cluster simulation of the raft
 * core (sim.h). Every seed picks 3 or 5 nodes, fault rates and the pre-vote
 * / check-quorum flags; runs chaos steps checking the safety properties
 * after each, then heals and demands a committed proposal in bounded time.
 *   RAFT_SIM_SEED=<n>   run only seed n (replay a failure)
 *   RAFT_SIM_SEEDS=<k>  run seeds 1..k (default 2000)
 *   RAFT_SIM_TRACE=1    print every event */
#include "config.h"
#include "sim.h"

#include "suites.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define CHAOS_STEPS 4000
#define CONVERGE_TICKS 400

struct sim_totals {
	uint64_t ticks, proposals, applies, elections, reads;
};

static int run_seed(uint64_t seed, char *why, size_t whylen, struct sim_totals *tot)
{
	struct sim s;
	size_t n = seed % 2 ? 3 : 5;
	int rc = sim_init(&s, n, seed);

	for (int i = 0; rc == 0 && i < CHAOS_STEPS; i++)
		rc = sim_chaos_step(&s);
	if (rc == 0)
		rc = sim_heal(&s);
	if (rc == 0)
		rc = sim_converge(&s, CONVERGE_TICKS);
	if (rc != 0)
		snprintf(why, whylen, "%zu nodes, pre_vote=%d check_quorum=%d: %s",
			n, s.pre_vote, s.check_quorum, s.err);
	tot->ticks += s.now;
	tot->proposals += s.proposals;
	tot->applies += s.applies;
	tot->elections += s.elections;
	tot->reads += s.reads_done;
	sim_close(&s);
	return rc;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : dflt;
}

START_TEST(test_sim_seeds)
{
	uint64_t one = env_u64("RAFT_SIM_SEED", 0);
	uint64_t count = env_u64("RAFT_SIM_SEEDS", 2000);
	uint64_t first = one ? one : 1, last = one ? one : count;
	char why[600];
	int failures = 0;
	struct sim_totals tot = { 0 };

	printf("raft sim: seeds %llu..%llu (replay one with RAFT_SIM_SEED=<n>)\n",
		(unsigned long long)first, (unsigned long long)last);
	for (uint64_t seed = first; seed <= last && failures < 5; seed++) {
		if (run_seed(seed, why, sizeof(why), &tot) != 0) {
			printf("raft sim: seed %llu FAILED: %s\n", (unsigned long long)seed, why);
			failures++;
		}
	}
	printf("raft sim: %llu virtual ticks, %llu elections, %llu proposals, %llu applies, %llu reads\n",
		(unsigned long long)tot.ticks, (unsigned long long)tot.elections,
		(unsigned long long)tot.proposals, (unsigned long long)tot.applies,
		(unsigned long long)tot.reads);
	fflush(stdout);
	ck_assert_msg(failures == 0, "%d seed(s) failed; see output", failures);
}
END_TEST

/* The simulator itself must be deterministic, or a seed replays nothing. */
START_TEST(test_sim_deterministic)
{
	struct sim a, b;
	ck_assert_int_eq(sim_init(&a, 5, 42), 0);
	ck_assert_int_eq(sim_init(&b, 5, 42), 0);
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(sim_chaos_step(&a), 0);
		ck_assert_int_eq(sim_chaos_step(&b), 0);
	}
	ck_assert_uint_eq(a.now, b.now);
	ck_assert_uint_eq(a.applies, b.applies);
	ck_assert_uint_eq(a.proposals, b.proposals);
	ck_assert_uint_eq(a.nnet, b.nnet);
	sim_close(&a);
	sim_close(&b);
}
END_TEST

/* Without faults a 5-node cluster elects and commits quickly. */
START_TEST(test_sim_calm)
{
	struct sim s;
	ck_assert_int_eq(sim_init(&s, 5, 7), 0);
	ck_assert_int_eq(sim_heal(&s), 0);
	ck_assert_msg(sim_converge(&s, 100) == 0, "%s", s.err);
	ck_assert_uint_ge(s.elections, 1);
	sim_close(&s);
}
END_TEST

Suite *suite_sim(void)
{
	Suite *s = suite_create("raft_sim");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_sim_deterministic);
	tcase_add_test(tc, test_sim_calm);
	tcase_add_test(tc, test_sim_seeds);
	suite_add_tcase(s, tc);
	return s;
}
