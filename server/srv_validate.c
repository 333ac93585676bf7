/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_validate.c: `groved validate -f PATH...`, the validating webhook's
 * checks on manifests offline, with the same messages.
 *
 * Two passes: the first reads every document of every input, so that the
 * second can look up what PodCliqueSets refer to (ResourceClaimTemplates
 * by namespace, ClusterTopologyBindings) in the same set of files.
 *
 * Nothing is called valid that was not checked: an object of a Grove
 * group that groved cannot read (unknown kind, unserved version) and a
 * document without apiVersion or kind are errors; objects of other kinds
 * are counted as skipped, with the reason, in the summary; an input
 * without objects is said to be one.
 */
#include <getopt.h>
#include <stdint.h>

#include "groved/gv_read.h"
#include "groved/policy.h"
#include "groved/server.h"
#include "srv_kcache.h"
#include "srv_validate.h"

/* Why a ResourceClaimTemplate is skipped; --strict does not refuse it. */
#define REASON_LOOKUPS "used for lookups"

typedef srv_validate_opts validate_opts;

/* One document, with the input it came from. */
typedef struct doc_ref {
	const char *file;
	const json_t *obj;
	long line; /* where it starts; an item of a List: the List's line */
} doc_ref;

typedef struct bundle {
	doc_ref *docs;
	size_t n_docs;
	json_t *old_docs; /* documents of --old, or NULL */
	srv_kconn *kc; /* the cluster, with --kubeconfig; else NULL */
	const validate_opts *opts;
	/* Claim templates that could not be checked: the object being
	 * checked's ([["ns/name", why], ...]), and the run's, said once at
	 * the end (why -> {"ns/name": true}, in the order first seen). */
	json_t *pending;
	json_t *unchecked;
	bool oom; /* recording one of them failed */
} bundle;

