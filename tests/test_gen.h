/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_gen.h: random PodCliqueSets for property tests, either form,
 * usually valid, sometimes not (absent, 0 or negative counts, a ratio of
 * 0): the generator of test_validate.c's property test, shared.
 * Deterministic (xorshift64*), so a failure reproduces from its seed.
 * Every second clique's container has env of its own (one variable that
 * refers to $(GROVE_PCS_NAME) and one of groved's names, which groved
 * replaces), and every third clique an init container with the same:
 * chosen by position, so the random stream is the same as without.
 */
#ifndef GROVED_TEST_GEN_H
#define GROVED_TEST_GEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static inline uint64_t tg_next(uint64_t *s)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A count that is usually valid, sometimes absent (NULL), 0 or negative. */
static inline json_t *tg_count(uint64_t *s, int64_t max)
{
	switch (tg_next(s) % 8) {
	case 0:
	case 1:
		return NULL;
	case 2:
		return json_integer(0);
	case 3:
		return json_integer(-1);
	default:
		return json_integer((int64_t)(tg_next(s) % (uint64_t)max) + 1);
	}
}

static inline void tg_set(json_t *obj, const char *key, json_t *value)
{
	if (value)
		json_object_set_new(obj, key, value);
}

/* A container's own env: a variable that refers to groved's, and one of
 * groved's names (groved's value wins). */
static inline json_t *tg_env(void)
{
	return json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", "TG_ADDR", "value",
			 "$(GROVE_PCS_NAME)-$(GROVE_PCLQ_POD_INDEX)", "name",
			 "GROVE_PCS_NAME", "value", "mine");
}

static inline json_t *tg_init(void)
{
	return json_pack("[{s:s, s:s, s:o}]", "name", "setup", "image", "i",
			 "env", tg_env());
}

static inline json_t *tg_random_pcs(uint64_t *s)
{
	bool compact = tg_next(s) % 2;
	size_t n = 1 + tg_next(s) % 4;
	json_t *cliques = json_array();
	json_t *groups = json_array();
	json_t *spec = json_object();
	json_t *group_cliques = json_array();
	json_t *ratio = json_array();
	size_t i = 0;

	for (i = 0; i < n; i++) {
		char name[32];
		json_t *c = json_object();
		json_t *holder = c;
		json_t *ctr =
		    json_pack("[{s:s, s:s}]", "name", "m", "image", "i");

		snprintf(name, sizeof(name), "c%zu", i);
		if (i % 2 == 1)
			json_object_set_new(json_array_get(ctr, 0), "env",
					    tg_env());
		json_object_set_new(c, "name", json_string(name));
		if (!compact) {
			holder = json_object();
			json_object_set_new(c, "spec", holder);
			if (tg_next(s) % 3 == 0)
				tg_set(holder, "autoScalingConfig",
				       json_pack("{s:o*}", "maxReplicas",
						 tg_count(s, 6)));
		}
		tg_set(holder, "replicas", tg_count(s, 4));
		tg_set(holder, "minAvailable", tg_count(s, 4));
		if (compact) {
			json_object_set_new(holder, "containers", ctr);
			if (i % 3 == 2)
				json_object_set_new(holder, "initContainers",
						    tg_init());
		} else {
			json_object_set_new(
			    holder, "podSpec",
			    json_pack("{s:o}", "containers", ctr));
			if (i % 3 == 2)
				json_object_set_new(
				    json_object_get(holder, "podSpec"),
				    "initContainers", tg_init());
		}
		json_array_append_new(cliques, c);
		if (i > 0 && tg_next(s) % 2) {
			json_array_append_new(group_cliques, json_string(name));
			/* mostly valid ratio entries, sometimes 0 */
			json_array_append_new(
			    ratio,
			    json_integer(tg_next(s) % 5 == 0
					     ? 0
					     : 1 + (int64_t)(tg_next(s) % 2)));
		}
	}
	if (json_array_size(group_cliques)) {
		json_t *g = json_pack("{s:s, s:O}", "name", "g",
				      compact ? "cliques" : "cliqueNames",
				      group_cliques);

		if (compact) {
			if (tg_next(s) % 4)
				json_object_set(g, "replicas", ratio);
		} else {
			tg_set(g, "replicas", tg_count(s, 3));
			tg_set(g, "minAvailable", tg_count(s, 3));
			if (tg_next(s) % 2)
				tg_set(g, "scaleConfig",
				       json_pack("{s:o*}", "maxReplicas",
						 tg_count(s, 6)));
		}
		json_array_append_new(groups, g);
	}
	tg_set(spec, "replicas", tg_count(s, 4));
	if (compact) {
		json_object_set_new(spec, "podCliques", cliques);
		if (json_array_size(groups))
			json_object_set(spec, "scalingGroups", groups);
		if (tg_next(s) % 2)
			json_object_set_new(
			    spec, "scaling",
			    json_pack("{s:o*, s:o*}", "minReplicas",
				      tg_count(s, 3), "maxReplicas",
				      tg_count(s, 6)));
	} else {
		json_t *tpl = json_pack("{s:o}", "cliques", cliques);

		if (json_array_size(groups))
			json_object_set(tpl, "podCliqueScalingGroups", groups);
		json_object_set_new(spec, "template", tpl);
	}
	json_decref(groups);
	json_decref(group_cliques);
	json_decref(ratio);
	return json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion",
			 "grove.io/v1alpha1", "kind", "PodCliqueSet",
			 "metadata", "name", "p", "spec", spec);
}

#endif
