# etc: sample configuration, installed to $(sysconfdir)/cetcd/.
# tests/unit/config/test_docs.c checks both against the flag table.
cetcdconfdir = $(sysconfdir)/cetcd
dist_cetcdconf_DATA = etc/cetcd.conf.yml etc/cetcd.env
