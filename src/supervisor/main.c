/* main.c - placeholder, replaced by the supervisor. */
#include "config.h"
int main(void)
{
	return 0;
}
