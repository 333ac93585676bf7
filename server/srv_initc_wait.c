/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_initc_wait.c: the pure part of `groved initc` (srv_initc.h): its
 * command line, and the decision, pods in and "done" or what is still
 * awaited out. No I/O: the command (srv_initc.c) feeds it what it
 * watches, and the tests (tests/test_initc.c) feed it what they build.
 */
#include <inttypes.h>

#include "groved/gv_buf.h"
#include "groved/policy.h"
#include "srv_config.h"
#include "srv_initc.h"

/* ---- the command line ------------------------------------------------- */

/* GV_EINVAL with err's text from fmt. */
#define BAD(err, ...) gv_error_set((err), GV_EINVAL, NULL, 0, 0, __VA_ARGS__)

#define DNS_LABEL_RULE                                                       \
	"a lowercase RFC 1123 label: at most 63 lower-case letters, digits " \
	"and '-', starting and ending with a letter or digit"

/* Whether s[0..n) is an RFC 1123 label. */
static bool is_dns_label(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > SRV_INITC_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool edge = i == 0 || i == n - 1;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && !edge))
			continue;
		return false;
	}
	return true;
}

/* A count of 1..SRV_INITC_COUNT_MAX in decimal digits, nothing else. */
static bool parse_count(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || v < 1 || v > SRV_INITC_COUNT_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int parent_cmp(const void *a, const void *b)
{
	return strcmp(((const srv_initc_parent *)a)->name,
		      ((const srv_initc_parent *)b)->name);
}

/* A growable array of parents, as parsed. */
typedef struct parent_list {
	srv_initc_parent *items;
	size_t n, cap;
} parent_list;

/* One "NAME:N" (elem[0..len)) of the value of a --podcliques (whole, for
 * messages) into list. */
static int add_parent(parent_list *list, const char *value, const char *elem,
		      size_t len, gv_error_t *err)
{
	char one[SRV_INITC_NAME_MAX + 16];
	const char *colon = memchr(elem, ':', len);
	size_t name_len = colon ? (size_t)(colon - elem) : 0;
	srv_initc_parent *p = NULL;

	if (len == 0)
		return BAD(err,
			   "--podcliques '%s': an empty entry (expected "
			   "NAME:N[,NAME:N...])",
			   value);
	if (!colon)
		return BAD(err,
			   "--podcliques '%s': '%.*s' is not NAME:N (a "
			   "PodClique and how many of its pods must be Ready)",
			   value, (int)len, elem);
	if (!is_dns_label(elem, name_len))
		return BAD(err,
			   "--podcliques '%s': PodClique name '%.*s' is not "
			   "%s",
			   value, (int)name_len, elem, DNS_LABEL_RULE);
	if (len - name_len - 1 >= sizeof(one))
		return BAD(err,
			   "--podcliques '%s': count '%.*s' is not a whole "
			   "number from 1 to %u",
			   value, (int)(len - name_len - 1), colon + 1,
			   SRV_INITC_COUNT_MAX);
	snprintf(one, sizeof(one), "%.*s", (int)(len - name_len - 1),
		 colon + 1);
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		srv_initc_parent *grown =
		    realloc(list->items, cap * sizeof(*grown));

		if (!grown)
			return gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
					    "out of memory");
		list->items = grown;
		list->cap = cap;
	}
	p = &list->items[list->n];
	memset(p, 0, sizeof(*p));
	if (!parse_count(one, &p->need))
		return BAD(err,
			   "--podcliques '%s': count '%s' is not a whole "
			   "number from 1 to %u",
			   value, one, SRV_INITC_COUNT_MAX);
	memcpy(p->name, elem, name_len);
	p->name[name_len] = '\0';
	list->n++;
	return GV_OK;
}

/* Every entry of one --podcliques value (comma-separated, as upstream
 * Grove's string-slice flag takes them). */
static int add_parents(parent_list *list, const char *value, gv_error_t *err)
{
	const char *p = value;
	int rc = GV_OK;

	for (;;) {
		size_t len = strcspn(p, ",");

		rc = add_parent(list, value, p, len, err);
		if (rc != GV_OK || !p[len])
			return rc;
		p += len + 1;
	}
}

/* The options; VALUE ones take a value after '=' or as the next
 * argument. */
typedef enum {
	OPT_PODCLIQUES,
	OPT_KUBECONFIG,
	OPT_NAMESPACE,
	OPT_LOG_EVERY,
	OPT_HELP,
} opt_id;

