# src/raft: build fragment (see Makefile.am)
