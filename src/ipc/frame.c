/* frame.c - pack and check IPC frame headers. */
#include "config.h"
#include "ipc/frame.h"
#include "util/buf.h"
#include "util/err.h"

void ipc_hdr_pack(const struct ipc_hdr *h, uint8_t out[IPC_HDR_SIZE])
{
	out[0] = (uint8_t)IPC_MAGIC;
	out[1] = (uint8_t)(IPC_MAGIC >> 8);
	out[2] = IPC_VERSION;
	out[3] = h->type;
	le_put32(out + 4, h->len);
	le_put64(out + 8, h->req_id);
	le_put32(out + 16, h->origin);
	le_put32(out + 20, h->gen);
}

int ipc_hdr_unpack(struct ipc_hdr *h, const uint8_t in[IPC_HDR_SIZE])
{
	h->magic = (uint16_t)(in[0] | in[1] << 8);
	h->version = in[2];
	h->type = in[3];
	h->len = le_get32(in + 4);
	h->req_id = le_get64(in + 8);
	h->origin = le_get32(in + 16);
	h->gen = le_get32(in + 20);
	if (h->magic != IPC_MAGIC || h->version != IPC_VERSION)
		return CE_VERSION;
	if (h->len > IPC_MAX_PAYLOAD)
		return CE_TOOBIG;
	return 0;
}
