/* v3meta.h - the fixture shared by the unit tests of the v3 state kept on
 * the meta table (alarms: test_v3alarm.c; auth: test_auth.c), one runner
 * (v3meta_main.c): a fresh environment under a temporary root, with its
 * meta handle, and the paths a snapshot round trip needs. */
#ifndef CETCD_TESTS_UNIT_STORE_V3META_H
#define CETCD_TESTS_UNIT_STORE_V3META_H

#include <check.h>
#include <db.h>

extern char root[64], live[128], fresh[128], snapf[160];
extern char err[512];
extern DB_ENV *env;
extern DB *meta;

/* open_at opens the environment at dir and its meta table. */
void open_at(const char *dir);
void close_all(void);
/* v3meta_setup makes a root from template (mkdtemp) and opens db there;
 * v3meta_teardown closes and removes it. */
void v3meta_setup(const char *template);
void v3meta_teardown(void);

Suite *suite_v3alarm(void);
Suite *suite_auth(void);

#endif
