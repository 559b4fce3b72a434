# src/config: build fragment (see Makefile.am)
