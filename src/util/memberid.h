/* memberid.h - etcd-compatible member and cluster IDs.
 *
 * etcd derives a member's ID from SHA-1 over its sorted peer URLs joined
 * with nothing, followed by the cluster token; and the cluster ID from SHA-1
 * over the sorted member IDs as 8-byte big-endian numbers. Using the same
 * derivation gives the same IDs as etcd for the same flags.
 */
#ifndef CETCD_UTIL_MEMBERID_H
#define CETCD_UTIL_MEMBERID_H

#include <stddef.h>
#include <stdint.h>

uint64_t member_id_compute(const char *const *peer_urls, size_t n, const char *token);
uint64_t cluster_id_compute(const uint64_t *member_ids, size_t n);

#endif
