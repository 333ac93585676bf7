/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_patch.c: JSON Patch (RFC 6902) over jansson values, addressed with
 * JSON Pointers (RFC 6901).
 *
 * The patch is applied to one deep copy of the document, made up front, and
 * every operation then edits that copy in place. That gives atomicity for
 * free (a failure just drops the copy) and keeps the cost of each operation
 * proportional to its own size: pointer length, value size, and the memmove
 * jansson does when an array element is inserted or removed. Because the
 * working copy is a tree (every node referenced once), in-place edits can
 * never reach doc or patch: values taken from the patch are copied before
 * they are inserted.
 *
 * Operations are numbered from 0 in messages, as they are indexed in the
 * patch array (so "operation 2" is the pointer "/2" into the patch).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groved/policy.h"

/*
 * "copy" is the one operation whose output can be much larger than its
 * input: doubling the document costs a few bytes of patch, so twenty copies
 * make it a million times larger. Bound the values all copies of one patch
 * may create together. 1 Mi values is far beyond any Kubernetes object
 * (etcd stores at most 1.5 MB), yet some 100 MB at most.
 */
#define PATCH_MAX_COPIED ((size_t)1 << 20)

/*
 * jansson frees, copies and prints values recursively, and reads back no
 * more than this nesting. "move" can nest the whole document one level
 * deeper with a few bytes of patch, so without a bound a long patch could
 * build a result whose json_decref() overflows the stack.
 */
#define PATCH_MAX_DEPTH JSON_PARSER_MAX_DEPTH

/* Room for one quoted pointer in a message; longer ones are cut. */
#define PATCH_QUOTE_MAX 128

enum patch_opcode {
	PATCH_ADD,
	PATCH_REMOVE,
	PATCH_REPLACE,
	PATCH_MOVE,
	PATCH_COPY,
	PATCH_TEST,
};

struct patch_opdef {
	const char *name;
	enum patch_opcode code;
	bool needs_from;
	bool needs_value;
};

static const struct patch_opdef patch_opdefs[] = {
	{ .name = "add", .code = PATCH_ADD, .needs_value = true },
	{ .name = "remove", .code = PATCH_REMOVE },
	{ .name = "replace", .code = PATCH_REPLACE, .needs_value = true },
	{ .name = "move", .code = PATCH_MOVE, .needs_from = true },
	{ .name = "copy", .code = PATCH_COPY, .needs_from = true },
	{ .name = "test", .code = PATCH_TEST, .needs_value = true },
};

/* One JSON Pointer taken from an operation; the text is borrowed. */
struct patch_ptr {
	const char *what; /* "path" or "from", for messages */
	const char *s;
	size_t len;
};

/*
 * Where a pointer leads: the container that holds (or will hold) the
 * target and the target's unescaped key, or parent NULL for the root.
 * key points into the context's scratch buffer and is valid until the next
 * pointer is walked.
 */
struct patch_ref {
	json_t *parent;
	const char *key;
	size_t key_len;
};

struct patch_ctx {
	json_t *root; /* the working copy; owned */
	size_t index; /* the operation being applied */
	const char *opname; /* its name once known, for messages */
	size_t copied; /* values created by "copy" so far */
	size_t
	    depth; /* at least the working copy's nesting, see patch_deepen */
	char *scratch; /* unescaped pointer tokens; owned */
	size_t scratch_size;
	gv_error_t *err;
};

enum patch_index {
	PATCH_INDEX_OK,
	PATCH_INDEX_END, /* "-": the element after the last */
	PATCH_INDEX_BAD,
};

/*
 * Writes s for a message: quotes, backslashes and control bytes escaped,
 * bytes that are not UTF-8 shown as \xNN, and long text cut at a
 * character boundary with "...", so that untrusted text can neither break
 * the message apart nor crowd out the rest of it. size must be at least 4.
 */
