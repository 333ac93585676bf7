/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_plan_observed.c: `groved plan --observed PATH`, what a cluster
 * holds of a set's children (the output of `kubectl get pclq,pcsg,pg,pods
 * -o yaml`, say), read so that the plan is the one the worker would make
 * against that cluster: scaled children keep their counts, paused cliques
 * stay paused, pods keep their indices (docs/plan.md).
 */
#include <string.h>

#include "groved/gv_read.h"
#include "groved/server.h"
#include "srv_plan_observed.h"

/* Which list of the observed state an object of kind goes to. */
static const char *list_of(const char *kind)
{
	static const char *const kinds[][2] = {
		{ "PodClique", "podcliques" },
		{ "PodCliqueScalingGroup", "groups" },
		{ "PodGang", "podgangs" },
		{ "Pod", "pods" },
	};
	size_t i = 0;

	for (i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i][0], kind) == 0)
			return kinds[i][1];
	}
	return "others";
}

/* Files one object, or each item of a List (`kubectl get -o yaml`);
 * obj borrowed. */
static int add_object(json_t *lists, const json_t *obj, const char *source,
		      size_t doc, gv_error_t *err)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const json_t *meta = json_object_get(obj, "metadata");
	const json_t *items = json_object_get(obj, "items");
	const json_t *item = NULL;
	size_t i = 0;
	int rc = GV_OK;

	if (kind && strcmp(kind, "List") == 0 && json_is_array(items)) {
		json_array_foreach(items, i, item)
		{
			rc = add_object(lists, item, source, doc, err);
			if (rc != GV_OK)
				return rc;
		}
		return GV_OK;
	}
	if (!kind || !json_is_string(json_object_get(meta, "name")))
		return gv_error_set(err, GV_EINVAL, source, 0, 0,
				    "document %zu: not a Kubernetes object "
				    "(kind and metadata.name are required)",
				    doc + 1);
	if (json_array_append(json_object_get(lists, list_of(kind)),
			      (json_t *)obj) != 0)
		return GV_ENOMEM;
	return GV_OK;
}

int srv_observed_load(char *const *paths, size_t n, json_t **lists_out,
		      gv_error_t *err)
{
	srv_inputs in = SRV_INPUTS_INIT;
	json_t *lists = NULL;
	json_t *docs = NULL;
	const json_t *doc = NULL;
	size_t p = 0;
	size_t i = 0;
	int rc = GV_OK;

	lists = json_pack("{s:[], s:[], s:[], s:[], s:[]}", "podcliques",
			  "groups", "podgangs", "pods", "others");
	if (!lists) {
		rc = GV_ENOMEM;
		goto out;
	}
	/* files, directories and "-", as -f reads them; each path's
	 * documents before the next path is read (the first error wins) */
	for (p = 0; p < n && rc == GV_OK; p++) {
		size_t first = in.n;
		size_t k = 0;

		rc = srv_inputs_add(&in, paths[p], GV_READ_MAX_BYTES, err);
		for (k = first; k < in.n && rc == GV_OK; k++) {
			json_decref(docs);
			docs = NULL;
			rc = gv_read_documents(
			    in.items[k].data, in.items[k].len, in.items[k].name,
			    &docs, NULL, err);
			json_array_foreach(rc == GV_OK ? docs : NULL, i, doc)
			{
				rc = add_object(lists, doc, in.items[k].name, i,
						err);
				if (rc != GV_OK)
					break;
			}
		}
	}
	if (rc != GV_OK)
		goto out;
	*lists_out = lists;
	lists = NULL;
out:
	json_decref(docs);
	json_decref(lists);
	srv_inputs_release(&in);
	return rc;
}

/* The objects of list in namespace ns (an object without one is in
 * every namespace): a new array. */
static json_t *in_namespace(const json_t *list, const char *ns)
{
	json_t *out = json_array();
	const json_t *o = NULL;
	size_t i = 0;

	json_array_foreach(list, i, o)
	{
		const char *ons = json_string_value(json_object_get(
		    json_object_get(o, "metadata"), "namespace"));

		if (out && (!ons || strcmp(ons, ns) == 0) &&
		    json_array_append(out, (json_t *)o) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

int srv_observed_view(const json_t *lists, const char *ns, json_t **keep,
		      rec_observed *view)
{
	static const char *const names[] = { "podcliques", "groups", "podgangs",
					     "pods", "others" };
	json_t *k = NULL;
	json_t *l[5] = { NULL };
	size_t i = 0;
	int rc = GV_OK;

	memset(view, 0, sizeof(*view));
	if (!lists)
		return GV_OK;
	k = json_array();
	if (!k)
		return GV_ENOMEM;
	for (i = 0; i < 5 && rc == GV_OK; i++) {
		/* k holds each list (append_new steals it, even on failure) */
		l[i] = in_namespace(json_object_get(lists, names[i]), ns);
		if (json_array_append_new(k, l[i]) != 0)
			rc = GV_ENOMEM;
	}
	if (rc != GV_OK) {
		json_decref(k);
		return rc;
	}
	view->podcliques = l[0];
	view->groups = l[1];
	view->podgangs = l[2];
	view->pods = l[3];
	view->others = l[4];
	*keep = k;
	return GV_OK;
}
