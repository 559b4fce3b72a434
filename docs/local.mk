# docs: Markdown documentation shipped in the tarball. List each file by name
# (no wildcards: automake cannot see through them and distcheck must be exact).
EXTRA_DIST += docs/packaging.md docs/architecture.md docs/status.md docs/benchmarks.md \
	docs/clustering.md docs/discovery.md docs/proxy.md
