# src/wal: build fragment (see Makefile.am)
