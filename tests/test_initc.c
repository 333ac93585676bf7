/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_initc.c: the pure part of `groved initc` (server/srv_initc_wait.c):
 * its command line, every refusal with its message, and the decision,
 * pods in and "done" or what is still awaited out. The command against a
 * live API server is tests/e2e/test_initc.py.
 */
#include "test_util.h"

#include "srv_initc.h"

#define LABEL_RULE                                                           \
	"a lowercase RFC 1123 label: at most 63 lower-case letters, digits " \
	"and '-', starting and ending with a letter or digit"
#define COUNT_RULE "is not a whole number from 1 to 2147483647"
/* 63 characters, the longest label, and one more */
#define NAME63 "a23456789012345678901234567890123456789012345678901234567890123"
#define NAME64 NAME63 "4"
#define DIGITS10 "1111111111"
#define DIGITS80 \
	DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10 DIGITS10

/* ---- the command line ------------------------------------------------- */

#define ARGV(...) \
	((char *const *)(const char *const[]){ "initc", __VA_ARGS__, NULL })
#define ARGC(...)                                                      \
	((int)(sizeof((const char *const[]){ "initc", __VA_ARGS__ }) / \
	       sizeof(const char *)))
#define PARSE(a, err, ...) \
	srv_initc_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err))

static void test_parse_one(void **state)
{
	srv_initc_args a = SRV_INITC_ARGS_INIT;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	assert_int_equal(PARSE(&a, &err, "--podcliques=x-0-router:1"), GV_OK);
	assert_int_equal(a.n_parents, 1);
	assert_string_equal(a.parents[0].name, "x-0-router");
	assert_int_equal(a.parents[0].need, 1);
	assert_null(a.kubeconfig);
	assert_null(a.namespace);
	assert_int_equal(a.log_every_ms, SRV_INITC_LOG_EVERY_MS);
	assert_false(a.help);
	srv_initc_args_release(&a);
	assert_null(a.parents);
	srv_initc_args_release(NULL);
}

static void test_parse_many(void **state)
{
	srv_initc_args a = SRV_INITC_ARGS_INIT;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	/* repeated, comma-separated (upstream's string slice), values
	 * after '=' or as the next argument; sorted by name */
	assert_int_equal(PARSE(&a, &err, "--podcliques", "x-0-prefill:2",
			       "--podcliques=x-0-decode:3,x-0-router:1",
			       "--kubeconfig", "/k", "-n", "inference",
			       "--log-every=250ms"),
			 GV_OK);
	assert_int_equal(a.n_parents, 3);
	assert_string_equal(a.parents[0].name, "x-0-decode");
	assert_int_equal(a.parents[0].need, 3);
	assert_string_equal(a.parents[1].name, "x-0-prefill");
	assert_int_equal(a.parents[1].need, 2);
	assert_string_equal(a.parents[2].name, "x-0-router");
	assert_int_equal(a.parents[2].need, 1);
	assert_string_equal(a.kubeconfig, "/k");
	assert_string_equal(a.namespace, "inference");
	assert_int_equal(a.log_every_ms, 250);
	srv_initc_args_release(&a);

	assert_int_equal(PARSE(&a, &err, "--namespace=ns", "--podcliques",
			       "a:2147483647", "--log-every", "2"),
			 GV_OK);
	assert_string_equal(a.namespace, "ns");
	assert_int_equal(a.parents[0].need, 2147483647u);
	assert_int_equal(a.log_every_ms, 2000);
	srv_initc_args_release(&a);

	/* a 63-character name is a label; "--" ends the options */
	assert_int_equal(PARSE(&a, &err, "--podcliques=" NAME63 ":1", "--"),
			 GV_OK);
	assert_int_equal(strlen(a.parents[0].name), 63);
	srv_initc_args_release(&a);
}

static void test_parse_help(void **state)
{
	srv_initc_args a = SRV_INITC_ARGS_INIT;
	gv_error_t err = GV_ERROR_INIT;

	(void)state;
	assert_int_equal(PARSE(&a, &err, "--help"), GV_OK);
	assert_true(a.help);
	assert_int_equal(a.n_parents, 0);
	srv_initc_args_release(&a);
	assert_int_equal(PARSE(&a, &err, "-h", "--whatever"), GV_OK);
	assert_true(a.help);
	srv_initc_args_release(&a);
}

