/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c: groved's subcommands. Each lives in its own file and returns the
 * process exit status.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdbool.h>

#include "groved/server.h"
#include "srv_initc.h"

#ifndef GROVED_VERSION
#define GROVED_VERSION "0.0.0"
#endif

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("groved %s\n", GROVED_VERSION);
	return 0;
}

/* The subcommands, as git's: `groved NAME ...` runs fn with argv from
 * NAME on and returns its exit status; `groved --help` lists them in
 * this order. A new one is one row. */
static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", srv_cmd_serve, "run the admission webhooks over HTTPS" },
	{ "validate", srv_cmd_validate,
	  "check PodCliqueSet manifests offline, with the webhook's rules" },
	{ "plan", srv_cmd_plan,
	  "print the objects groved's worker would create for a set" },
	{ "initc", srv_cmd_initc,
	  "wait for the parent PodCliques' Ready pods (init container)" },
	{ "certs", srv_cmd_certs,
	  "generate the webhook's CA and serving certificate" },
	{ "version", cmd_version, "print the version" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *to)
{
	size_t i = 0;

	fputs("usage: groved COMMAND [options]\n\ncommands:\n", to);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\nRun 'groved COMMAND --help' for a command's options.\n", to);
}

static const struct cmd *find_command(const char *name)
{
	size_t i = 0;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
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

bool srv_inputs_args_ok(const char *cmd, int argc, char *const *argv,
			size_t n_paths)
{
	if (optind < argc) {
		fprintf(stderr,
			"%s: unexpected argument '%s' (name files with -f)\n",
			cmd, argv[optind]);
		return false;
	}
	if (!n_paths) {
		fprintf(stderr, "%s: no input (use -f PATH)\n", cmd);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd = NULL;

	if (argc < 2) {
		fputs("groved: missing command\n", stderr);
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	cmd = find_command(strcmp(argv[1], "--version") == 0 ? "version"
							     : argv[1]);
	if (!cmd) {
		fprintf(stderr,
			"groved: '%s' is not a groved command; see "
			"'groved --help'\n",
			argv[1]);
		return 2;
	}
	/* libcurl's process-wide set-up, once, before any thread starts */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("groved: cannot initialise libcurl\n", stderr);
		return 2;
	}
	return cmd->fn(argc - 1, argv + 1);
}
