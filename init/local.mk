# init: build fragment (see Makefile.am)
