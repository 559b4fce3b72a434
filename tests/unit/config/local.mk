# tests/unit/config: build fragment (see Makefile.am)
