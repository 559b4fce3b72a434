# tests/unit/util: build fragment (see Makefile.am)
