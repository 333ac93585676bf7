/*
 * srv_validate.c: `groved validate -f PATH...`, the validating webhook's
 * checks on manifests offline, with the same messages (issue 2).
 *
 * Two passes: the first reads every document of every input, so that the
 * second can look up what PodCliqueSets refer to (ResourceClaimTemplates
 * by namespace, ClusterTopologyBindings) in the same set of files.
 */
#include <getopt.h>
#include <stdint.h>

#include "groved/policy.h"
#include "groved/server.h"
#include "kube_connect.h"

typedef enum { OUT_TEXT, OUT_JSON } out_format;

typedef struct validate_opts {
	const char *ns;
	const char *kubeconfig;
	const char *context;
	const char *scheduler;
	const char *old; /* --old PATH: validate as an UPDATE of these */
	bool strict;
	out_format format;
} validate_opts;

/* One document, with the input it came from. */
typedef struct doc_ref {
	const char *file;
	const json_t *obj;
} doc_ref;

typedef struct bundle {
	doc_ref *docs;
	size_t n_docs;
	json_t *old_docs; /* documents of --old, or NULL */
	kube_conn *kc; /* the cluster, with --kubeconfig; else NULL */
	const validate_opts *opts;
} bundle;

/* What the run found, for the summary and the exit code. */
typedef struct tally {
	size_t objects;
	size_t valid;
	size_t invalid;
	bool unreadable;
} tally;

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static bool api_group_is(const json_t *obj, const char *group)
{
	const char *av = str_at(obj, "apiVersion", NULL);
	size_t n = strlen(group);

	return av && strncmp(av, group, n) == 0 && av[n] == '/';
}

static bool is_kind(const json_t *obj, const char *group, const char *kind)
{
	const char *k = str_at(obj, "kind", NULL);

	return k && strcmp(k, kind) == 0 && api_group_is(obj, group);
}

/* ---- lookups over the files ------------------------------------------- */

static pol_lookup_result files_claim_template(void *ctx, const char *ns,
					      const char *name, char *why,
					      size_t size)
{
	const bundle *b = ctx;
	bool any_in_ns = false;
	size_t i = 0;

	for (i = 0; i < b->n_docs; i++) {
		const json_t *o = b->docs[i].obj;
		const char *ons = str_at(o, "metadata", "namespace");

		if (!is_kind(o, "resource.k8s.io", "ResourceClaimTemplate"))
			continue;
		if (strcmp(ons ? ons : b->opts->ns, ns) != 0)
			continue;
		any_in_ns = true;
		if (str_at(o, "metadata", "name") &&
		    strcmp(str_at(o, "metadata", "name"), name) == 0)
			return POL_LOOKUP_FOUND;
	}
	/* with a cluster, it is the judge of what the files lack */
	if (b->kc)
		return kube_lookup_claim_template(b->kc, ns, name, why, size);
	/* a bundle that holds templates of the namespace is complete */
	if (any_in_ns)
		return POL_LOOKUP_MISSING;
	snprintf(why, size,
		 "no ResourceClaimTemplate of namespace \"%s\" in the "
		 "files (add them, or use --kubeconfig)",
		 ns);
	return POL_LOOKUP_UNKNOWN;
}

static pol_lookup_result files_topology(void *ctx, const char *name,
					json_t **levels, char *why, size_t size)
{
	const bundle *b = ctx;
	bool any = false;
	size_t i = 0;

	for (i = 0; i < b->n_docs; i++) {
		const json_t *o = b->docs[i].obj;
		const char *n = str_at(o, "metadata", "name");

		if (!is_kind(o, "grove.io", "ClusterTopologyBinding"))
			continue;
		any = true;
		if (!n || strcmp(n, name) != 0)
			continue;
		*levels = json_incref(
		    json_object_get(json_object_get(o, "spec"), "levels"));
		if (!*levels)
			*levels = json_array();
		return POL_LOOKUP_FOUND;
	}
	if (b->kc)
		return kube_lookup_topology(b->kc, name, levels, why, size);
	if (any)
		return POL_LOOKUP_MISSING;
	snprintf(why, size,
		 "no ClusterTopologyBinding in the files (add it, or use "
		 "--kubeconfig)");
	return POL_LOOKUP_UNKNOWN;
}

/* The PodCliqueSet of --old with obj's namespace and name, or NULL. */
static const json_t *old_version(const bundle *b, const json_t *obj,
				 const char *ns)
{
	const char *name = str_at(obj, "metadata", "name");
	const json_t *o = NULL;
	size_t i = 0;

	if (!name)
		return NULL;
	json_array_foreach(b->old_docs, i, o)
	{
		const char *ons = str_at(o, "metadata", "namespace");
		const char *on = str_at(o, "metadata", "name");

		if (is_kind(o, "grove.io", "PodCliqueSet") && on &&
		    strcmp(on, name) == 0 &&
		    strcmp(ons ? ons : b->opts->ns, ns) == 0)
			return o;
	}
	return NULL;
}

