# tests/unit/ipc: build fragment (see Makefile.am)
