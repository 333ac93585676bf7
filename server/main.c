/* main.c: placeholder until the subcommands land. */
#include <stdio.h>

int main(void)
{
	fputs("groved: not built yet\n", stderr);
	return 2;
}
