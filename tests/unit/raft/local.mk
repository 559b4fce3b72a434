# tests/unit/raft: build fragment (see Makefile.am)
