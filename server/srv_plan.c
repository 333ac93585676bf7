/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_plan.c: `groved plan -f PATH...`, every object the reconcile worker
 * would create for each PodCliqueSet in the files (docs/plan.md).
 *
 * The files go through `groved validate`'s own path (srv_validate_paths):
 * the same messages and exit codes, and nothing is planned for a set that
 * is invalid. The valid sets, defaulted, are then planned by the planner
 * (groved/reconcile.h) and printed as a YAML stream (libyaml's emitter),
 * a JSON List, or the ownership tree with the startup waves.
 */
#include <getopt.h>
#include <inttypes.h>
#include <yaml.h>

#include "groved/policy.h"
#include "groved/reconcile.h"
#include "groved/server.h"
#include "srv_plan_observed.h"
#include "srv_validate.h"

typedef enum { PLAN_YAML, PLAN_JSON, PLAN_TREE } plan_format;

/* What the validation pass hands over. */
typedef struct plan_input {
	json_t *sets; /* [[defaulted set, namespace], ...] */
	json_t *bindings; /* binding name -> spec.levels */
	json_t *observed; /* srv_observed_load's lists, or NULL */
} plan_input;

static int collect(void *ctx, pol_kind kind, const json_t *obj, const char *ns)
{
	plan_input *pi = ctx;
	const json_t *levels = NULL;
	const char *name = json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "name"));

	if (kind == POL_KIND_PODCLIQUESET) {
		json_t *e = json_pack("[O, s]", (json_t *)obj, ns);

		if (!e || json_array_append_new(pi->sets, e) != 0)
			return GV_ENOMEM;
		return GV_OK;
	}
	levels = json_object_get(json_object_get(obj, "spec"), "levels");
	if (name && json_is_array(levels) &&
	    json_object_set(pi->bindings, name, (json_t *)levels) != 0)
		return GV_ENOMEM;
	return GV_OK;
}

/* ---- YAML: jansson values as libyaml events --------------------------- */

/* A string that YAML would read back as something else (a number, a
 * boolean, null) must be quoted. */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = {
		"y",   "n",    "yes", "no",   "true",  "false", "on",
		"off", "null", "~",   ".inf", "-.inf", ".nan",	NULL,
	};
	const char *const *w = NULL;

	if (!*s)
		return true;
	for (w = words; *w; w++) {
		if (strcasecmp(s, *w) == 0)
			return true;
	}
	if ((s[0] >= '0' && s[0] <= '9') ||
	    ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s[1] >= '0' &&
	     s[1] <= '9'))
		return true;
	return false;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, bool plain_only)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	if (!plain_only && needs_quotes(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)(uintptr_t)s,
					  (int)strlen(s), 1, 1, style))
		return GV_ENOMEM;
	return yaml_emitter_emit(em, &ev) ? GV_OK : GV_EIO;
}

static int emit_value(yaml_emitter_t *em, const json_t *v)
{
	yaml_event_t ev;
	char num[64];
	int rc = GV_OK;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k = NULL;
		json_t *x = NULL;

		if (!yaml_mapping_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return GV_EIO;
		json_object_foreach((json_t *)v, k, x)
		{
			rc = emit_scalar(em, k, false);
			if (rc == GV_OK)
				rc = emit_value(em, x);
			if (rc != GV_OK)
				return rc;
		}
		if (!yaml_mapping_end_event_initialize(&ev) ||
		    !yaml_emitter_emit(em, &ev))
			return GV_EIO;
		return GV_OK;
	}
	case JSON_ARRAY: {
		size_t i = 0;
		json_t *x = NULL;

		if (!yaml_sequence_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return GV_EIO;
		json_array_foreach((json_t *)v, i, x)
		{
			rc = emit_value(em, x);
			if (rc != GV_OK)
				return rc;
		}
		if (!yaml_sequence_end_event_initialize(&ev) ||
		    !yaml_emitter_emit(em, &ev))
			return GV_EIO;
		return GV_OK;
	}
	case JSON_STRING:
		return emit_scalar(em, json_string_value(v), false);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return emit_scalar(em, num, true);
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		return emit_scalar(em, num, true);
	case JSON_TRUE:
		return emit_scalar(em, "true", true);
	case JSON_FALSE:
		return emit_scalar(em, "false", true);
	case JSON_NULL:
	default:
		return emit_scalar(em, "null", true);
	}
}