/* ---- output ----------------------------------------------------------- */

/* `PodCliqueSet "ns/name"` or, cluster-scoped, `Kind "name"`. */
static void describe(const json_t *obj, const char *ns, char *buf, size_t size)
{
	const char *kind = str_at(obj, "kind", NULL);
	const char *name = str_at(obj, "metadata", "name");

	if (!name)
		name = str_at(obj, "metadata", "generateName");
	if (!name)
		name = "";
	if (ns)
		snprintf(buf, size, "%s \"%s/%s\"", kind ? kind : "<no kind>",
			 ns, name);
	else
		snprintf(buf, size, "%s \"%s\"", kind ? kind : "<no kind>",
			 name);
}

static void print_text(const char *file, const char *what, const pol_verdict *v)
{
	size_t i = 0;

	for (i = 0; i < v->n_errors; i++) {
		char *s = pol_ferr_string(&v->errors[i]);

		printf("%s: %s: %s\n", file, what, s ? s : "out of memory");
		free(s);
	}
	for (i = 0; i < v->n_warnings; i++)
		printf("warning: %s: %s: %s\n", file, what, v->warnings[i]);
}

/* {file, kind, namespace, name, errors[{field,type,value,detail}],
 * warnings[]}; returns a new reference or NULL. */
static json_t *json_result(const char *file, const json_t *obj, const char *ns,
			   const pol_verdict *v)
{
	json_t *out = NULL;
	json_t *errors = json_array();
	json_t *warnings = json_array();
	size_t i = 0;

	if (!errors || !warnings)
		goto fail;
	for (i = 0; i < v->n_errors; i++) {
		const pol_ferr *e = &v->errors[i];
		json_t *je = json_pack("{s:s, s:s, s:O*, s:s*}", "field",
				       e->field, "type", pol_fe_text(e->type),
				       "value", e->value, "detail", e->detail);

		if (!je || json_array_append_new(errors, je) != 0)
			goto fail;
	}
	for (i = 0; i < v->n_warnings; i++) {
		if (json_array_append_new(warnings,
					  json_string(v->warnings[i])) != 0)
			goto fail;
	}
	out = json_pack("{s:s, s:s*, s:s*, s:s*, s:o, s:o}", "file", file,
			"kind", str_at(obj, "kind", NULL), "namespace", ns,
			"name", str_at(obj, "metadata", "name"), "errors",
			errors, "warnings", warnings);
	return out;
fail:
	json_decref(errors);
	json_decref(warnings);
	return NULL;
}

/* ---- the run ---------------------------------------------------------- */

static int check_doc(const bundle *b, const doc_ref *d,
		     const pol_options *popts, json_t *results, tally *t)
{
	const json_t *obj = d->obj;
	pol_verdict v = POL_VERDICT_INIT;
	const char *ns = NULL;
	char what[512];
	int rc = GV_OK;

	if (is_kind(obj, "grove.io", "PodCliqueSet")) {
		ns = str_at(obj, "metadata", "namespace");
		if (!ns)
			ns = b->opts->ns;
		rc = pol_review_pcs(obj, old_version(b, obj, ns), popts, &v,
				    NULL);
	} else if (is_kind(obj, "grove.io", "ClusterTopologyBinding")) {
		rc = pol_validate_topology_binding(obj, &v);
	} else if (b->opts->strict &&
		   !is_kind(obj, "resource.k8s.io", "ResourceClaimTemplate")) {
		ns = str_at(obj, "metadata", "namespace");
		pol_verdict_add(&v, POL_FE_NOT_SUPPORTED, "kind",
				json_string(str_at(obj, "kind", NULL)
						? str_at(obj, "kind", NULL)
						: ""),
				"--strict: groved validates PodCliqueSet and "
				"ClusterTopologyBinding (grove.io)");
	} else {
		return GV_OK; /* not ours: skipped silently */
	}
	if (rc != GV_OK)
		goto out;
	t->objects++;
	if (v.n_errors)
		t->invalid++;
	else
		t->valid++;
	describe(obj, ns, what, sizeof(what));
	if (results) {
		json_t *r = json_result(d->file, obj, ns, &v);

		if (!r || json_array_append_new(results, r) != 0) {
			rc = GV_ENOMEM;
			goto out;
		}
	} else {
		print_text(d->file, what, &v);
	}
out:
	pol_verdict_release(&v);
	return rc;
}

