# tests/integration: build fragment (see Makefile.am)
