# src/store: build fragment (see Makefile.am)
