/*
 * main.c: groved's subcommands. Each lives in its own file and returns the
 * process exit status.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdbool.h>

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

/* "--name=value" where name is a long option of longopts that takes no
 * value. */
static bool value_not_taken(const char *arg, const struct option *longopts)
{
	size_t len = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) != 0 || !arg[len])
		return false;
	for (; longopts->name; longopts++) {
		if (longopts->has_arg == no_argument &&
		    strlen(longopts->name) >= len - 2 &&
		    strncmp(longopts->name, arg + 2, len - 2) == 0)
			return true;
	}
	return false;
}

void srv_option_error(const char *cmd, int c, char *const *argv,
		      const struct option *longopts)
{
	/* after an error optind is past the option getopt looked at */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	int len = (int)strcspn(arg, "=");
	bool is_long = strncmp(arg, "--", 2) == 0;

	if (c == ':' && is_long)
		fprintf(stderr, "%s: option '%.*s' needs a value\n", cmd, len,
			arg);
	else if (c == ':')
		fprintf(stderr, "%s: option '-%c' needs a value\n", cmd,
			optopt);
	else if (optopt && value_not_taken(arg, longopts))
		fprintf(stderr, "%s: option '%.*s' takes no value\n", cmd, len,
			arg);
	else if (optopt)
		fprintf(stderr, "%s: unknown option '-%c'\n", cmd, optopt);
	else
		fprintf(stderr, "%s: unknown option '%.*s'\n", cmd, len, arg);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("groved: missing command\n", stderr);
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