static const char *patch_quote(char *buf, size_t size, const char *s,
			       size_t len)
{
	size_t used = 0;
	size_t i = 0;

	while (i < len) {
		const unsigned char *p = (const unsigned char *)s + i;
		char esc[8];
		size_t n = 0;
		size_t step = 1;
		size_t need = 0;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			n = 2;
		} else if (*p >= 0x20 && *p < 0x7f) {
			esc[0] = (char)*p;
			n = 1;
		} else if (*p >= 0xc2 && *p <= 0xf4) {
			step = *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
			if (step > len - i)
				step = 1;
			for (size_t k = 1; k < step; k++)
				if ((p[k] & 0xc0) != 0x80)
					step = 1;
			if (step > 1) {
				memcpy(esc, p, step);
				n = step;
			}
		}
		if (n == 0) {
			step = 1;
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		}
		/* Keep room for "..." unless this is the last character. */
		need = n + 1 + (i + step < len ? 3 : 0);
		if (need > size - used) {
			memcpy(buf + used, "...", 3);
			used += 3;
			break;
		}
		memcpy(buf + used, esc, n);
		used += n;
		i += step;
	}
	buf[used] = '\0';
	return buf;
}

/* Fills err as "patch operation N ("op"): <message>"; returns rc. */
__attribute__((format(printf, 3, 4))) static int
patch_fail(struct patch_ctx *c, int rc, const char *fmt, ...)
{
	char msg[GV_ERROR_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->opname)
		return gv_error_set(c->err, rc, NULL, 0, 0,
				    "patch operation %zu (\"%s\"): %s",
				    c->index, c->opname, msg);
	return gv_error_set(c->err, rc, NULL, 0, 0, "patch operation %zu: %s",
			    c->index, msg);
}

/* Fails with "<what> "<pointer>" <problem>", the form most errors take. */
static int patch_fail_ptr(struct patch_ctx *c, int rc,
			  const struct patch_ptr *p, const char *problem)
{
	char q[PATCH_QUOTE_MAX];

	return patch_fail(c, rc, "%s \"%s\" %s", p->what,
			  patch_quote(q, sizeof(q), p->s, p->len), problem);
}

/*
 * RFC 6901 array index: "0" or digits without a leading zero; "-" names
 * the element after the last. Values too large for size_t saturate, which
 * is out of range for any array anyway.
 */
static enum patch_index patch_parse_index(const char *tok, size_t len,
					  size_t *index)
{
	size_t v = 0;

	if (len == 1 && tok[0] == '-')
		return PATCH_INDEX_END;
	if (len == 0 || (tok[0] == '0' && len > 1))
		return PATCH_INDEX_BAD;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)tok[i] - '0';

		if (d > 9)
			return PATCH_INDEX_BAD;
		if (v > (SIZE_MAX - d) / 10)
			v = SIZE_MAX;
		else
			v = v * 10 + d;
	}
	*index = v;
	return PATCH_INDEX_OK;
}

/*
 * Reads one pointer member of op. Checks the whole syntax here (leading
 * "/", every "~" followed by "0" or "1"), so that walking it later cannot
 * fail on syntax.
 */
static int patch_get_ptr(struct patch_ctx *c, const json_t *op,
			 const char *what, struct patch_ptr *out)
{
	const json_t *v = json_object_get(op, what);
	struct patch_ptr p = { .what = what };
	int rc = GV_OK;

	if (!v) {
		rc = patch_fail(c, GV_EINVAL, "missing \"%s\"", what);
		goto out;
	}
	if (!json_is_string(v)) {
		rc = patch_fail(c, GV_EINVAL, "\"%s\" is not a string", what);
		goto out;
	}
	p.s = json_string_value(v);
	p.len = json_string_length(v);
	if (p.len > 0 && p.s[0] != '/') {
		rc = patch_fail_ptr(c, GV_EINVAL, &p,
				    "does not start with \"/\"");
		goto out;
	}
	for (size_t i = 0; i < p.len; i++) {
		if (p.s[i] != '~')
			continue;
		if (i + 1 == p.len ||
		    (p.s[i + 1] != '0' && p.s[i + 1] != '1')) {
			rc = patch_fail_ptr(c, GV_EINVAL, &p,
					    "has an invalid \"~\" escape");
			goto out;
		}
	}
	/* An unescaped token is never longer than its pointer. */
	if (p.len >= c->scratch_size) {
		char *grown = realloc(c->scratch, p.len + 1);

		if (!grown) {
			rc = patch_fail(c, GV_ENOMEM, "out of memory");
			goto out;
		}
		c->scratch = grown;
		c->scratch_size = p.len + 1;
	}
	*out = p;
out:
	return rc;
}

