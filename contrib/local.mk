# contrib: example scripts (installed to $(docdir)/examples) and the
# side-by-side benchmark against etcd (shipped in the tarball only).

examplesdir = $(docdir)/examples
dist_examples_SCRIPTS = \
	contrib/examples/service-registry.sh \
	contrib/examples/pubsub.sh \
	contrib/examples/queue.sh \
	contrib/examples/lock.sh \
	contrib/examples/cas.sh \
	contrib/examples/election.sh
# Sourced by the scripts above, never run on its own.
dist_examples_DATA = contrib/examples/common.sh

EXTRA_DIST += contrib/README \
	contrib/bench/bench.sh \
	contrib/bench/bench-cluster.sh \
	contrib/bench/bench-proxy.sh \
	contrib/bench/common.sh \
	contrib/bench/put.lua \
	contrib/bench/get.lua \
	contrib/bench/v3put.lua \
	contrib/bench/v3range.lua \
	contrib/bench/watch-fanout.sh \
	contrib/bench/watchfan.c

# bash completion for cetcdctl, installed under the command's name
bashcompletiondir = $(datadir)/bash-completion/completions
EXTRA_DIST += contrib/cetcdctl.bash-completion
install-data-local: install-completion-local
uninstall-local: uninstall-completion-local
install-completion-local:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/contrib/cetcdctl.bash-completion '$(DESTDIR)$(bashcompletiondir)/cetcdctl'
uninstall-completion-local:
	rm -f '$(DESTDIR)$(bashcompletiondir)/cetcdctl'
