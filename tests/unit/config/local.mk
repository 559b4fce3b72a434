# tests/unit/config: check-based tests of src/config.
check_PROGRAMS += tests/unit/config/test_config
TESTS += tests/unit/config/test_config
tests_unit_config_test_config_SOURCES = tests/unit/config/main.c \
	tests/unit/config/test_config.c tests/unit/config/test_url.c \
	tests/unit/config/test_yaml.c tests/unit/config/test_docs.c \
	tests/unit/config/suites.h
tests_unit_config_test_config_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSAMPLE_CONFIG='"$(abs_top_srcdir)/etc/cetcd.conf.yml"' \
	-DSAMPLE_ENV='"$(abs_top_srcdir)/etc/cetcd.env"' \
	-DMAN_CETCD='"$(abs_top_srcdir)/man/cetcd.1"' \
	-DMAN_CETCD_CONF='"$(abs_top_srcdir)/man/cetcd.conf.5"'
tests_unit_config_test_config_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_config_test_config_LDADD = src/config/libconfig.a src/util/libutil.a $(YAML_LIBS) $(CHECK_LIBS)