/* argv must be refused with exactly msg, and leave a untouched. */
static void refused(int argc, char *const *argv, const char *msg)
{
	srv_initc_args a = SRV_INITC_ARGS_INIT;
	gv_error_t err = GV_ERROR_INIT;
	int rc = srv_initc_parse(argc, argv, &a, &err);

	if (rc != GV_EINVAL || strcmp(err.text, msg) != 0)
		print_error(
		    "argv[1] '%s': rc %d, message\n  %s\nwanted\n  %s\n",
		    argc > 1 ? argv[1] : "", rc, err.text, msg);
	assert_int_equal(rc, GV_EINVAL);
	assert_string_equal(err.text, msg);
	assert_null(a.parents);
	assert_int_equal(a.n_parents, 0);
}

#define REFUSED(msg, ...) refused(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (msg))

static void test_parse_refusals(void **state)
{
	(void)state;
	/* missing */
	refused(1, (char *const *)(const char *const[]){ "initc", NULL },
		"no parent PodClique given (use --podcliques=NAME:N)");
	REFUSED("no parent PodClique given (use --podcliques=NAME:N)", "-n",
		"ns");
	REFUSED("option '--podcliques' needs a value", "--podcliques");
	REFUSED("option '--namespace' needs a value", "--podcliques=a:1",
		"--namespace");
	REFUSED("option '-n' needs a value", "--podcliques=a:1", "-n");
	/* duplicate */
	REFUSED("--podcliques: PodClique 'a' is named twice",
		"--podcliques=a:1", "--podcliques=b:1", "--podcliques=a:2");
	REFUSED("--podcliques: PodClique 'b' is named twice",
		"--podcliques=b:1,b:1");
	REFUSED("option '--namespace' is given twice ('x', then 'y')",
		"--podcliques=a:1", "-n", "x", "--namespace=y");
	REFUSED("option '--kubeconfig' is given twice ('/a', then '/b')",
		"--podcliques=a:1", "--kubeconfig=/a", "--kubeconfig=/b");
	REFUSED("option '--log-every' is given twice", "--podcliques=a:1",
		"--log-every=1s", "--log-every=2s");
	/* malformed */
	REFUSED("--podcliques 'a': 'a' is not NAME:N (a PodClique and how "
		"many of its pods must be Ready)",
		"--podcliques=a");
	REFUSED("--podcliques '': an empty entry (expected "
		"NAME:N[,NAME:N...])",
		"--podcliques=");
	REFUSED("--podcliques 'a:1,': an empty entry (expected "
		"NAME:N[,NAME:N...])",
		"--podcliques=a:1,");
	REFUSED("--podcliques ':1': PodClique name '' is not " LABEL_RULE,
		"--podcliques=:1");
	REFUSED("--podcliques 'Router:1': PodClique name 'Router' is "
		"not " LABEL_RULE,
		"--podcliques=Router:1");
	REFUSED("--podcliques '-a:1': PodClique name '-a' is not " LABEL_RULE,
		"--podcliques=-a:1");
	REFUSED("--podcliques 'a.b:1': PodClique name 'a.b' is not " LABEL_RULE,
		"--podcliques=a.b:1");
	REFUSED("--podcliques '" NAME64 ":1': PodClique name '" NAME64
		"' is not " LABEL_RULE,
		"--podcliques=" NAME64 ":1");
	/* N: a positive int32 in digits */
	REFUSED("--podcliques 'a:0': count '0' " COUNT_RULE,
		"--podcliques=a:0");
	REFUSED("--podcliques 'a:': count '' " COUNT_RULE, "--podcliques=a:");
	REFUSED("--podcliques 'a:-1': count '-1' " COUNT_RULE,
		"--podcliques=a:-1");
	REFUSED("--podcliques 'a:+1': count '+1' " COUNT_RULE,
		"--podcliques=a:+1");
	REFUSED("--podcliques 'a:1x': count '1x' " COUNT_RULE,
		"--podcliques=a:1x");
	REFUSED("--podcliques 'a:1:2': count '1:2' " COUNT_RULE,
		"--podcliques=a:1:2");
	REFUSED("--podcliques 'a:2147483648': count '2147483648' " COUNT_RULE,
		"--podcliques=a:2147483648");
	REFUSED("--podcliques 'a:00000000001': count '00000000001' " COUNT_RULE,
		"--podcliques=a:00000000001");
	REFUSED("--podcliques 'a:1 ': count '1 ' " COUNT_RULE,
		"--podcliques=a:1 ");
	REFUSED("--podcliques 'b:1,a:x': count 'x' " COUNT_RULE,
		"--podcliques=b:1,a:x");
	/* a value too long for any count */
	REFUSED("--podcliques 'a:" DIGITS80 "': count '" DIGITS80
		"' " COUNT_RULE,
		"--podcliques=a:" DIGITS80);
	/* the other options */
	REFUSED("--namespace 'Inference' is not " LABEL_RULE,
		"--podcliques=a:1", "--namespace=Inference");
	REFUSED("--namespace '' is not " LABEL_RULE, "--podcliques=a:1", "-n",
		"");
	REFUSED("option '--kubeconfig' needs a path", "--podcliques=a:1",
		"--kubeconfig=");
	REFUSED("--log-every '0s' is not a duration above 0 (e.g. 5s, 500ms, "
		"1m)",
		"--podcliques=a:1", "--log-every=0s");
	REFUSED("--log-every 'soon' is not a duration above 0 (e.g. 5s, "
		"500ms, 1m)",
		"--podcliques=a:1", "--log-every", "soon");
	/* unknown flags and arguments */
	REFUSED("unknown option '--pod-cliques'", "--pod-cliques=a:1");
	REFUSED("unknown option '--podclique'", "--podclique=a:1");
	REFUSED("unknown option '-x'", "--podcliques=a:1", "-x");
	REFUSED("unknown option '-nx'", "--podcliques=a:1", "-nx");
	REFUSED("option '--help' takes no value", "--help=yes");
	REFUSED("unexpected argument 'a:1'", "a:1");
	REFUSED("unexpected argument '-'", "--podcliques=a:1", "-");
	REFUSED("unexpected argument 'b'", "--podcliques=a:1", "--", "b");
}

