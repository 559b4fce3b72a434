# src/ipc: build fragment (see Makefile.am)
