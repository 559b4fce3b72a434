#!/bin/sh
# Rebuild this tree with AddressSanitizer and UBSan and run every suite
# against the sanitized binaries: a memory error or undefined behaviour in
# any process (workers included) fails the run.
set -e
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
./configure --enable-sanitize
make clean
make -j2
make check
make check-integration check-fault