/* Unescapes one token (syntax already checked) into the scratch buffer. */
static size_t patch_unescape(struct patch_ctx *c, const char *tok, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (tok[i] == '~') {
			c->scratch[n++] = tok[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			c->scratch[n++] = tok[i];
		}
	}
	return n;
}

/* The child of container named by key, borrowed; NULL when there is none. */
static json_t *patch_child(struct patch_ctx *c, const struct patch_ptr *p,
			   json_t *container, const char *key, size_t key_len,
			   int *rc)
{
	size_t index = 0;

	*rc = GV_OK;
	if (json_is_object(container))
		return json_object_getn(container, key, key_len);
	if (!json_is_array(container))
		return NULL;
	switch (patch_parse_index(key, key_len, &index)) {
	case PATCH_INDEX_OK:
		return json_array_get(container, index);
	case PATCH_INDEX_END:
		return NULL;
	case PATCH_INDEX_BAD:
		break;
	}
	*rc = patch_fail_ptr(c, GV_EINVAL, p, "has an invalid array index");
	return NULL;
}

/*
 * Walks every token of p but the last, iteratively: the depth is bounded
 * only by the pointer's length, so it must not cost stack.
 */
static int patch_walk(struct patch_ctx *c, const struct patch_ptr *p,
		      struct patch_ref *ref)
{
	json_t *node = c->root;
	const char *tok = p->s;
	const char *end = p->s + p->len;
	int rc = GV_OK;

	if (p->len == 0) {
		*ref = (struct patch_ref){ .parent = NULL };
		goto out;
	}
	for (;;) {
		const char *next = NULL;
		size_t key_len = 0;

		tok++; /* the "/" */
		next = memchr(tok, '/', (size_t)(end - tok));
		key_len =
		    patch_unescape(c, tok, (size_t)((next ? next : end) - tok));
		if (!next) {
			*ref = (struct patch_ref){ .parent = node,
						   .key = c->scratch,
						   .key_len = key_len };
			break;
		}
		node = patch_child(c, p, node, c->scratch, key_len, &rc);
		if (rc)
			goto out;
		if (!node) {
			rc = patch_fail_ptr(c, GV_EINVAL, p, "does not exist");
			goto out;
		}
		tok = next;
	}
out:
	return rc;
}

/* The value ref names, borrowed from the working copy; it must exist. */
static int patch_target(struct patch_ctx *c, const struct patch_ptr *p,
			const struct patch_ref *ref, json_t **target)
{
	json_t *v = c->root;
	int rc = GV_OK;

	if (ref->parent) {
		v = patch_child(c, p, ref->parent, ref->key, ref->key_len, &rc);
		if (rc)
			goto out;
	}
	if (!v) {
		rc = patch_fail_ptr(c, GV_EINVAL, p, "does not exist");
		goto out;
	}
	*target = v;
out:
	return rc;
}

/*
 * Puts value at ref: adds an object member (replacing one of that name),
 * inserts into an array, or replaces the root. Steals value, whatever the
 * outcome.
 */
static int patch_insert(struct patch_ctx *c, const struct patch_ptr *p,
			const struct patch_ref *ref, json_t *value)
{
	json_t *parent = ref->parent;
	size_t index = 0;
	int rc = GV_OK;
	int jrc = 0;

	if (!parent) {
		json_decref(c->root);
		c->root = value;
		value = NULL;
		goto out;
	}
	if (json_is_object(parent)) {
		/*
		 * The key's UTF-8 is as valid as the patch string it came
		 * from (splitting at "/" and unescaping "~" keep it so), and
		 * jansson's own deep copy inserts keys the same way.
		 */
		jrc = json_object_setn_new_nocheck(parent, ref->key,
						   ref->key_len, value);
		value = NULL;
	} else if (json_is_array(parent)) {
		switch (patch_parse_index(ref->key, ref->key_len, &index)) {
		case PATCH_INDEX_END:
			index = json_array_size(parent);
			break;
		case PATCH_INDEX_OK:
			if (index > json_array_size(parent)) {
				rc = patch_fail_ptr(c, GV_EINVAL, p,
						    "is out of bounds");
				goto out;
			}
			break;
		case PATCH_INDEX_BAD:
			rc = patch_fail_ptr(c, GV_EINVAL, p,
					    "has an invalid array index");
			goto out;
		}
		jrc = json_array_insert_new(parent, index, value);
		value = NULL;
	} else {
		rc = patch_fail_ptr(c, GV_EINVAL, p,
				    "has a parent that is not an object or "
				    "array");
		goto out;
	}
	/* Every argument was checked above: only allocation can fail. */
	if (jrc)
		rc = patch_fail(c, GV_ENOMEM, "out of memory");
out:
	json_decref(value);
	return rc;
}

