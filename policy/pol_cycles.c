/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_cycles.c: V8, the startsAfter graph must be acyclic.
 *
 * Tarjan's strongly connected components, iterative so that a 10,000
 * clique chain cannot overflow the stack, linear in cliques + edges. Each
 * component that holds a cycle gets one error: from its smallest clique
 * name, follow the first startsAfter entry (in list order) that stays in
 * the component until a name repeats. Self-references are V7's, not here.
 */
#include <stdint.h>

#include "pol_cycles.h"

typedef struct edge {
	size_t to;
	size_t entry; /* index in the startsAfter list; 0 for a scalar */
} edge;

typedef struct graph {
	size_t n;
	size_t *first; /* edges of node i: edges[first[i] .. first[i+1]) */
	edge *edges;
	size_t *index;
	size_t *low;
	size_t *comp; /* component id, SIZE_MAX while unassigned */
	bool *on_stack;
	size_t *stack;
	size_t sp;
	size_t *call; /* DFS frames: node */
	size_t *next; /* DFS frames: next edge to look at */
} graph;

#define UNSEEN SIZE_MAX

static const json_t *entry_of(const pol_clique *c, size_t k)
{
	if (json_is_string(c->starts_after))
		return k == 0 ? c->starts_after : NULL;
	return json_array_get(c->starts_after, k);
}

static size_t entries_of(const pol_clique *c)
{
	if (json_is_string(c->starts_after))
		return 1;
	return json_array_size(c->starts_after);
}

static int graph_build(const pol_pcs *pcs, graph *g)
{
	size_t i = 0;
	size_t k = 0;
	size_t m = 0;

	g->n = pcs->n_cliques;
	for (i = 0; i < g->n; i++)
		m += entries_of(&pcs->cliques[i]);
	g->first = calloc(g->n + 1, sizeof(*g->first));
	g->edges = calloc(m + 1, sizeof(*g->edges));
	g->index = calloc(g->n + 1, sizeof(*g->index));
	g->low = calloc(g->n + 1, sizeof(*g->low));
	g->comp = calloc(g->n + 1, sizeof(*g->comp));
	g->on_stack = calloc(g->n + 1, sizeof(*g->on_stack));
	g->stack = calloc(g->n + 1, sizeof(*g->stack));
	g->call = calloc(g->n + 1, sizeof(*g->call));
	g->next = calloc(g->n + 1, sizeof(*g->next));
	if (!g->first || !g->edges || !g->index || !g->low || !g->comp ||
	    !g->on_stack || !g->stack || !g->call || !g->next)
		return GV_ENOMEM;
	m = 0;
	for (i = 0; i < g->n; i++) {
		const pol_clique *c = &pcs->cliques[i];

		g->first[i] = m;
		g->index[i] = UNSEEN;
		g->comp[i] = UNSEEN;
		/* only the first clique of a duplicated name is a node that
		 * others can reach; the duplicate is V5's */
		for (k = 0; k < entries_of(c); k++) {
			const char *to = json_string_value(entry_of(c, k));
			size_t j = pol_pcs_find_clique(pcs, to);

			if (j == SIZE_MAX || j == i)
				continue;
			g->edges[m].to = j;
			g->edges[m].entry = k;
			m++;
		}
	}
	g->first[g->n] = m;
	return GV_OK;
}

static void graph_release(graph *g)
{
	free(g->first);
	free(g->edges);
	free(g->index);
	free(g->low);
	free(g->comp);
	free(g->on_stack);
	free(g->stack);
	free(g->call);
	free(g->next);
}

