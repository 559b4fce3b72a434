/* pb_json.h - etcd 3.4's grpc-gateway JSON mapping of protobuf messages.
 *
 * Output (pb_to_json) is what the gateway writes (grpc-gateway v1
 * runtime.JSONPb{OrigName: true}, EmitDefaults false, golang/protobuf
 * jsonpb): proto field names, keys in declaration order, int64/uint64 as
 * JSON strings, int32/uint32/bool as JSON values, enums by name (unknown
 * numbers bare), bytes as padded standard base64, strings escaped as Go's
 * json.Marshal does. Zero scalars and empty strings/repeated fields are
 * left out; a bytes field or submessage present on the wire is written even
 * when empty ("key":"" / "header":{}), and a oneof member present on the
 * wire is written even when zero — the gateway reads the protobuf bytes
 * back, so this follows from the bytes.
 *
 * Input (pb_from_json) accepts what the gateway accepts, and refuses the
 * rest with Go's exact error text (see README): first JSON value of the
 * body only, empty body = empty message, proto or lowerCamel names (the
 * lowerCamel one wins if both are given), unknown keys ignored, null =
 * absent, numbers as numbers or strings, enums by name or number, bytes as
 * standard base64 (or a JSON array of byte values).
 */
#ifndef CETCD_PB_PB_JSON_H
#define CETCD_PB_PB_JSON_H

#include "pb/pb.h"
#include "util/buf.h"

#include <stddef.h>

/* gRPC status codes the gateway puts in error bodies. */
#define PB_GRPC_INVALID_ARGUMENT 3

/* pb_to_json appends the JSON for the encoded message (len bytes at pb) to
 * out. 0, CE_CORRUPT (malformed protobuf; message in err) or CE_NOMEM. */
int pb_to_json(const struct pb_msgdef *md, const void *pb, size_t len, struct buf *out, char *err,
	       size_t errlen);

/* pb_from_json appends the protobuf encoding of the request body
 * json[0..len) to out (fields in number order, proto3 zero values left out,
 * so the bytes equal what etcd's gateway sends on to gRPC). Returns 0,
 * CE_INVAL with the gateway's error text in err (answer HTTP 400 with
 * pb_json_error_body(..., err, PB_GRPC_INVALID_ARGUMENT)), or CE_NOMEM. On
 * error out may hold partial output: discard it. */
int pb_from_json(const struct pb_msgdef *md, const void *json, size_t len, struct buf *out,
		 char *err, size_t errlen);

/* pb_json_error_body appends the gateway's error body:
 * {"error":<msg>,"message":<msg>,"code":<code>} (key order as etcd 3.4.23). */
void pb_json_error_body(struct buf *out, const char *msg, int code);

/* pb_json_stream_chunk appends one line of a streamed response:
 * {"result":<message json>}\n. Same returns as pb_to_json. */
int pb_json_stream_chunk(const struct pb_msgdef *md, const void *pb, size_t len, struct buf *out,
			 char *err, size_t errlen);

/* pb_json_stream_error appends the line grpc-gateway writes when a stream
 * fails after it started: {"error":{"grpc_code":..,"http_code":..,
 * "message":..,"http_status":..}}\n (StreamError, zero fields left out). */
void pb_json_stream_error(struct buf *out, const char *msg, int grpc_code, int http_code,
			  const char *http_status);

/* pb_json_next_value finds the next JSON value of a body holding several
 * (a client-streaming call: grpc-gateway decodes the body with Go's
 * json.Decoder, value after value). Skips white space from *off; returns 1
 * and sets *start and *len to the value (an object or array scanned to its
 * matching bracket, strings and escapes respected; a scalar to the next
 * delimiter), then *off past it; 0 at the end of the body; -1 when the
 * value is unterminated (then *start and *len cover the rest, which
 * pb_from_json will refuse with Go's message). */
int pb_json_next_value(const char *p, size_t n, size_t *off, size_t *start, size_t *len);

#endif
