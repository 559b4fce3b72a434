# tests/unit/wal: build fragment (see Makefile.am)