/* Removes the existing value at ref (not the root). */
static int patch_delete(struct patch_ctx *c, const struct patch_ptr *p,
			const struct patch_ref *ref)
{
	json_t *target = NULL;
	size_t index = 0;
	int rc = GV_OK;

	if (!ref->parent) {
		rc = patch_fail_ptr(c, GV_EINVAL, p,
				    "is the whole document, which cannot be "
				    "removed");
		goto out;
	}
	rc = patch_target(c, p, ref, &target);
	if (rc)
		goto out;
	if (json_is_object(ref->parent)) {
		json_object_deln(ref->parent, ref->key, ref->key_len);
	} else {
		/* patch_target found it, so the index parses and is in range. */
		patch_parse_index(ref->key, ref->key_len, &index);
		json_array_remove(ref->parent, index);
	}
out:
	return rc;
}

/*
 * Counts the values in v, stopping once there are more than limit, so the
 * cost is bounded by limit and not by v. Returns at most limit + 1. It
 * recurses exactly as deep as json_deep_copy() will on the same value.
 */
static size_t patch_count(json_t *v, size_t limit)
{
	size_t n = 1;

	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v) && n <= limit; i++)
			n += patch_count(json_array_get(v, i), limit - n);
	} else if (json_is_object(v)) {
		for (void *it = json_object_iter(v); it && n <= limit;
		     it = json_object_iter_next(v, it))
			n += patch_count(json_object_iter_value(it), limit - n);
	}
	return n;
}

/*
 * The nesting of v: 0 for a scalar, 1 + the deepest child for an array or
 * object. It recurses exactly as deep as json_deep_copy() and
 * json_decref() will on the same value.
 */
static size_t patch_depth(json_t *v)
{
	size_t deepest = 0;
	size_t d = 0;

	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			d = patch_depth(json_array_get(v, i));
			deepest = d > deepest ? d : deepest;
		}
		return deepest + 1;
	}
	if (json_is_object(v)) {
		for (void *it = json_object_iter(v); it;
		     it = json_object_iter_next(v, it)) {
			d = patch_depth(json_object_iter_value(it));
			deepest = d > deepest ? d : deepest;
		}
		return deepest + 1;
	}
	return 0;
}

/* The tokens in p: a value at p sits inside that many containers. */
static size_t patch_tokens(const struct patch_ptr *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->len; i++)
		n += p->s[i] == '/';
	return n;
}

/*
 * Raises c->depth, a bound on the working copy's nesting, to depth, unless
 * that passes PATCH_MAX_DEPTH. The bound is kept without walking the
 * document again: an insertion at path raises it to the tokens of path
 * plus the nesting of the value, and a move from k to m tokens by m - k at
 * most. Removals never lower it, so it can overestimate, by at most the
 * depth moves added.
 */
static int patch_deepen(struct patch_ctx *c, const struct patch_ptr *p,
			size_t depth)
{
	char q[PATCH_QUOTE_MAX];
	int rc = GV_OK;

	if (depth <= c->depth)
		goto out;
	if (depth > PATCH_MAX_DEPTH) {
		rc =
		    patch_fail(c, GV_EINVAL,
			       "%s \"%s\" would nest the document more than %d "
			       "levels deep",
			       p->what, patch_quote(q, sizeof(q), p->s, p->len),
			       PATCH_MAX_DEPTH);
		goto out;
	}
	c->depth = depth;
out:
	return rc;
}

/*
 * Numbers are equal when numerically equal (RFC 6902 4.6), which
 * json_equal() does not do across integer and real. An integer and a real
 * are compared exactly, without rounding the integer to a double.
 */
