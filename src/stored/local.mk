# src/stored: build fragment (see Makefile.am)