/* Each object as one document of a YAML stream on stdout. */
static int print_yaml(const json_t *objects)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	const json_t *o = NULL;
	size_t i = 0;
	int rc = GV_OK;

	if (!yaml_emitter_initialize(&em))
		return GV_ENOMEM;
	yaml_emitter_set_output_file(&em, stdout);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev)) {
		rc = GV_EIO;
		goto out;
	}
	json_array_foreach(objects, i, o)
	{
		if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL,
							  0) ||
		    !yaml_emitter_emit(&em, &ev)) {
			rc = GV_EIO;
			goto out;
		}
		rc = emit_value(&em, o);
		if (rc != GV_OK)
			goto out;
		if (!yaml_document_end_event_initialize(&ev, 1) ||
		    !yaml_emitter_emit(&em, &ev)) {
			rc = GV_EIO;
			goto out;
		}
	}
	if (!yaml_stream_end_event_initialize(&ev) ||
	    !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		rc = GV_EIO;
out:
	yaml_emitter_delete(&em);
	return rc;
}

/* ---- the tree --------------------------------------------------------- */

static const char *meta_str(const json_t *o, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), key));
}

static const char *kind_of(const json_t *o)
{
	return json_string_value(json_object_get(o, "kind"));
}

static bool kind_is(const json_t *o, const char *kind)
{
	return kind_of(o) && strcmp(kind_of(o), kind) == 0;
}

static json_int_t clique_pods(const json_t *o)
{
	return json_integer_value(
	    json_object_get(json_object_get(o, "spec"), "replicas"));
}