/* ---- the decision ----------------------------------------------------- */

/* A pod of PodClique pclq (NULL: no label); ready: the Ready condition's
 * status (NULL: no condition); terminating: a deletionTimestamp. */
static json_t *pod(const char *name, const char *pclq, const char *ready,
		   bool terminating)
{
	json_t *p = json_pack("{s:{s:s, s:s, s:{}}, s:{s:s, s:[]}}", "metadata",
			      "name", name, "namespace", "ns", "labels",
			      "status", "phase", "Running", "conditions");

	assert_non_null(p);
	if (pclq)
		json_object_set_new(
		    json_object_get(json_object_get(p, "metadata"), "labels"),
		    "grove.io/podclique", json_string(pclq));
	json_array_append_new(
	    json_object_get(json_object_get(p, "status"), "conditions"),
	    json_pack("{s:s, s:s}", "type", "PodScheduled", "status", "True"));
	if (ready)
		json_array_append_new(
		    json_object_get(json_object_get(p, "status"), "conditions"),
		    json_pack("{s:s, s:s}", "type", "Ready", "status", ready));
	if (terminating)
		json_object_set_new(json_object_get(p, "metadata"),
				    "deletionTimestamp",
				    json_string("2025-01-01T00:00:00Z"));
	return p;
}

static void test_pod_ready(void **state)
{
	json_t *p = NULL;

	(void)state;
	p = pod("a-0", "a", "True", false);
	assert_true(srv_initc_pod_ready(p));
	json_decref(p);
	p = pod("a-0", "a", "False", false);
	assert_false(srv_initc_pod_ready(p));
	json_decref(p);
	p = pod("a-0", "a", "Unknown", false);
	assert_false(srv_initc_pod_ready(p));
	json_decref(p);
	p = pod("a-0", "a", NULL, false);
	assert_false(srv_initc_pod_ready(p));
	json_decref(p);
	/* terminating: Ready still True, but on its way out */
	p = pod("a-0", "a", "True", true);
	assert_false(srv_initc_pod_ready(p));
	json_decref(p);
	/* a null deletionTimestamp is none */
	p = pod("a-0", "a", "True", false);
	json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
			    json_null());
	assert_true(srv_initc_pod_ready(p));
	json_decref(p);
	/* no status at all, and not an object */
	p = json_pack("{s:{s:s}}", "metadata", "name", "x");
	assert_false(srv_initc_pod_ready(p));
	json_decref(p);
	assert_false(srv_initc_pod_ready(NULL));
	p = json_string("pod");
	assert_false(srv_initc_pod_ready(p));
	json_decref(p);
}

/* parents "a" (need 1) and "b" (need 2), as the parser leaves them */
static srv_initc_args two_parents(void)
{
	srv_initc_args a = SRV_INITC_ARGS_INIT;
	gv_error_t err = GV_ERROR_INIT;

	assert_int_equal(PARSE(&a, &err, "--podcliques=b:2,a:1"), GV_OK);
	return a;
}

