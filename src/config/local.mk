# src/config: flags, ETCD_* environment and YAML config file (libconfig.a).
# One flag table (flags.c) drives parsing, help and the man-page test.
noinst_LIBRARIES += src/config/libconfig.a
src_config_libconfig_a_SOURCES = \
	src/config/cfg.h src/config/internal.h \
	src/config/flags.c src/config/value.c src/config/parse.c \
	src/config/validate.c src/config/yaml.c src/config/help.c \
	src/config/url.c src/config/url.h \
	src/config/cluster.c src/config/cluster.h
# Users of libconfig.a also link $(YAML_LIBS).
