/* test_sim.c - randomized, deterministic cluster simulation of the raft
 * core (sim.h). Every seed picks 3 or 5 initial voters (plus spares that can
 * join), fault rates, slow disks, pipelining limits and the pre-vote /
 * check-quorum flags; runs chaos steps checking the safety properties after
 * each, then heals and demands a committed proposal in bounded virtual time.
 *   RAFT_SIM_SEED=<n>   run only seed n (replay a failure)
 *   RAFT_SIM_SEEDS=<k>  run seeds 1..k (default 2000; check-raft-long: 100000)
 *   RAFT_SIM_FIRST=<f>  start at seed f instead of 1
 *   RAFT_SIM_CONVERGE=<t> liveness bound after healing, in ticks (default 1000)
 *   RAFT_SIM_TRACE=1    print every event (use with RAFT_SIM_SEED) */
#include "config.h"
#include "sim.h"

#include "suites.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define CHAOS_STEPS 4000
/* Healed, a cluster must elect a leader and commit within this many ticks
 * (100 election timeouts). Almost every seed needs under 20; the slowest of
 * 100,000 needed about 450: without pre-vote, a member whose term rose while
 * it was cut off and whose stale membership view cannot win keeps starting
 * elections that the member with the best log must outrace. */
#define CONVERGE_TICKS 1000

struct sim_totals {
	uint64_t ticks, proposals, applies, elections, reads, snapshots, confs;
	uint64_t transfers, slow, crashes, converge_max, converge_sum, runs;
};

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : dflt;
}

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
		rc = sim_converge(&s, env_u64("RAFT_SIM_CONVERGE", CONVERGE_TICKS));
	if (rc != 0)
		snprintf(why, whylen, "%zu nodes, pre_vote=%d check_quorum=%d confs=%d "
			"inflight=%zu at t=%llu: %s", n, s.pre_vote, s.check_quorum, s.confs,
			s.max_inflight, (unsigned long long)s.now, s.err);
	tot->runs++;
	tot->ticks += s.now;
	tot->proposals += s.proposals;
	tot->applies += s.applies;
	tot->elections += s.elections;
	tot->reads += s.reads_done;
	tot->snapshots += s.snapshots;
	tot->confs += s.conf_applied;
	tot->transfers += s.transfers;
	tot->slow += s.slow_readies;
	tot->crashes += s.crashes;
	tot->converge_sum += s.converge_ticks;
	if (s.converge_ticks > tot->converge_max)
		tot->converge_max = s.converge_ticks;
	sim_close(&s);
	return rc;
}

#define LLU(x) ((unsigned long long)(x))

START_TEST(test_sim_seeds)
{
	uint64_t one = env_u64("RAFT_SIM_SEED", 0);
	uint64_t count = env_u64("RAFT_SIM_SEEDS", 2000);
	uint64_t first = one ? one : env_u64("RAFT_SIM_FIRST", 1);
	uint64_t last = one ? one : first + count - 1;
	char why[700];
	int failures = 0;
	struct sim_totals tot = { 0 };

	printf("raft sim: seeds %llu..%llu\n", LLU(first), LLU(last));
	for (uint64_t seed = first; seed <= last && failures < 5; seed++) {
		if (run_seed(seed, why, sizeof(why), &tot) != 0) {
			printf("raft sim: seed %llu FAILED: %s\n"
				"raft sim: replay: RAFT_SIM_SEED=%llu RAFT_SIM_TRACE=1 "
				"CK_RUN_SUITE=raft_sim tests/unit/raft/test_raft\n",
				LLU(seed), why, LLU(seed));
			failures++;
		}
	}
	printf("raft sim: %llu virtual ticks, %llu elections, %llu proposals, %llu applies, "
		"%llu reads, %llu snapshots installed, %llu conf changes applied, "
		"%llu transfers, %llu slow writes, %llu crashes\n",
		LLU(tot.ticks), LLU(tot.elections), LLU(tot.proposals), LLU(tot.applies),
		LLU(tot.reads), LLU(tot.snapshots), LLU(tot.confs), LLU(tot.transfers),
		LLU(tot.slow), LLU(tot.crashes));
	printf("raft sim: after healing, commit took %llu ticks on average, %llu at most "
		"(bound %llu)\n", LLU(tot.runs ? tot.converge_sum / tot.runs : 0),
		LLU(tot.converge_max), LLU(env_u64("RAFT_SIM_CONVERGE", CONVERGE_TICKS)));
	fflush(stdout);
	ck_assert_msg(failures == 0, "%d seed(s) failed; see output", failures);
	/* the faults and features must actually have happened */
	if (one == 0 && count >= 1000) {
		ck_assert_uint_gt(tot.snapshots, 0);
		ck_assert_uint_gt(tot.confs, 0);
		ck_assert_uint_gt(tot.transfers, 0);
		ck_assert_uint_gt(tot.slow, 0);
		ck_assert_uint_gt(tot.crashes, 0);
		ck_assert_uint_gt(tot.reads, 0);
	}
}
END_TEST

/* The simulator itself must be deterministic, or a seed replays nothing. */
START_TEST(test_sim_deterministic)
{
	struct sim a, b;
	ck_assert_int_eq(sim_init(&a, 5, 42), 0);
	ck_assert_int_eq(sim_init(&b, 5, 42), 0);
	for (int i = 0; i < 2000; i++) {
		ck_assert_int_eq(sim_chaos_step(&a), 0);
		ck_assert_int_eq(sim_chaos_step(&b), 0);
	}
	ck_assert_uint_eq(a.now, b.now);
	ck_assert_uint_eq(a.applies, b.applies);
	ck_assert_uint_eq(a.proposals, b.proposals);
	ck_assert_uint_eq(a.nnet, b.nnet);
	ck_assert_uint_eq(a.rng, b.rng);
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

	tcase_set_timeout(tc, 3600);
	tcase_add_test(tc, test_sim_deterministic);
	tcase_add_test(tc, test_sim_calm);
	tcase_add_test(tc, test_sim_seeds);
	suite_add_tcase(s, tc);
	return s;
}
