# src/raftd: build fragment (see Makefile.am)
