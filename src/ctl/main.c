/* main.c - cetcdctl: etcdctl 3.4's client for cetcd (and etcd). As
 * etcdctl 3.4 does, ETCDCTL_API=2 selects the v2 command set, anything
 * else (or nothing) the v3 one. */
#include "config.h"
#include "ctl/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *api = getenv("ETCDCTL_API");

	if (api != NULL && strcmp(api, "2") == 0)
		return ctl_v2_main(argc, argv);
	return ctl_v3_main(argc, argv);
}