static void usage(FILE *to)
{
	fputs("usage: groved validate -f PATH [-f PATH...] [options]\n"
	      "\n"
	      "Checks PodCliqueSets (both forms) and ClusterTopologyBindings "
	      "with the\n"
	      "validating webhook's rules, after applying the same defaults.\n"
	      "\n"
	      "  -f, --filename PATH   a file, a directory (recursive: *.yaml, "
	      "*.yml,\n"
	      "                        *.json) or - for standard input; "
	      "repeatable\n"
	      "  -n, --namespace NS    namespace of objects without one "
	      "(default: default)\n"
	      "      --strict          report objects of kinds groved does not "
	      "validate\n"
	      "  -o, --output FORMAT   text (default) or json\n"
	      "      --kubeconfig FILE check claim templates and topology "
	      "bindings in the\n"
	      "                        cluster of this kubeconfig (an "
	      "unreachable API server\n"
	      "                        gives \"not checked\" warnings)\n"
	      "      --context NAME    the kubeconfig context to use "
	      "(default: the current one)\n"
	      "      --old PATH        validate as an UPDATE of the "
	      "PodCliqueSets in PATH\n"
	      "                        (same namespace and name): the rules "
	      "on what an\n"
	      "                        update may not change apply\n"
	      "      --default-scheduler NAME\n"
	      "                        scheduler of cliques that name none "
	      "(default:\n"
	      "                        kai-scheduler)\n"
	      "\n"
	      "ResourceClaimTemplates and ClusterTopologyBindings in the "
	      "given files are\n"
	      "used for the checks that need them.\n"
	      "\n"
	      "Exit status: 0 all valid, 1 an object is invalid, 2 a file "
	      "cannot be read\nor parsed, or bad usage.\n",
	      to);
}

/* A kind such as "List" or "PodCliqueSetList", as `kubectl get -o yaml`
 * writes several objects. */
static bool is_list(const json_t *obj)
{
	const char *kind = str_at(obj, "kind", NULL);
	size_t n = kind ? strlen(kind) : 0;

	return n >= 4 && strcmp(kind + n - 4, "List") == 0 &&
	       json_is_array(json_object_get(obj, "items"));
}

/* The documents with every List replaced by its items (one level, as
 * kubectl reads them). Steals docs; returns a new reference or NULL. */
static json_t *flatten_lists(json_t *docs)
{
	json_t *out = NULL;
	json_t *doc = NULL;
	size_t i = 0;

	json_array_foreach(docs, i, doc)
	{
		if (is_list(doc))
			break;
	}
	if (i == json_array_size(docs))
		return docs; /* the common case: nothing to copy */
	out = json_array();
	json_array_foreach(docs, i, doc)
	{
		int rc =
		    is_list(doc)
			? json_array_extend(out, json_object_get(doc, "items"))
			: json_array_append(out, doc);

		if (!out || rc != 0) {
			json_decref(out);
			out = NULL;
			break;
		}
	}
	json_decref(docs);
	return out;
}

/* Reads every input and its documents; unreadable ones are reported on
 * stderr and marked in t. docs_out holds each input's documents. */
static int load(const srv_inputs *in, json_t *all_docs, bundle *b, tally *t)
{
	size_t i = 0;
	size_t k = 0;
	size_t total = 0;

	for (i = 0; i < in->n; i++) {
		gv_error_t err = GV_ERROR_INIT;
		json_t *docs = NULL;
		char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
		int rc =
		    pol_read_documents(in->items[i].data, in->items[i].len,
				       in->items[i].name, &docs, NULL, &err);

		if (rc == GV_ENOMEM)
			return rc;
		if (rc != GV_OK) {
			fprintf(stderr, "%s\n",
				gv_error_format(&err, msg, sizeof(msg)));
			t->unreadable = true;
			docs = json_array();
		}
		docs = flatten_lists(docs);
		if (!docs)
			return GV_ENOMEM;
		if (json_array_append_new(all_docs, docs) != 0)
			return GV_ENOMEM;
		total += json_array_size(docs);
	}
	b->docs = calloc(total + 1, sizeof(*b->docs));
	if (!b->docs)
		return GV_ENOMEM;
	for (i = 0; i < in->n; i++) {
		const json_t *docs = json_array_get(all_docs, i);

		for (k = 0; k < json_array_size(docs); k++) {
			b->docs[b->n_docs].file = in->items[i].name;
			b->docs[b->n_docs].obj = json_array_get(docs, k);
			b->n_docs++;
		}
	}
	return GV_OK;
}