/* Tarjan from root, with an explicit call stack. */
static void strongconnect(graph *g, size_t root, size_t *counter, size_t *ncomp)
{
	size_t depth = 0;

	g->call[depth] = root;
	g->next[depth] = g->first[root];
	g->index[root] = g->low[root] = (*counter)++;
	g->stack[g->sp++] = root;
	g->on_stack[root] = true;
	for (;;) {
		size_t v = g->call[depth];

		if (g->next[depth] < g->first[v + 1]) {
			size_t w = g->edges[g->next[depth]++].to;

			if (g->index[w] == UNSEEN) {
				g->index[w] = g->low[w] = (*counter)++;
				g->stack[g->sp++] = w;
				g->on_stack[w] = true;
				depth++;
				g->call[depth] = w;
				g->next[depth] = g->first[w];
			} else if (g->on_stack[w] && g->index[w] < g->low[v]) {
				g->low[v] = g->index[w];
			}
			continue;
		}
		if (g->low[v] == g->index[v]) {
			size_t w = 0;

			do {
				w = g->stack[--g->sp];
				g->on_stack[w] = false;
				g->comp[w] = *ncomp;
			} while (w != v);
			(*ncomp)++;
		}
		if (depth == 0)
			return;
		depth--;
		if (g->low[v] < g->low[g->call[depth]])
			g->low[g->call[depth]] = g->low[v];
	}
}

/* One error for the component comp, whose smallest-named member is s. */
static void report_cycle(const pol_pcs *pcs, graph *g, size_t s, bool *seen,
			 pol_verdict *v)
{
	gv_buf b;
	char field[POL_PATH_MAX];
	size_t cur = s;
	size_t first_entry = 0;
	bool first = true;
	const char *text = NULL;

	gv_buf_init(&b, (size_t)1 << 20);
	gv_buf_addstr(&b, pcs->cliques[s].name);
	while (!seen[cur]) {
		size_t e = 0;

		seen[cur] = true;
		for (e = g->first[cur]; e < g->first[cur + 1]; e++) {
			if (g->comp[g->edges[e].to] == g->comp[s])
				break;
		}
		/* a member of a cyclic component always has such an edge */
		if (first)
			first_entry = g->edges[e].entry;
		first = false;
		cur = g->edges[e].to;
		gv_buf_addstr(&b, " -> ");
		gv_buf_addstr(&b, pcs->cliques[cur].name);
	}
	/* a path longer than the buffer is cut ("..."), not out of memory:
	 * b keeps what fit */
	if (b.failed && !b.toobig) {
		v->oom = true;
		gv_buf_release(&b);
		return;
	}
	text = b.s ? b.s : "";
	if (json_is_string(pcs->cliques[s].starts_after))
		pol_path(field, "%s.startsAfter", pcs->cliques[s].spec_path);
	else
		pol_path(field, "%s.startsAfter[%zu]",
			 pcs->cliques[s].spec_path, first_entry);
	pol_verdict_add(
	    v, POL_FE_INVALID, field,
	    pol_verdict_copy(v, entry_of(&pcs->cliques[s], first_entry)),
	    "startsAfter cycle: %.*s%s", (int)gv_utf8_cut(text, b.len), text,
	    b.toobig ? " -> ..." : "");
	gv_buf_release(&b);
}

int pol_check_cycles(const pol_pcs *pcs, pol_verdict *v)
{
	graph g;
	size_t counter = 0;
	size_t ncomp = 0;
	size_t *size = NULL;
	size_t *smallest = NULL;
	bool *seen = NULL;
	size_t i = 0;
	int rc = GV_OK;

	memset(&g, 0, sizeof(g));
	rc = graph_build(pcs, &g);
	if (rc != GV_OK)
		goto out;
	for (i = 0; i < g.n; i++) {
		if (g.index[i] == UNSEEN)
			strongconnect(&g, i, &counter, &ncomp);
	}
	size = calloc(ncomp + 1, sizeof(*size));
	smallest = calloc(ncomp + 1, sizeof(*smallest));
	seen = calloc(g.n + 1, sizeof(*seen));
	if (!size || !smallest || !seen) {
		rc = GV_ENOMEM;
		goto out;
	}
	for (i = 0; i < g.n; i++) {
		size_t c = g.comp[i];

		if (size[c]++ == 0 ||
		    strcmp(pcs->cliques[i].name,
			   pcs->cliques[smallest[c]].name) < 0)
			smallest[c] = i;
	}
	for (i = 0; i < ncomp; i++) {
		if (size[i] > 1)
			report_cycle(pcs, &g, smallest[i], seen, v);
	}
out:
	graph_release(&g);
	free(size);
	free(smallest);
	free(seen);
	return rc;
}