static const struct {
	const char *name; /* long name, without "--" */
	char short_name; /* or 0 */
	bool value;
	opt_id id;
} options[] = {
	{ "podcliques", 0, true, OPT_PODCLIQUES },
	{ "kubeconfig", 0, true, OPT_KUBECONFIG },
	{ "namespace", 'n', true, OPT_NAMESPACE },
	{ "log-every", 0, true, OPT_LOG_EVERY },
	{ "help", 'h', false, OPT_HELP },
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* The option arg names ("--name[=v]" or "-x"), or -1. */
static int find_option(const char *arg, size_t *name_len)
{
	size_t i = 0;

	if (arg[0] == '-' && arg[1] != '-' && arg[1] && !arg[2]) {
		for (i = 0; i < N_OPTIONS; i++)
			if (options[i].short_name == arg[1]) {
				*name_len = 2;
				return (int)i;
			}
		return -1;
	}
	if (strncmp(arg, "--", 2) != 0)
		return -1;
	*name_len = strcspn(arg, "=");
	for (i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].name) == *name_len - 2 &&
		    strncmp(options[i].name, arg + 2, *name_len - 2) == 0)
			return (int)i;
	return -1;
}

/* A --kubeconfig or --namespace given once only. */
static int set_once(const char **slot, const char *opt, const char *value,
		    gv_error_t *err)
{
	if (*slot)
		return BAD(err, "option '%s' is given twice ('%s', then '%s')",
			   opt, *slot, value);
	*slot = value;
	return GV_OK;
}

int srv_initc_parse(int argc, char *const *argv, srv_initc_args *a,
		    gv_error_t *err)
{
	srv_initc_args out = { .log_every_ms = SRV_INITC_LOG_EVERY_MS };
	parent_list list = { NULL, 0, 0 };
	bool log_every_set = false;
	size_t i = 0;
	int k = 0;
	int rc = GV_OK;

	for (k = 1; k < argc && rc == GV_OK && !out.help; k++) {
		const char *arg = argv[k];
		const char *value = NULL;
		size_t name_len = 0;
		int o = 0;
		uint64_t ms = 0;

		if (strcmp(arg, "--") == 0 && k + 1 < argc) {
			rc = BAD(err, "unexpected argument '%s'", argv[k + 1]);
			break;
		}
		if (strcmp(arg, "--") == 0)
			break;
		if (arg[0] != '-' || !arg[1]) {
			rc = BAD(err, "unexpected argument '%s'", arg);
			break;
		}
		o = find_option(arg, &name_len);
		if (o < 0) {
			rc = BAD(err, "unknown option '%.*s'",
				 (int)strcspn(arg, "="), arg);
			break;
		}
		if (arg[name_len] == '=' && !options[o].value) {
			rc = BAD(err, "option '%.*s' takes no value",
				 (int)name_len, arg);
			break;
		}
		if (options[o].value) {
			if (arg[name_len] == '=')
				value = arg + name_len + 1;
			else if (k + 1 < argc)
				value = argv[++k];
			if (!value) {
				rc = BAD(err, "option '%.*s' needs a value",
					 (int)name_len, arg);
				break;
			}
		}
		switch (options[o].id) {
		case OPT_PODCLIQUES:
			rc = add_parents(&list, value, err);
			break;
		case OPT_KUBECONFIG:
			if (!value[0])
				rc = BAD(err, "option '--kubeconfig' needs a "
					      "path");
			else
				rc = set_once(&out.kubeconfig, "--kubeconfig",
					      value, err);
			break;
		case OPT_NAMESPACE:
			if (!is_dns_label(value, strlen(value)))
				rc = BAD(err, "--namespace '%s' is not %s",
					 value, DNS_LABEL_RULE);
			else
				rc = set_once(&out.namespace, "--namespace",
					      value, err);
			break;
		case OPT_LOG_EVERY:
			if (log_every_set)
				rc = BAD(err,
					 "option '--log-every' is given twice");
			else if (cfg_parse_duration(value, &ms) != GV_OK ||
				 ms == 0)
				rc = BAD(err,
					 "--log-every '%s' is not a duration "
					 "above 0 (e.g. 5s, 500ms, 1m)",
					 value);
			else
				out.log_every_ms = ms;
			log_every_set = true;
			break;
		case OPT_HELP:
			out.help = true;
			break;
		}
	}
	if (rc == GV_OK && !out.help && list.n == 0)
		rc = BAD(err, "no parent PodClique given (use "
			      "--podcliques=NAME:N)");
	if (rc == GV_OK && list.n > 1) {
		qsort(list.items, list.n, sizeof(*list.items), parent_cmp);
		for (i = 1; i < list.n; i++) {
			if (strcmp(list.items[i - 1].name,
				   list.items[i].name) == 0) {
				rc = BAD(err,
					 "--podcliques: PodClique '%s' is "
					 "named twice",
					 list.items[i].name);
				break;
			}
		}
	}
	if (rc != GV_OK) {
		free(list.items);
		return rc;
	}
	out.parents = list.items;
	out.n_parents = list.n;
	*a = out;
	return GV_OK;
}