/* Reads the documents of --old into b->old_docs (all inputs flattened). */
static int load_old(const char *path, bundle *b, tally *t)
{
	srv_inputs in = SRV_INPUTS_INIT;
	gv_error_t err = GV_ERROR_INIT;
	char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
	size_t i = 0;
	int rc = GV_OK;

	b->old_docs = json_array();
	if (!b->old_docs)
		return GV_ENOMEM;
	rc = srv_inputs_add(&in, path, POL_READ_MAX_BYTES, &err);
	for (i = 0; rc == GV_OK && i < in.n; i++) {
		json_t *docs = NULL;

		rc = pol_read_documents(in.items[i].data, in.items[i].len,
					in.items[i].name, &docs, NULL, &err);
		if (rc == GV_OK && !(docs = flatten_lists(docs)))
			rc = GV_ENOMEM;
		if (rc == GV_OK) {
			rc = json_array_extend(b->old_docs, docs) ? GV_ENOMEM
								  : GV_OK;
			json_decref(docs);
		}
	}
	if (rc != GV_OK && rc != GV_ENOMEM) {
		fprintf(stderr, "%s\n",
			gv_error_format(&err, msg, sizeof(msg)));
		t->unreadable = true;
		rc = GV_OK;
	}
	srv_inputs_release(&in);
	return rc;
}

int srv_cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "strict", no_argument, NULL, 's' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "context", required_argument, NULL, 'c' },
		{ "default-scheduler", required_argument, NULL, 'S' },
		{ "old", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	validate_opts opts = { "default", NULL,	 NULL,	  NULL,
			       NULL,	  false, OUT_TEXT };
	kube_conn kc;
	srv_inputs in = SRV_INPUTS_INIT;
	bundle b = { NULL, 0, NULL, NULL, &opts };
	tally t = { 0, 0, 0, false };
	pol_lookup lookup = { files_claim_template, files_topology, &b };
	pol_options popts = { NULL, NULL, &lookup };
	json_t *all_docs = NULL;
	json_t *results = NULL;
	bool any_path = false;
	size_t i = 0;
	int exit_code = 2;
	int c = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:n:o:h", longopts, NULL)) != -1) {
		gv_error_t err = GV_ERROR_INIT;
		char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];

		switch (c) {
		case 'f':
			any_path = true;
			if (srv_inputs_add(&in, optarg, POL_READ_MAX_BYTES,
					   &err) != GV_OK) {
				fprintf(
				    stderr, "%s\n",
				    gv_error_format(&err, msg, sizeof(msg)));
				t.unreadable = true;
			}
			break;
		case 'n':
			opts.ns = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				opts.format = OUT_JSON;
			} else if (strcmp(optarg, "text") == 0) {
				opts.format = OUT_TEXT;
			} else {
				fprintf(
				    stderr,
				    "groved validate: unknown output format "
				    "'%s' (text or json)\n",
				    optarg);
				goto out;
			}
			break;
		case 's':
			opts.strict = true;
			break;
		case 'k':
			opts.kubeconfig = optarg;
			break;
		case 'c':
			opts.context = optarg;
			break;
		case 'S':
			opts.scheduler = optarg;
			break;
		case 'O':
			opts.old = optarg;
			break;
		case 'h':
			usage(stdout);
			exit_code = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind < argc || !any_path) {
		fprintf(stderr,
			optind < argc ? "groved validate: unexpected argument "
					"'%s' (name files with -f)\n"
				      : "groved validate: no input (use -f "
					"PATH)%s\n",
			optind < argc ? argv[optind] : "");
		usage(stderr);
		goto out;
	}
	if (opts.kubeconfig) {
		gv_error_t kerr = GV_ERROR_INIT;
		char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];

		if (kube_connect(&kc, opts.kubeconfig, opts.context, &kerr) !=
		    GV_OK) {
			fprintf(stderr, "groved validate: %s\n",
				gv_error_format(&kerr, msg, sizeof(msg)));
			goto out;
		}
		b.kc = &kc;
	}
	popts.default_scheduler = opts.scheduler;
	popts.default_namespace = opts.ns;
	all_docs = json_array();
	if (opts.format == OUT_JSON)
		results = json_array();
	if (!all_docs || (opts.format == OUT_JSON && !results) ||
	    load(&in, all_docs, &b, &t) != GV_OK)
		goto oom;
	if (opts.old && load_old(opts.old, &b, &t) != GV_OK)
		goto oom;
	for (i = 0; i < b.n_docs; i++) {
		if (check_doc(&b, &b.docs[i], &popts, results, &t) != GV_OK)
			goto oom;
	}
	if (results) {
		if (json_dumpf(results, stdout, JSON_INDENT(2)) != 0)
			goto oom;
		fputc('\n', stdout);
	}
	fflush(stdout);
	fprintf(results ? stderr : stdout,
		"%zu objects, %zu valid, %zu invalid\n", t.objects, t.valid,
		t.invalid);
	exit_code = t.unreadable ? 2 : t.invalid ? 1 : 0;
	goto out;
oom:
	fputs("groved validate: out of memory\n", stderr);
	exit_code = 2;
out:
	json_decref(results);
	json_decref(all_docs);
	json_decref(b.old_docs);
	if (b.kc)
		kube_conn_release(b.kc);
	free(b.docs);
	srv_inputs_release(&in);
	return exit_code;
}
