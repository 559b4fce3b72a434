# init: service-manager integration (systemd unit, tmpfiles.d, sysusers.d,
# LSB init script). Included from the top Makefile.am.

EXTRA_DIST += init/cetcd.service.in init/cetcd.init \
	init/cetcd.tmpfiles init/cetcd.sysusers

# The unit names the binary by absolute path, so it is generated from the
# .in template once bindir is known (make time, not configure time, so
# `make bindir=...` overrides also reach the unit).
systemdsystemunit_DATA = init/cetcd.service
CLEANFILES += init/cetcd.service

init/cetcd.service: $(srcdir)/init/cetcd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) init && \
	sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/init/cetcd.service.in > $@.tmp && \
	mv -f $@.tmp $@

initd_dir = $(sysconfdir)/init.d
tmpfiles_dir = $(prefix)/lib/tmpfiles.d
sysusers_dir = $(prefix)/lib/sysusers.d

# tmpfiles/sysusers are installed under a different name (cetcd.conf) and the
# init script gets its default binary path rewritten, so plain *_DATA/
# *_SCRIPTS primaries cannot do it; these hooks mirror what they would do.
install-data-local: install-init-local
uninstall-local: uninstall-init-local

install-init-local:
	$(MKDIR_P) init '$(DESTDIR)$(tmpfiles_dir)' '$(DESTDIR)$(sysusers_dir)' \
		'$(DESTDIR)$(initd_dir)'
	$(INSTALL_DATA) $(srcdir)/init/cetcd.tmpfiles '$(DESTDIR)$(tmpfiles_dir)/cetcd.conf'
	$(INSTALL_DATA) $(srcdir)/init/cetcd.sysusers '$(DESTDIR)$(sysusers_dir)/cetcd.conf'
	sed -e 's|^DAEMON_DEFAULT=.*|DAEMON_DEFAULT=$(bindir)/cetcd|' \
		$(srcdir)/init/cetcd.init > init/cetcd.init.tmp
	$(INSTALL_SCRIPT) init/cetcd.init.tmp '$(DESTDIR)$(initd_dir)/cetcd'
	rm -f init/cetcd.init.tmp

uninstall-init-local:
	rm -f '$(DESTDIR)$(tmpfiles_dir)/cetcd.conf' \
		'$(DESTDIR)$(sysusers_dir)/cetcd.conf' \
		'$(DESTDIR)$(initd_dir)/cetcd'

.PHONY: install-init-local uninstall-init-local