static bool patch_numbers_equal(const json_t *a, const json_t *b)
{
	double r = 0;
	json_int_t i = 0;
	json_int_t t = 0;

	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	if (json_is_real(a) && json_is_real(b))
		return json_real_value(a) == json_real_value(b);
	r = json_real_value(json_is_real(a) ? a : b);
	i = json_integer_value(json_is_integer(a) ? a : b);
	/* json_int_t is 64 bits: out of this range the cast is undefined. */
	if (!(r >= -0x1p63 && r < 0x1p63))
		return false;
	t = (json_int_t)r;
	return (double)t == r && t == i;
}

/*
 * RFC 6902 equality. The loops run over a, the value from the patch, and
 * stop at the first difference, so the cost is bounded by the patch. The
 * recursion is as deep as a, which jansson parsed and will free the same
 * way.
 */
static bool patch_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return patch_numbers_equal(a, b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return false;
		/* jansson's iterators take non-const; nothing is written. */
		for (void *it = json_object_iter((json_t *)a); it;
		     it = json_object_iter_next((json_t *)a, it)) {
			const json_t *bv =
			    json_object_getn(b, json_object_iter_key(it),
					     json_object_iter_key_len(it));

			if (!bv || !patch_equal(json_object_iter_value(it), bv))
				return false;
		}
		return true;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!patch_equal(json_array_get(a, i),
					 json_array_get(b, i)))
				return false;
		return true;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b),
			      json_string_length(a)) == 0;
	default:
		return true; /* true, false, null: the type is the value */
	}
}

/* Looks up "op" and fills *def. */
static int patch_get_opdef(struct patch_ctx *c, const json_t *op,
			   const struct patch_opdef **def)
{
	const json_t *v = json_object_get(op, "op");
	char q[PATCH_QUOTE_MAX];
	int rc = GV_OK;

	if (!v) {
		rc = patch_fail(c, GV_EINVAL, "missing \"op\"");
		goto out;
	}
	if (!json_is_string(v)) {
		rc = patch_fail(c, GV_EINVAL, "\"op\" is not a string");
		goto out;
	}
	for (size_t i = 0; i < sizeof(patch_opdefs) / sizeof(patch_opdefs[0]);
	     i++) {
		if (json_string_length(v) == strlen(patch_opdefs[i].name) &&
		    strcmp(json_string_value(v), patch_opdefs[i].name) == 0) {
			*def = &patch_opdefs[i];
			goto out;
		}
	}
	rc = patch_fail(c, GV_EINVAL, "unknown op \"%s\"",
			patch_quote(q, sizeof(q), json_string_value(v),
				    json_string_length(v)));
out:
	return rc;
}

/* "from" is a proper prefix of "path", token-wise. */
static bool patch_is_child(const struct patch_ptr *from,
			   const struct patch_ptr *path)
{
	return path->len > from->len &&
	       memcmp(path->s, from->s, from->len) == 0 &&
	       path->s[from->len] == '/';
}

static int patch_move(struct patch_ctx *c, const struct patch_ptr *from,
		      const struct patch_ptr *path)
{
	char qfrom[PATCH_QUOTE_MAX];
	char qpath[PATCH_QUOTE_MAX];
	struct patch_ref ref = { 0 };
	json_t *target = NULL;
	json_t *value = NULL;
	int rc = GV_OK;

	if (patch_is_child(from, path)) {
		rc = patch_fail(
		    c, GV_EINVAL,
		    "cannot move \"%s\" into its own child \"%s\"",
		    patch_quote(qfrom, sizeof(qfrom), from->s, from->len),
		    patch_quote(qpath, sizeof(qpath), path->s, path->len));
		goto out;
	}
	rc = patch_walk(c, from, &ref);
	if (rc)
		goto out;
	rc = patch_target(c, from, &ref, &target);
	if (rc)
		goto out;
	/* Same place: removing and adding back would change nothing. */
	if (from->len == path->len && memcmp(from->s, path->s, from->len) == 0)
		goto out;
	/* The moved value was under tokens(from) containers and goes under
	 * tokens(path): the document gets at most that much deeper. */
	if (patch_tokens(path) > patch_tokens(from)) {
		rc = patch_deepen(c, path,
				  c->depth + patch_tokens(path) -
				      patch_tokens(from));
		if (rc)
			goto out;
	}
	value = json_incref(target);
	rc = patch_delete(c, from, &ref);
	if (rc)
		goto out;
	rc = patch_walk(c, path, &ref);
	if (rc)
		goto out;
	rc = patch_insert(c, path, &ref, value);
	value = NULL;
out:
	json_decref(value);
	return rc;
}