static void test_decision(void **state)
{
	srv_initc_args a = two_parents();
	json_t *pods = json_object();
	char line[512];

	(void)state;
	/* nothing yet */
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	assert_false(
	    srv_initc_describe(a.parents, a.n_parents, line, sizeof(line)));
	assert_string_equal(line, "waiting for \"a\" (0 Ready, 1 needed), "
				  "\"b\" (0 Ready, 2 needed)");

	/* a's pod Ready; b's: one not Ready, one terminating, and pods of
	 * other cliques or none, all Ready */
	json_object_set_new(pods, "a-0", pod("a-0", "a", "True", false));
	json_object_set_new(pods, "b-0", pod("b-0", "b", "False", false));
	json_object_set_new(pods, "b-1", pod("b-1", "b", "True", true));
	json_object_set_new(pods, "c-0", pod("c-0", "c", "True", false));
	json_object_set_new(pods, "c-1", pod("c-1", "c", "True", false));
	json_object_set_new(pods, "bb-0", pod("bb-0", "bb", "True", false));
	json_object_set_new(pods, "x", pod("x", NULL, "True", false));
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	assert_int_equal(a.parents[0].ready, 1);
	assert_int_equal(a.parents[1].ready, 0);
	assert_false(
	    srv_initc_describe(a.parents, a.n_parents, line, sizeof(line)));
	assert_string_equal(line, "waiting for \"b\" (0 Ready, 2 needed)");

	/* one of two */
	json_object_set_new(pods, "b-2", pod("b-2", "b", "True", false));
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	srv_initc_describe(a.parents, a.n_parents, line, sizeof(line));
	assert_string_equal(line, "waiting for \"b\" (1 Ready, 2 needed)");

	/* b-0 turns Ready: done */
	json_object_set_new(pods, "b-0", pod("b-0", "b", "True", false));
	assert_true(srv_initc_count(a.parents, a.n_parents, pods));
	assert_true(
	    srv_initc_describe(a.parents, a.n_parents, line, sizeof(line)));
	assert_string_equal(line, "done: \"a\" (1 Ready, 1 needed), \"b\" (2 "
				  "Ready, 2 needed)");

	/* more than needed is done too; a deleted pod is counted no more */
	json_object_set_new(pods, "a-1", pod("a-1", "a", "True", false));
	assert_true(srv_initc_count(a.parents, a.n_parents, pods));
	assert_int_equal(a.parents[0].ready, 2);
	json_object_del(pods, "b-2");
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	srv_initc_describe(a.parents, a.n_parents, line, sizeof(line));
	assert_string_equal(line, "waiting for \"b\" (1 Ready, 2 needed)");

	/* the counts start over on every call */
	json_object_clear(pods);
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	assert_int_equal(a.parents[0].ready, 0);
	json_decref(pods);
	srv_initc_args_release(&a);
}

static void test_decision_array(void **state)
{
	srv_initc_args a = two_parents();
	json_t *pods = json_array();

	(void)state;
	json_array_append_new(pods, pod("a-0", "a", "True", false));
	json_array_append_new(pods, pod("b-0", "b", "True", false));
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	json_array_append_new(pods, pod("b-1", "b", "True", false));
	assert_true(srv_initc_count(a.parents, a.n_parents, pods));
	/* a label value too long for a PodClique name counts for none */
	json_array_append_new(pods, pod("y", NAME64, "True", false));
	assert_true(srv_initc_count(a.parents, a.n_parents, pods));
	/* nothing, or something that is no list */
	assert_false(srv_initc_count(a.parents, a.n_parents, NULL));
	json_decref(pods);
	srv_initc_args_release(&a);
}

