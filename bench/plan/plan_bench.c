/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan_bench.c: the planner's call timed apart from reading, validation
 * and output (bench/README.md, "plan/").
 *
 *     plan_bench FILE [ROUNDS]
 *
 * Reads the first PodCliqueSet of FILE, reviews it (defaults and every
 * validation rule, as `groved plan` does), builds its model, then calls
 * rec_plan_build ROUNDS times (default 20, at most 1000) and prints, in
 * milliseconds, read + validate once, and the minimum and median of the
 * plan and of a compact JSON dump of the plan's items (the output's cost
 * without libyaml). Not a test: a bench driver built only on request
 * (GROVED_BENCH=ON).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "groved/gv_read.h"
#include "groved/policy.h"
#include "groved/reconcile.h"

#define ROUNDS_MAX 1000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n = 0;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n + 1);
		if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	if (data)
		*len = (size_t)n;
	return data;
}

int main(int argc, char **argv)
{
	double plan_ms[ROUNDS_MAX];
	double dump_ms[ROUNDS_MAX];
	double t0 = 0;
	double read_ms = 0;
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
	char *data = NULL;
	size_t len = 0;
	json_t *docs = NULL;
	json_t *defaulted = NULL;
	const json_t *obj = NULL;
	pol_verdict v = POL_VERDICT_INIT;
	pol_pcs pcs;
	bool built = false;
	size_t pods = 0;
	size_t i = 0;
	long r = 0;
	int rc = 1;

	if (argc < 2 || rounds < 1 || rounds > ROUNDS_MAX) {
		fprintf(stderr, "usage: plan_bench FILE [ROUNDS 1..%d]\n",
			ROUNDS_MAX);
		return 2;
	}
	data = slurp(argv[1], &len);
	if (!data) {
		fprintf(stderr, "plan_bench: cannot read '%s'\n", argv[1]);
		goto out;
	}
	t0 = now_ms();
	if (gv_read_documents(data, len, argv[1], &docs, NULL, NULL) != GV_OK)
		goto out;
	json_array_foreach(docs, i, obj)
	{
		pol_options opts = { NULL, NULL, NULL };
		pol_verdict kv = POL_VERDICT_INIT;
		pol_kind kind = pol_kind_of(obj, &kv);

		pol_verdict_release(&kv);
		if (kind != POL_KIND_PODCLIQUESET)
			continue;
		if (pol_review_pcs(obj, NULL, &opts, &v, &defaulted) != GV_OK ||
		    v.n_errors || !defaulted)
			goto out;
		break;
	}
	if (!defaulted || pol_pcs_build(defaulted, &pcs, &v) != GV_OK)
		goto out;
	built = true;
	read_ms = now_ms() - t0;
	for (r = 0; r < rounds; r++) {
		rec_input in = { 0 };
		rec_plan plan = REC_PLAN_INIT;
		char *dump = NULL;

		in.pcs = &pcs;
		t0 = now_ms();
		if (rec_plan_build(&in, &plan, NULL) != GV_OK)
			goto out;
		plan_ms[r] = now_ms() - t0;
		t0 = now_ms();
		dump = json_dumps(plan.items, JSON_COMPACT);
		dump_ms[r] = now_ms() - t0;
		if (!dump) {
			rec_plan_release(&plan);
			goto out;
		}
		free(dump);
		pods = 0;
		json_array_foreach(plan.items, i, obj)
		{
			const char *kind = json_string_value(json_object_get(
			    json_object_get(obj, "object"), "kind"));

			pods += kind && strcmp(kind, "Pod") == 0;
		}
		rec_plan_release(&plan);
	}
	qsort(plan_ms, (size_t)rounds, sizeof(double), cmp_double);
	qsort(dump_ms, (size_t)rounds, sizeof(double), cmp_double);
	printf("pods %zu rounds %ld read+validate %.2f ms plan min %.2f median "
	       "%.2f ms dump min %.2f median %.2f ms\n",
	       pods, rounds, read_ms, plan_ms[0], plan_ms[rounds / 2],
	       dump_ms[0], dump_ms[rounds / 2]);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "plan_bench: cannot plan '%s'\n", argv[1]);
	if (built)
		pol_pcs_release(&pcs);
	pol_verdict_release(&v);
	json_decref(defaulted);
	json_decref(docs);
	free(data);
	return rc;
}