void srv_initc_args_release(srv_initc_args *a)
{
	if (!a)
		return;
	free(a->parents);
	memset(a, 0, sizeof(*a));
}

/* ---- the decision ----------------------------------------------------- */

bool srv_initc_pod_ready(const json_t *pod)
{
	const json_t *md = json_object_get(pod, "metadata");
	const json_t *conds =
	    json_object_get(json_object_get(pod, "status"), "conditions");
	const json_t *dt = json_object_get(md, "deletionTimestamp");
	const json_t *c = NULL;
	size_t i = 0;

	if (dt && !json_is_null(dt))
		return false; /* terminating: on its way out */
	json_array_foreach(conds, i, c)
	{
		const char *type =
		    json_string_value(json_object_get(c, "type"));

		if (type && strcmp(type, "Ready") == 0) {
			const char *st =
			    json_string_value(json_object_get(c, "status"));

			return st && strcmp(st, "True") == 0;
		}
	}
	return false;
}

/* The parent pod counts for (Ready, not terminating, of a parent
 * PodClique), or NULL. */
static srv_initc_parent *counted_for(srv_initc_parent *parents, size_t n,
				     const json_t *pod)
{
	const char *pclq = json_string_value(json_object_get(
	    json_object_get(json_object_get(pod, "metadata"), "labels"),
	    POL_LABEL_PCLQ));
	srv_initc_parent key;

	if (!pclq || strlen(pclq) > SRV_INITC_NAME_MAX ||
	    !srv_initc_pod_ready(pod))
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", pclq);
	return bsearch(&key, parents, n, sizeof(*parents), parent_cmp);
}

static void count_pod(srv_initc_parent *parents, size_t n, const json_t *pod)
{
	srv_initc_parent *p = counted_for(parents, n, pod);

	if (p && p->ready < UINT32_MAX)
		p->ready++;
}

bool srv_initc_done(const srv_initc_parent *parents, size_t n)
{
	size_t i = 0;

	for (i = 0; i < n; i++)
		if (parents[i].ready < parents[i].need)
			return false;
	return true;
}

bool srv_initc_count(srv_initc_parent *parents, size_t n, const json_t *pods)
{
	const char *name = NULL;
	const json_t *pod = NULL;
	size_t i = 0;

	for (i = 0; i < n; i++)
		parents[i].ready = 0;
	if (json_is_object(pods)) {
		json_object_foreach((json_t *)pods, name, pod)
		    count_pod(parents, n, pod);
	} else {
		json_array_foreach(pods, i, pod) count_pod(parents, n, pod);
	}
	return srv_initc_done(parents, n);
}

bool srv_initc_update(srv_initc_parent *parents, size_t n,
		      const json_t *old_pod, const json_t *new_pod)
{
	srv_initc_parent *p = old_pod ? counted_for(parents, n, old_pod) : NULL;

	if (p && p->ready > 0)
		p->ready--;
	if (new_pod)
		count_pod(parents, n, new_pod);
	return srv_initc_done(parents, n);
}

bool srv_initc_describe(const srv_initc_parent *parents, size_t n, char *buf,
			size_t size)
{
	gv_buf b;
	size_t unfinished = 0;
	size_t shown = 0;
	size_t i = 0;
	bool done = false;

	if (size == 0)
		return false;
	for (i = 0; i < n; i++)
		if (parents[i].ready < parents[i].need)
			unfinished++;
	done = unfinished == 0;
	gv_buf_init_fixed(&b, buf, size);
	gv_buf_addstr(&b, done ? "done: " : "waiting for ");
	for (i = 0; i < n; i++) {
		if (!done && parents[i].ready >= parents[i].need)
			continue;
		if (shown == SRV_INITC_SHOWN_MAX) {
			gv_buf_printf(&b, " and %zu more",
				      (done ? n : unfinished) - shown);
			break;
		}
		gv_buf_printf(
		    &b, "%s\"%s\" (%" PRIu32 " Ready, %" PRIu32 " needed)",
		    shown ? ", " : "", parents[i].name, parents[i].ready,
		    parents[i].need);
		shown++;
	}
	/* too long: the fixed buffer keeps the pieces that fit */
	return done;
}

void srv_initc_selector(const srv_initc_parent *parents, size_t n, char *buf,
			size_t size)
{
	gv_buf b;
	size_t i = 0;

	if (size == 0)
		return;
	gv_buf_init_fixed(&b, buf, size);
	gv_buf_addstr(&b, POL_LABEL_PCLQ " in (");
	for (i = 0; i < n; i++)
		gv_buf_printf(&b, "%s%s", i ? "," : "", parents[i].name);
	gv_buf_addstr(&b, ")");
	if (n == 0 || gv_buf_rc(&b) != GV_OK)
		snprintf(buf, size, "%s", POL_LABEL_PCLQ);
}
