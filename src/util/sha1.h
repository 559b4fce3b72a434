/* sha1.h - SHA-1, used only to derive etcd-compatible member and cluster
 * IDs (etcd hashes peer URLs and the cluster token with SHA-1). */
#ifndef CETCD_UTIL_SHA1_H
#define CETCD_UTIL_SHA1_H

#include <stddef.h>
#include <stdint.h>

void sha1(const void *data, size_t len, uint8_t out[20]);

#endif