static size_t gang_pods(const json_t *o)
{
	const json_t *pg = NULL;
	size_t i = 0;
	size_t n = 0;

	json_array_foreach(
	    json_object_get(json_object_get(o, "spec"), "podgroups"), i, pg)
	    n += json_array_size(json_object_get(pg, "podReferences"));
	return n;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Prints the objects owned by owner ("Kind/name"), depth levels in,
 * then theirs; pods are counted on their PodClique, not listed. */
static void print_children(const json_t *items, const char *owner, int depth)
{
	const json_t *item = NULL;
	size_t i = 0;

	json_array_foreach(items, i, item)
	{
		const json_t *o = json_object_get(item, "object");
		const char *own =
		    json_string_value(json_object_get(item, "owner"));
		char me[512];

		if (!own || strcmp(own, owner) != 0 || kind_is(o, "Pod"))
			continue;
		printf("%*s%s %s", depth * 2, "", kind_of(o),
		       meta_str(o, "name"));
		if (kind_is(o, "PodClique")) {
			json_int_t n = clique_pods(o);

			/* only a /scale to 0 makes 0: a pause (docs/api.md section 8) */
			printf(" (%" JSON_INTEGER_FORMAT " %s%s)", n,
			       plural((size_t)n, "pod", "pods"),
			       n == 0 ? ", paused" : "");
		} else if (kind_is(o, "PodGang")) {
			size_t n = gang_pods(o);

			printf(" (%zu %s)", n, plural(n, "pod", "pods"));
		} else if (kind_is(o, "PodCliqueScalingGroup")) {
			json_int_t n = clique_pods(o);

			printf(" (%" JSON_INTEGER_FORMAT " %s)", n,
			       plural((size_t)n, "unit", "units"));
		}
		putchar('\n');
		snprintf(me, sizeof(me), "%s/%s", kind_of(o),
			 meta_str(o, "name"));
		if (kind_is(o, "PodCliqueScalingGroup"))
			print_children(items, me, depth + 1);
	}
}

static int print_tree(const json_t *set, const char *ns, const rec_plan *plan)
{
	const char *name = meta_str(set, "name");
	const json_t *item = NULL;
	const json_t *wave = NULL;
	json_t *waves = NULL;
	json_t *pods_of = json_object(); /* PodClique name -> pods */
	char owner[512];
	size_t pods = 0;
	size_t gangs = 0;
	size_t i = 0;
	int rc = GV_OK;

	if (!pods_of)
		return GV_ENOMEM;
	json_array_foreach(plan->items, i, item)
	{
		const json_t *o = json_object_get(item, "object");

		if (kind_is(o, "Pod"))
			pods++;
		if (kind_is(o, "PodGang"))
			gangs++;
		if (kind_is(o, "PodClique") &&
		    json_object_set_new(pods_of, meta_str(o, "name"),
					json_integer(clique_pods(o))))
			rc = GV_ENOMEM;
	}
	rc = rc == GV_OK ? rec_plan_waves(plan, &waves) : rc;
	if (rc != GV_OK)
		goto out;
	printf("PodCliqueSet %s/%s: %zu %s, %zu %s, template hash %s\n", ns,
	       name, pods, plural(pods, "pod", "pods"), gangs,
	       plural(gangs, "PodGang", "PodGangs"), plan->template_hash);
	snprintf(owner, sizeof(owner), "PodCliqueSet/%s", name);
	print_children(plan->items, owner, 1);
	printf("startup order:\n");
	json_array_foreach(waves, i, wave)
	{
		const json_t *n = NULL;
		size_t k = 0;

		printf("  wave %zu:\n", i + 1);
		json_array_foreach(wave, k, n)
		{
			json_int_t c = json_integer_value(
			    json_object_get(pods_of, json_string_value(n)));

			printf("    %s (%" JSON_INTEGER_FORMAT " %s)\n",
			       json_string_value(n), c,
			       plural((size_t)c, "pod", "pods"));
		}
	}
	json_array_foreach(plan->notes, i, item)
	    printf("note: %s\n", json_string_value(item));
out:
	json_decref(waves);
	json_decref(pods_of);
	return rc;
}

/* ---- the command ------------------------------------------------------ */

static void usage(FILE *to)
{
	fputs("usage: groved plan -f PATH [-f PATH...] [options]\n"
	      "\n"
	      "Prints every object groved's worker would create for each "
	      "PodCliqueSet in the\n"
	      "files, in the order it creates them. The files are checked "
	      "first, with\n"
	      "`groved validate`'s rules and messages; an invalid set is "
	      "not planned.\n"
	      "ownerReferences need uids that only a cluster has: they are "
	      "left out.\n"
	      "\n"
	      "  -f, --filename PATH   a file, a directory or - for standard "
	      "input; repeatable\n"
	      "  -n, --namespace NS    namespace of objects without one "
	      "(default: default)\n"
	      "      --replicas N      plan as if `kubectl scale pcs "
	      "--replicas=N` had run\n"
	      "  -o, --output FORMAT   yaml (default: a YAML stream), json (a "
	      "List) or tree\n"
	      "                        (ownership tree and startup waves)\n"
	      "      --observed PATH   what the cluster holds of the sets' "
	      "children (PodCliques,\n"
	      "                        groups, PodGangs, pods: `kubectl get "
	      "-o yaml`); the plan\n"
	      "                        is the worker's against it "
	      "(repeatable)\n"
	      "      --default-scheduler NAME\n"
	      "                        scheduler of cliques that name none "
	      "(default:\n"
	      "                        kai-scheduler)\n"
	      "\n"
	      "Exit status: as `groved validate`: 0 every object is valid, 1 "
	      "an object is\n"
	      "invalid or an input holds no objects, 2 a file cannot be read, "
	      "or bad usage.\n",
	      to);
}

/* Plans one set into objects (yaml, json) or prints its tree. */
static int plan_one(const json_t *entry, const plan_input *pi,
		    const char *scheduler, plan_format format, json_t *objects)
{
	const json_t *set = json_array_get(entry, 0);
	const char *ns = json_string_value(json_array_get(entry, 1));
	pol_verdict v = POL_VERDICT_INIT;
	pol_pcs pcs;
	pol_pod_options po = { .default_scheduler = scheduler };
	rec_input in = { 0 };
	rec_plan plan = REC_PLAN_INIT;
	json_t *keep = NULL;
	gv_error_t err = GV_ERROR_INIT;
	char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
	const json_t *item = NULL;
	bool built = false;
	size_t i = 0;
	int rc = GV_OK;

	rc = pol_pcs_build(set, &pcs, &v);
	if (rc != GV_OK)
		goto out;
	built = true;
	in.pcs = &pcs;
	in.namespace = ns;
	in.bindings = pi->bindings;
	in.pod_options = &po;
	rc = srv_observed_view(pi->observed, ns, &keep, &in.observed);
	if (rc != GV_OK)
		goto out;
	rc = rec_plan_build(&in, &plan, &err);
	if (rc != GV_OK && rc != GV_ENOMEM) {
		fprintf(stderr,
			"groved plan: cannot plan PodCliqueSet "
			"\"%s/%s\": %s\n",
			ns, meta_str(set, "name"),
			gv_error_format(&err, msg, sizeof(msg)));
		goto out;
	}
	if (rc != GV_OK)
		goto out;
	if (format == PLAN_TREE) {
		rc = print_tree(set, ns, &plan);
		goto out;
	}
	json_array_foreach(plan.items, i, item)
	{
		if (json_array_append(objects,
				      json_object_get(item, "object"))) {
			rc = GV_ENOMEM;
			goto out;
		}
	}
	json_array_foreach(plan.notes, i, item)
	    fprintf(stderr, "groved plan: note: PodCliqueSet \"%s/%s\": %s\n",
		    ns, meta_str(set, "name"), json_string_value(item));
out:
	rec_plan_release(&plan);
	json_decref(keep);
	if (built)
		pol_pcs_release(&pcs);
	pol_verdict_release(&v);
	return rc;
}

int srv_cmd_plan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "replicas", required_argument, NULL, 'r' },
		{ "default-scheduler", required_argument, NULL, 'S' },
		{ "observed", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	plan_input pi = { NULL, NULL, NULL };
	srv_validate_opts opts = { .cmd = "groved plan",
				   .ns = "default",
				   .replicas = -1,
				   .format = SRV_OUT_TEXT,
				   .text = stderr,
				   .summary_on_failure = true,
				   .valid = collect,
				   .ctx = &pi };
	plan_format format = PLAN_YAML;
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	char **observed = calloc((size_t)argc + 1, sizeof(*observed));
	size_t n_observed = 0;
	json_t *objects = NULL;
	const json_t *entry = NULL;
	size_t n_paths = 0;
	size_t i = 0;
	int exit_code = 2;
	int c = 0;

	if (!paths || !observed)
		goto oom;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:n:o:h", longopts, NULL)) !=
	       -1) {
		char *end = NULL;

		switch (c) {
		case 'f':
			paths[n_paths++] = optarg;
			break;
		case 'n':
			opts.ns = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "yaml") == 0) {
				format = PLAN_YAML;
			} else if (strcmp(optarg, "json") == 0) {
				format = PLAN_JSON;
			} else if (strcmp(optarg, "tree") == 0) {
				format = PLAN_TREE;
			} else {
				fprintf(stderr,
					"groved plan: unknown output format "
					"'%s' (yaml, json or tree)\n",
					optarg);
				goto out;
			}
			break;
		case 'r':
			opts.replicas = strtoll(optarg, &end, 10);
			if (!*optarg || *end || opts.replicas < 0 ||
			    opts.replicas > INT32_MAX) {
				fprintf(stderr,
					"groved plan: --replicas '%s' is not "
					"a count (0 or more)\n",
					optarg);
				goto out;
			}
			break;
		case 'S':
			opts.scheduler = optarg;
			break;
		case 'O':
			observed[n_observed++] = optarg;
			break;
		case 'h':
			usage(stdout);
			exit_code = 0;
			goto out;
		default:
			srv_option_error("groved plan", c, argv, longopts);
			usage(stderr);
			goto out;
		}
	}
	if (!srv_inputs_args_ok("groved plan", argc, argv, n_paths)) {
		usage(stderr);
		goto out;
	}
	pi.sets = json_array();
	pi.bindings = json_object();
	objects = json_array();
	if (!pi.sets || !pi.bindings || !objects)
		goto oom;
	if (n_observed) {
		gv_error_t err = GV_ERROR_INIT;
		char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
		int rc =
		    srv_observed_load(observed, n_observed, &pi.observed, &err);

		if (rc == GV_ENOMEM)
			goto oom;
		if (rc != GV_OK) {
			fprintf(stderr, "groved plan: --observed: %s\n",
				gv_error_format(&err, msg, sizeof(msg)));
			goto out;
		}
	}
	exit_code = srv_validate_paths(&opts, paths, n_paths);
	json_array_foreach(pi.sets, i, entry)
	{
		int rc = plan_one(entry, &pi, opts.scheduler, format, objects);

		if (rc == GV_ENOMEM)
			goto oom;
		if (rc != GV_OK)
			exit_code = exit_code ? exit_code : 1;
	}
	if (format == PLAN_YAML && json_array_size(objects) &&
	    print_yaml(objects) != GV_OK)
		goto oom;
	if (format == PLAN_JSON) {
		json_t *list = json_pack("{s:s, s:s, s:O}", "apiVersion", "v1",
					 "kind", "List", "items", objects);

		if (!list || json_dumpf(list, stdout, JSON_INDENT(2)) != 0) {
			json_decref(list);
			goto oom;
		}
		json_decref(list);
		fputc('\n', stdout);
	}
	fflush(stdout);
	goto out;
oom:
	fflush(stdout);
	fputs("groved plan: out of memory\n", stderr);
	exit_code = 2;
out:
	json_decref(objects);
	json_decref(pi.sets);
	json_decref(pi.bindings);
	json_decref(pi.observed);
	free(paths);
	free(observed);
	return exit_code;
}