/* What the run found, for the summary and the exit code. */
typedef struct tally {
	size_t objects;
	size_t valid;
	size_t invalid;
	size_t skipped;
	json_t *skips; /* "Kind: reason" -> true, in the order first seen */
	bool unreadable; /* exit 2 */
	bool no_objects; /* an input held none: exit 1 */
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

static pol_lookup_result claim_template_in(const bundle *b, const char *ns,
					   const char *name, char *why,
					   size_t size)
{
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
		return srv_lookup_claim_template(b->kc, ns, name, why, size);
	/* a bundle that holds templates of the namespace is complete */
	if (any_in_ns)
		return POL_LOOKUP_MISSING;
	snprintf(why, size,
		 "no ResourceClaimTemplate of namespace \"%s\" in the "
		 "files (add them, or use --kubeconfig)",
		 ns);
	return POL_LOOKUP_UNKNOWN;
}

/*
 * V14's lookup. What cannot be checked is answered FOUND and kept in
 * b->pending: the run says it once, at the end, for the objects that had
 * no error (a warning per claim and object would bury the errors).
 */
static pol_lookup_result files_claim_template(void *ctx, const char *ns,
					      const char *name, char *why,
					      size_t size)
{
	bundle *b = ctx;
	pol_lookup_result r = claim_template_in(b, ns, name, why, size);
	json_t *entry = NULL;

	if (r != POL_LOOKUP_UNKNOWN)
		return r;
	entry = json_pack("[s++, s]", ns, "/", name, why);
	if (!entry || json_array_append_new(b->pending, entry) != 0) {
		b->oom = true;
		return r;
	}
	return POL_LOOKUP_FOUND;
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
		return srv_lookup_topology(b->kc, name, levels, why, size);
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

/* What the output calls an object: `PodCliqueSet "ns/name"`, cluster
 * scoped `Kind "name"`, `Kind` without a name, `document` without a
 * kind. An object that its kind and name cannot find is placed by its
 * line as well: FILE:LINE. */
static void describe(const doc_ref *d, const char *ns, char *where,
		     size_t where_size, char *what, size_t what_size)
{
	const char *kind = str_at(d->obj, "kind", NULL);
	const char *name = str_at(d->obj, "metadata", "name");
	bool placed = false;

	if (!name)
		name = str_at(d->obj, "metadata", "generateName");
	placed = kind && name && str_at(d->obj, "apiVersion", NULL);
	if (!kind)
		kind = "document";
	if (name && ns)
		snprintf(what, what_size, "%s \"%s/%s\"", kind, ns, name);
	else if (name)
		snprintf(what, what_size, "%s \"%s\"", kind, name);
	else
		snprintf(what, what_size, "%s", kind);
	if (placed || d->line <= 0)
		snprintf(where, where_size, "%s", d->file);
	else
		snprintf(where, where_size, "%s:%ld", d->file, d->line);
}

static void print_text(FILE *to, const char *where, const char *what,
		       const pol_verdict *v)
{
	size_t i = 0;

	for (i = 0; i < v->n_errors; i++) {
		char *s = pol_ferr_string(&v->errors[i]);

		fprintf(to, "%s: %s: %s\n", where, what,
			s ? s : "out of memory");
		free(s);
	}
	for (i = 0; i < v->n_warnings; i++)
		fprintf(to, "warning: %s: %s: %s\n", where, what,
			v->warnings[i]);
}

/* {file, line, kind, namespace, name, errors[{field,type,value,detail}],
 * warnings[]}; returns a new reference or NULL. */
static json_t *json_result(const doc_ref *d, const char *ns,
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
	out = json_pack("{s:s, s:I, s:s*, s:s*, s:s*, s:o, s:o}", "file",
			d->file, "line", (json_int_t)d->line, "kind",
			str_at(d->obj, "kind", NULL), "namespace", ns, "name",
			str_at(d->obj, "metadata", "name"), "errors", errors,
			"warnings", warnings);
	return out;
fail:
	json_decref(errors);
	json_decref(warnings);
	return NULL;
}

/* The claim templates nothing could check, once per reason:
 * `warning: ResourceClaimTemplate "ns/a" was not checked: WHY`. */
static void print_unchecked(FILE *to, const json_t *unchecked)
{
	const char *why = NULL;
	const char *ref = NULL;
	json_t *refs = NULL;
	json_t *val = NULL;

	json_object_foreach((json_t *)unchecked, why, refs)
	{
		size_t n = json_object_size(refs);
		size_t k = 0;

		fprintf(to, "warning: ResourceClaimTemplate%s ",
			n == 1 ? "" : "s");
		json_object_foreach(refs, ref, val)
		    fprintf(to, "%s\"%s\"", k++ ? ", " : "", ref);
		fprintf(to, " %s not checked: %s\n", n == 1 ? "was" : "were",
			why);
	}
}

/* "N objects: V valid, I invalid[, S skipped (Kind: reason; ...)]" */
static void print_summary(FILE *to, const tally *t)
{
	const char *skip = NULL;
	json_t *val = NULL;
	size_t k = 0;

	fprintf(to, "%zu object%s: %zu valid, %zu invalid", t->objects,
		t->objects == 1 ? "" : "s", t->valid, t->invalid);
	if (t->skipped) {
		fprintf(to, ", %zu skipped (", t->skipped);
		json_object_foreach(t->skips, skip, val)
		    fprintf(to, "%s%s", k++ ? "; " : "", skip);
		fputc(')', to);
	}
	fputc('\n', to);
}

/* ---- the run ---------------------------------------------------------- */

/* Why an object of this kind is not checked, or NULL when it is. */
static const char *skip_reason(pol_kind kind, const json_t *obj)
{
	switch (kind) {
	case POL_KIND_PODCLIQUESET:
	case POL_KIND_CLUSTERTOPOLOGYBINDING:
	case POL_KIND_INVALID:
		return NULL;
	case POL_KIND_PODCLIQUE:
	case POL_KIND_PODCLIQUESCALINGGROUP:
	case POL_KIND_PODGANG:
		return "made by groved's worker";
	case POL_KIND_OTHER:
	default:
		return is_kind(obj, "resource.k8s.io", "ResourceClaimTemplate")
			   ? REASON_LOOKUPS
			   : "not a Grove kind";
	}
}

/* The object's claim templates that could not be checked join the
 * run's, unless the object has errors to fix first. */
static void settle_pending(bundle *b, const pol_verdict *v)
{
	const json_t *entry = NULL;
	size_t i = 0;

	json_array_foreach(b->pending, i, entry)
	{
		const char *ref = json_string_value(json_array_get(entry, 0));
		const char *why = json_string_value(json_array_get(entry, 1));
		json_t *refs = json_object_get(b->unchecked, why);

		if (v->n_errors)
			break;
		if (!refs && (!(refs = json_object()) ||
			      json_object_set_new(b->unchecked, why, refs))) {
			b->oom = true;
			break;
		}
		if (json_object_set_new(refs, ref, json_true()) != 0)
			b->oom = true;
	}
	json_array_clear(b->pending);
}

static int check_doc(bundle *b, const doc_ref *d, const pol_options *popts,
		     json_t *results, tally *t)
{
	const json_t *obj = d->obj;
	pol_verdict v = POL_VERDICT_INIT;
	pol_kind kind = pol_kind_of(obj, &v);
	const char *skip = skip_reason(kind, obj);
	const char *ns = str_at(obj, "metadata", "namespace");
	json_t *defaulted = NULL;
	json_t *scaled = NULL;
	char where[GV_ERROR_SOURCE_MAX + 32];
	char what[512];
	int rc = GV_OK;

	switch (kind) {
	case POL_KIND_PODCLIQUESET:
		if (!ns)
			ns = b->opts->ns;
		if (b->opts->replicas >= 0) {
			/* as `kubectl scale` would leave it */
			scaled = json_deep_copy(obj);
			if (!scaled ||
			    json_object_set_new(
				json_object_get(scaled, "spec"), "replicas",
				json_integer(b->opts->replicas))) {
				rc = GV_ENOMEM;
				goto out;
			}
			obj = scaled;
		}
		rc = pol_review_pcs(obj, old_version(b, obj, ns), popts, &v,
				    b->opts->valid ? &defaulted : NULL);
		break;
	case POL_KIND_CLUSTERTOPOLOGYBINDING:
		ns = NULL;
		rc = pol_validate_topology_binding(obj, &v);
		break;
	case POL_KIND_PODCLIQUE:
	case POL_KIND_PODCLIQUESCALINGGROUP:
	case POL_KIND_PODGANG:
		if (!ns)
			ns = b->opts->ns;
		break;
	default:
		break;
	}
	if (rc != GV_OK)
		goto out;
	if (skip && !v.n_errors &&
	    (!b->opts->strict || strcmp(skip, REASON_LOOKUPS) == 0)) {
		char key[512];

		snprintf(key, sizeof(key), "%s: %s", str_at(obj, "kind", NULL),
			 skip);
		t->objects++;
		t->skipped++;
		if (json_object_set_new(t->skips, key, json_true()) != 0)
			rc = GV_ENOMEM;
		goto out;
	}
	if (skip && !v.n_errors)
		pol_verdict_add(&v, POL_FE_NOT_SUPPORTED, "kind",
				pol_verdict_str(&v, str_at(obj, "kind", NULL)),
				"--strict: groved checks only PodCliqueSet and "
				"ClusterTopologyBinding; this one would be "
				"skipped (%s)",
				skip);
	if (kind != POL_KIND_PODCLIQUESET &&
	    kind != POL_KIND_CLUSTERTOPOLOGYBINDING)
		pol_verdict_sort(&v, obj);
	settle_pending(b, &v);
	if (v.oom || b->oom) {
		rc = GV_ENOMEM;
		goto out;
	}
	t->objects++;
	if (v.n_errors)
		t->invalid++;
	else
		t->valid++;
	if (!v.n_errors && b->opts->valid &&
	    (kind == POL_KIND_PODCLIQUESET ||
	     kind == POL_KIND_CLUSTERTOPOLOGYBINDING)) {
		rc = b->opts->valid(b->opts->ctx, kind,
				    defaulted ? defaulted : obj, ns);
		if (rc != GV_OK)
			goto out;
	}
	describe(d, ns, where, sizeof(where), what, sizeof(what));
	if (results) {
		json_t *r = json_result(d, ns, &v);

		if (!r || json_array_append_new(results, r) != 0) {
			rc = GV_ENOMEM;
			goto out;
		}
	} else {
		print_text(b->opts->text ? b->opts->text : stdout, where, what,
			   &v);
	}
out:
	json_decref(defaulted);
	json_decref(scaled);
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
	      "      --strict          objects of kinds groved skips are "
	      "errors (except\n"
	      "                        ResourceClaimTemplates, used for "
	      "lookups)\n"
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
	      "used for the checks that need them. Objects of other kinds "
	      "are skipped, and\n"
	      "the summary says which and why; an object of grove.io or "
	      "scheduler.grove.io\n"
	      "of an unknown kind or version is an error.\n"
	      "\n"
	      "Exit status: 0 every object checked is valid, 1 an object is "
	      "invalid or an\n"
	      "input holds no objects, 2 a file cannot be read or parsed, or "
	      "bad usage.\n",
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

/* The objects of a document: a List's items (one level, as kubectl
 * reads them), else 1. */
static size_t objects_in(const json_t *doc)
{
	return is_list(doc) ? json_array_size(json_object_get(doc, "items"))
			    : 1;
}

/* The documents with every List replaced by its items. Steals docs;
 * returns a new reference or NULL. */
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

/*
 * Reads every input: all_docs receives each input's documents, b->docs
 * one entry per object (a List's items in its place). An input that
 * cannot be read or parsed is said on stderr and marks t->unreadable; one
 * without objects is said too and marks t->no_objects.
 */
static int load(const srv_inputs *in, json_t *all_docs, json_t *all_lines,
		bundle *b, tally *t)
{
	size_t i = 0;
	size_t k = 0;
	size_t total = 0;

	for (i = 0; i < in->n; i++) {
		gv_error_t err = GV_ERROR_INIT;
		json_t *docs = NULL;
		json_t *lines = NULL;
		char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
		size_t n = 0;
		int rc =
		    gv_read_documents(in->items[i].data, in->items[i].len,
				      in->items[i].name, &docs, &lines, &err);

		if (rc == GV_ENOMEM)
			return rc;
		if (rc != GV_OK) {
			fprintf(stderr, "%s: %s\n", b->opts->cmd,
				gv_error_format(&err, msg, sizeof(msg)));
			t->unreadable = true;
			docs = json_array();
			lines = json_array();
		}
		if (json_array_append_new(all_docs, docs) != 0 ||
		    json_array_append_new(all_lines, lines) != 0)
			return GV_ENOMEM;
		for (k = 0; k < json_array_size(docs); k++)
			n += objects_in(json_array_get(docs, k));
		if (rc == GV_OK && n == 0) {
			fprintf(stderr, "%s: no objects in '%s'\n",
				b->opts->cmd, in->items[i].name);
			t->no_objects = true;
		}
		total += n;
	}
	b->docs = calloc(total + 1, sizeof(*b->docs));
	if (!b->docs)
		return GV_ENOMEM;
	for (i = 0; i < in->n; i++) {
		const json_t *docs = json_array_get(all_docs, i);
		const json_t *lines = json_array_get(all_lines, i);

		for (k = 0; k < json_array_size(docs); k++) {
			const json_t *doc = json_array_get(docs, k);
			const json_t *items = json_object_get(doc, "items");
			size_t n = objects_in(doc);
			size_t j = 0;

			for (j = 0; j < n; j++) {
				doc_ref *d = &b->docs[b->n_docs++];

				d->file = in->items[i].name;
				d->obj = is_list(doc) ? json_array_get(items, j)
						      : doc;
				d->line = (long)json_integer_value(
				    json_array_get(lines, k));
			}
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
	rc = srv_inputs_add(&in, path, GV_READ_MAX_BYTES, &err);
	for (i = 0; rc == GV_OK && i < in.n; i++) {
		json_t *docs = NULL;

		rc = gv_read_documents(in.items[i].data, in.items[i].len,
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
		fprintf(stderr, "%s: %s\n", b->opts->cmd,
			gv_error_format(&err, msg, sizeof(msg)));
		t->unreadable = true;
		rc = GV_OK;
	}
	srv_inputs_release(&in);
	return rc;
}

/* -f PATH: its inputs join in; a directory without manifests is said to
 * hold no objects. */
static void add_path(const char *cmd, srv_inputs *in, const char *path,
		     tally *t)
{
	gv_error_t err = GV_ERROR_INIT;
	char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];
	size_t before = in->n;

	if (srv_inputs_add(in, path, GV_READ_MAX_BYTES, &err) != GV_OK) {
		fprintf(stderr, "%s: %s\n", cmd,
			gv_error_format(&err, msg, sizeof(msg)));
		t->unreadable = true;
	} else if (in->n == before) {
		fprintf(stderr,
			"%s: no objects in '%s' (no *.yaml, *.yml or *.json "
			"files)\n",
			cmd, path);
		t->no_objects = true;
	}
}

int srv_validate_paths(const srv_validate_opts *opts, char *const *paths,
		       size_t n)
{
	srv_kconn kc;
	srv_inputs in = SRV_INPUTS_INIT;
	bundle b = { .opts = opts };
	tally t = { 0 };
	pol_lookup lookup = { files_claim_template, files_topology, &b };
	pol_options popts = { NULL, NULL, &lookup };
	json_t *all_docs = NULL;
	json_t *all_lines = NULL;
	json_t *results = NULL;
	FILE *report = opts->text ? opts->text : stdout;
	size_t i = 0;
	int exit_code = 2;

	for (i = 0; i < n; i++)
		add_path(opts->cmd, &in, paths[i], &t);
	if (opts->kubeconfig) {
		gv_error_t kerr = GV_ERROR_INIT;
		char msg[GV_ERROR_SOURCE_MAX + GV_ERROR_TEXT_MAX + 32];

		if (srv_kconn_connect(&kc, opts->kubeconfig, opts->context,
				      &kerr) != GV_OK) {
			fprintf(stderr, "%s: %s\n", opts->cmd,
				gv_error_format(&kerr, msg, sizeof(msg)));
			goto out;
		}
		b.kc = &kc;
	}
	popts.default_scheduler = opts->scheduler;
	popts.default_namespace = opts->ns;
	all_docs = json_array();
	all_lines = json_array();
	b.pending = json_array();
	b.unchecked = json_object();
	t.skips = json_object();
	if (opts->format == SRV_OUT_JSON) {
		results = json_array();
		report = stderr;
	}
	if (!all_docs || !all_lines || !b.pending || !b.unchecked || !t.skips ||
	    (opts->format == SRV_OUT_JSON && !results) ||
	    load(&in, all_docs, all_lines, &b, &t) != GV_OK)
		goto oom;
	if (opts->old && load_old(opts->old, &b, &t) != GV_OK)
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
	exit_code = t.unreadable ? 2 : t.invalid || t.no_objects ? 1 : 0;
	print_unchecked(report, b.unchecked);
	if (exit_code != 0 || !opts->summary_on_failure)
		print_summary(report, &t);
	goto out;
oom:
	fflush(stdout);
	fprintf(stderr, "%s: out of memory\n", opts->cmd);
	exit_code = 2;
out:
	json_decref(results);
	json_decref(all_docs);
	json_decref(all_lines);
	json_decref(b.old_docs);
	json_decref(b.pending);
	json_decref(b.unchecked);
	json_decref(t.skips);
	if (b.kc)
		srv_kconn_release(b.kc);
	free(b.docs);
	srv_inputs_release(&in);
	return exit_code;
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
	validate_opts opts = { .cmd = "groved validate",
			       .ns = "default",
			       .replicas = -1,
			       .format = SRV_OUT_TEXT };
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	size_t n_paths = 0;
	int exit_code = 2;
	int c = 0;

	if (!paths) {
		fputs("groved validate: out of memory\n", stderr);
		return 2;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:n:o:h", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'f':
			paths[n_paths++] = optarg;
			break;
		case 'n':
			opts.ns = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0) {
				opts.format = SRV_OUT_JSON;
			} else if (strcmp(optarg, "text") == 0) {
				opts.format = SRV_OUT_TEXT;
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
			srv_option_error("groved validate", c, argv, longopts);
			usage(stderr);
			goto out;
		}
	}
	if (!srv_inputs_args_ok("groved validate", argc, argv, n_paths)) {
		usage(stderr);
		goto out;
	}
	if (opts.context && !opts.kubeconfig) {
		fputs("groved validate: --context needs --kubeconfig\n",
		      stderr);
		usage(stderr);
		goto out;
	}
	exit_code = srv_validate_paths(&opts, paths, n_paths);
out:
	free(paths);
	return exit_code;
}
