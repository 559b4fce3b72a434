# docs: build fragment (see Makefile.am)