/* The counts kept by events match a recount of the same pods. */
static void test_update(void **state)
{
	srv_initc_args a = two_parents();
	srv_initc_parent again[2];
	json_t *pods = json_object();
	json_t *p = NULL;
	json_t *was = NULL;

	(void)state;
	assert_int_equal(a.n_parents, 2);
#define EVENT(name, new_pod, want_done)                               \
	do {                                                          \
		p = (new_pod);                                        \
		was = json_incref(json_object_get(pods, (name)));     \
		if (p)                                                \
			json_object_set(pods, (name), p);             \
		else                                                  \
			json_object_del(pods, (name));                \
		assert_int_equal(                                     \
		    srv_initc_update(a.parents, a.n_parents, was, p), \
		    (want_done));                                     \
		json_decref(was);                                     \
		json_decref(p);                                       \
		memcpy(again, a.parents, sizeof(again));              \
		assert_int_equal(srv_initc_count(again, 2, pods),     \
				 (want_done));                        \
		assert_int_equal(again[0].ready, a.parents[0].ready); \
		assert_int_equal(again[1].ready, a.parents[1].ready); \
	} while (0)

	EVENT("a-0", pod("a-0", "a", NULL, false), false); /* added */
	assert_int_equal(a.parents[0].ready, 0);
	EVENT("a-0", pod("a-0", "a", "True", false), false); /* Ready */
	assert_int_equal(a.parents[0].ready, 1);
	EVENT("a-0", pod("a-0", "a", "True", false), false); /* again */
	assert_int_equal(a.parents[0].ready, 1);
	EVENT("c-0", pod("c-0", "c", "True", false), false); /* not ours */
	EVENT("b-0", pod("b-0", "b", "True", false), false);
	EVENT("b-1", pod("b-1", "b", "True", false), true);
	assert_int_equal(a.parents[1].ready, 2);
	EVENT("b-1", pod("b-1", "b", "True", true), false); /* terminating */
	assert_int_equal(a.parents[1].ready, 1);
	EVENT("b-1", NULL, false); /* gone */
	EVENT("b-0", pod("b-0", "b", "False", false), false);
	assert_int_equal(a.parents[1].ready, 0);
	EVENT("b-2", pod("b-2", "b", "True", false), false);
	EVENT("b-0", pod("b-0", "b", "True", false), true);
	EVENT("a-0", NULL, false); /* a Ready pod deleted */
	assert_int_equal(a.parents[0].ready, 0);
	EVENT("a-9", NULL, false); /* a delete of nothing counted */
#undef EVENT
	assert_false(srv_initc_done(a.parents, a.n_parents));
	assert_true(srv_initc_done(a.parents, 0));
	json_decref(pods);
	srv_initc_args_release(&a);
}

static void test_describe_many(void **state)
{
	srv_initc_args a = SRV_INITC_ARGS_INIT;
	gv_error_t err = GV_ERROR_INIT;
	json_t *pods = json_object();
	char line[1024];
	char small[40];

	(void)state;
	assert_int_equal(PARSE(&a, &err,
			       "--podcliques=p0:1,p1:1,p2:1,p3:1,p4:1,p5:1,"
			       "p6:1,p7:1,p8:1,p9:1,pa:1"),
			 GV_OK);
	json_object_set_new(pods, "p0-0", pod("p0-0", "p0", "True", false));
	assert_false(srv_initc_count(a.parents, a.n_parents, pods));
	srv_initc_describe(a.parents, a.n_parents, line, sizeof(line));
	/* 10 unfinished: 8 named, 2 counted */
	assert_string_equal(
	    line, "waiting for \"p1\" (0 Ready, 1 needed), \"p2\" (0 Ready, 1 "
		  "needed), \"p3\" (0 Ready, 1 needed), \"p4\" (0 Ready, 1 "
		  "needed), \"p5\" (0 Ready, 1 needed), \"p6\" (0 Ready, 1 "
		  "needed), \"p7\" (0 Ready, 1 needed), \"p8\" (0 Ready, 1 "
		  "needed) and 2 more");
	/* a small buffer keeps the pieces that fit */
	srv_initc_describe(a.parents, a.n_parents, small, sizeof(small));
	assert_string_equal(small, "waiting for \"p1\" (0 Ready, 1 needed)");
	json_decref(pods);
	srv_initc_args_release(&a);
}

static void test_selector(void **state)
{
	srv_initc_args a = two_parents();
	char sel[64];
	char tiny[24];

	(void)state;
	srv_initc_selector(a.parents, a.n_parents, sel, sizeof(sel));
	assert_string_equal(sel, "grove.io/podclique in (a,b)");
	/* too long: every PodClique's pods, counted by name */
	srv_initc_selector(a.parents, a.n_parents, tiny, sizeof(tiny));
	assert_string_equal(tiny, "grove.io/podclique");
	srv_initc_args_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_one),
		cmocka_unit_test(test_parse_many),
		cmocka_unit_test(test_parse_help),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_pod_ready),
		cmocka_unit_test(test_decision),
		cmocka_unit_test(test_decision_array),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_describe_many),
		cmocka_unit_test(test_selector),
	};

	return cmocka_run_group_tests_name("initc", tests, NULL, NULL);
}
