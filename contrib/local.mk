# contrib: build fragment (see Makefile.am)
