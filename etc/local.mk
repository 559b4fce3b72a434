# etc: build fragment (see Makefile.am)
