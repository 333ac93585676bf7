/*
 * main.c: groved's subcommands. Each lives in its own file and returns the
 * process exit status.
 */
#include <curl/curl.h>

#include "groved/server.h"

#ifndef GROVED_VERSION
#define GROVED_VERSION "0.0.0"
#endif

static void usage(FILE *to)
{
	fputs("usage: groved COMMAND [options]\n"
	      "\n"
	      "commands:\n"
	      "  serve      run the admission webhooks over HTTPS\n"
	      "  validate   check PodCliqueSet manifests offline, with the "
	      "webhook's rules\n"
	      "  certs      generate the webhook's CA and serving certificate\n"
	      "  version    print the version\n"
	      "\n"
	      "Run 'groved COMMAND --help' for a command's options.\n",
	      to);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* libcurl's process-wide set-up, once, before any thread starts */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("groved: cannot initialise libcurl\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "validate") == 0)
		return srv_cmd_validate(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return srv_cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "certs") == 0)
		return srv_cmd_certs(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("groved %s\n", GROVED_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "groved: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
