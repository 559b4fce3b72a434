# src/apid: build fragment (see Makefile.am)
