# tests/unit/store: build fragment (see Makefile.am)