static int patch_copy(struct patch_ctx *c, const struct patch_ptr *from,
		      const struct patch_ptr *path)
{
	struct patch_ref ref = { 0 };
	json_t *target = NULL;
	json_t *value = NULL;
	size_t room = PATCH_MAX_COPIED - c->copied;
	size_t n = 0;
	int rc = GV_OK;

	rc = patch_walk(c, from, &ref);
	if (rc)
		goto out;
	rc = patch_target(c, from, &ref, &target);
	if (rc)
		goto out;
	n = patch_count(target, room);
	if (n > room) {
		rc = patch_fail(c, GV_EINVAL,
				"copies would create more than %zu values",
				(size_t)PATCH_MAX_COPIED);
		goto out;
	}
	/* Costs what the copy costs, which the budget above bounds. */
	rc = patch_deepen(c, path, patch_tokens(path) + patch_depth(target));
	if (rc)
		goto out;
	value = json_deep_copy(target);
	if (!value) {
		rc = patch_fail(c, GV_ENOMEM, "out of memory");
		goto out;
	}
	c->copied += n;
	rc = patch_walk(c, path, &ref);
	if (rc)
		goto out;
	rc = patch_insert(c, path, &ref, value);
	value = NULL;
out:
	json_decref(value);
	return rc;
}

/*
 * Copies value for insertion at path: the working copy is edited in place,
 * so it must not share nodes with the patch, which is const. Costs the
 * value's size, once per operation, like reading it did.
 */
static int patch_copy_value(struct patch_ctx *c, const struct patch_ptr *path,
			    const json_t *value, json_t **copy)
{
	json_t *v = NULL;
	int rc = GV_OK;

	v = json_deep_copy(value);
	if (!v) {
		rc = patch_fail(c, GV_ENOMEM, "out of memory");
		goto out;
	}
	rc = patch_deepen(c, path, patch_tokens(path) + patch_depth(v));
	if (rc)
		goto out;
	*copy = v;
	v = NULL;
out:
	json_decref(v);
	return rc;
}

static int patch_add(struct patch_ctx *c, const struct patch_ptr *path,
		     const json_t *value)
{
	struct patch_ref ref = { 0 };
	json_t *copy = NULL;
	int rc = GV_OK;

	rc = patch_walk(c, path, &ref);
	if (rc)
		goto out;
	rc = patch_copy_value(c, path, value, &copy);
	if (rc)
		goto out;
	rc = patch_insert(c, path, &ref, copy);
	copy = NULL;
out:
	return rc;
}

static int patch_remove(struct patch_ctx *c, const struct patch_ptr *path)
{
	struct patch_ref ref = { 0 };
	int rc = GV_OK;

	rc = patch_walk(c, path, &ref);
	if (rc)
		goto out;
	rc = patch_delete(c, path, &ref);
out:
	return rc;
}

static int patch_replace(struct patch_ctx *c, const struct patch_ptr *path,
			 const json_t *value)
{
	struct patch_ref ref = { 0 };
	json_t *target = NULL;
	json_t *copy = NULL;
	size_t index = 0;
	int rc = GV_OK;

	rc = patch_walk(c, path, &ref);
	if (rc)
		goto out;
	rc = patch_target(c, path, &ref, &target);
	if (rc)
		goto out;
	rc = patch_copy_value(c, path, value, &copy);
	if (rc)
		goto out;
	if (!json_is_array(ref.parent)) {
		/* An object member or the root: inserting replaces. */
		rc = patch_insert(c, path, &ref, copy);
		copy = NULL;
		goto out;
	}
	/* patch_target found it, so the index parses and is in range. */
	patch_parse_index(ref.key, ref.key_len, &index);
	if (json_array_set_new(ref.parent, index, copy))
		rc = patch_fail(c, GV_ENOMEM, "out of memory");
	copy = NULL;
out:
	return rc;
}

