# man: manual pages (roff, man(7) macros). tests/unit/config/test_docs.c
# checks they cover every flag and YAML key of src/config/flags.c.
dist_man_MANS += man/cetcd.1 man/cetcd.conf.5 man/cetcdctl.1