static int patch_test(struct patch_ctx *c, const struct patch_ptr *path,
		      const json_t *value)
{
	struct patch_ref ref = { 0 };
	json_t *target = NULL;
	int rc = GV_OK;

	rc = patch_walk(c, path, &ref);
	if (rc)
		goto out;
	rc = patch_target(c, path, &ref, &target);
	if (rc)
		goto out;
	if (!patch_equal(value, target))
		rc = patch_fail_ptr(c, GV_EINVAL, path,
				    "is not equal to the test value");
out:
	return rc;
}

/* Applies one operation to c->root; on failure c->root may be half-done. */
static int patch_apply_one(struct patch_ctx *c, const json_t *op)
{
	const struct patch_opdef *def = NULL;
	struct patch_ptr path = { 0 };
	struct patch_ptr from = { 0 };
	const json_t *value = NULL;
	int rc = GV_OK;

	c->opname = NULL;
	if (!json_is_object(op)) {
		rc = patch_fail(c, GV_EINVAL, "operation is not an object");
		goto out;
	}
	rc = patch_get_opdef(c, op, &def);
	if (rc)
		goto out;
	c->opname = def->name;
	rc = patch_get_ptr(c, op, "path", &path);
	if (rc)
		goto out;
	if (def->needs_from) {
		rc = patch_get_ptr(c, op, "from", &from);
		if (rc)
			goto out;
	}
	if (def->needs_value) {
		value = json_object_get(op, "value");
		if (!value) {
			rc = patch_fail(c, GV_EINVAL, "missing \"value\"");
			goto out;
		}
	}
	switch (def->code) {
	case PATCH_ADD:
		rc = patch_add(c, &path, value);
		break;
	case PATCH_REMOVE:
		rc = patch_remove(c, &path);
		break;
	case PATCH_REPLACE:
		rc = patch_replace(c, &path, value);
		break;
	case PATCH_MOVE:
		rc = patch_move(c, &from, &path);
		break;
	case PATCH_COPY:
		rc = patch_copy(c, &from, &path);
		break;
	case PATCH_TEST:
		rc = patch_test(c, &path, value);
		break;
	}
out:
	return rc;
}

int pol_patch_apply(const json_t *doc, const json_t *patch, json_t **out,
		    gv_error_t *err)
{
	struct patch_ctx c = { .err = err };
	int rc = GV_OK;

	if (!doc || !out) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "no document to patch");
		goto out;
	}
	if (!json_is_array(patch)) {
		rc = gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				  "patch is not an array");
		goto out;
	}
	c.root = json_deep_copy(doc);
	if (!c.root) {
		rc = gv_error_set(err, GV_ENOMEM, NULL, 0, 0,
				  "out of memory copying the document");
		goto out;
	}
	c.depth = patch_depth(c.root);
	for (c.index = 0; c.index < json_array_size(patch); c.index++) {
		rc = patch_apply_one(&c, json_array_get(patch, c.index));
		if (rc)
			goto out;
	}
	*out = c.root;
	c.root = NULL;
out:
	json_decref(c.root);
	free(c.scratch);
	return rc;
}

/*
 * Note that it appends the "/" that introduces the token as well, so
 * appending "spec" then "containers" to "" builds "/spec/containers".
 * Fails with GV_EINVAL when the arguments break the contract (NULL, or
 * *used not inside buf).
 */
int pol_pointer_append(char *buf, size_t size, size_t *used, const char *key)
{
	size_t room = 0;
	size_t need = 1; /* the "/" */
	size_t at = 0;
	int rc = GV_OK;

	if (!buf || !used || !key || *used >= size) {
		rc = GV_EINVAL;
		goto out;
	}
	/* Count first, stopping early, so nothing is written on failure and
	 * the sum cannot overflow. room keeps one byte for the NUL. */
	room = size - *used - 1;
	for (const char *k = key; *k && need <= room; k++)
		need += (*k == '~' || *k == '/') ? 2 : 1;
	if (need > room) {
		rc = GV_ETOOBIG;
		goto out;
	}
	at = *used;
	buf[at++] = '/';
	for (const char *k = key; *k; k++) {
		if (*k == '~' || *k == '/') {
			buf[at++] = '~';
			buf[at++] = *k == '~' ? '0' : '1';
		} else {
			buf[at++] = *k;
		}
	}
	buf[at] = '\0';
	*used = at;
out:
	return rc;
}
