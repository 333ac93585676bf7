/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_int.h: helpers shared by the policy files, not part of the API.
 */
#ifndef GROVED_POL_INT_H
#define GROVED_POL_INT_H

#include <stdarg.h>

#include "groved/gv_buf.h"
#include "groved/policy.h"

/*
 * Policy builds its messages in base's gv_buf (groved/gv_buf.h, which
 * states the rules): `failed` and gv_buf_rc() say why an append failed,
 * GV_ETOOBIG (over max: the input's fault) or GV_ENOMEM. On top of it,
 * Go's way of printing values (pol_print.c):
 */

/* Appends s quoted as Go's %q does. */
void pol_print_quote(gv_buf *b, const char *s);
/* Appends a JSON value as Kubernetes prints a field error's value:
 * strings quoted, numbers and booleans bare, the rest compact JSON. */
void pol_print_value(gv_buf *b, const json_t *value);

/* snprintf into a path buffer of POL_PATH_MAX; truncates safely (at a
 * UTF-8 character boundary). */
void pol_path(char *dst, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A new json_string of s, or json_null() when s is NULL. */
json_t *pol_jstr(const char *s);

/* Integer value of an optional field: true with *out set when the member
 * is an integer; false when absent or of another type. */
bool pol_get_int(const json_t *obj, const char *key, int64_t *out);
/* String value of a member, or NULL when absent or not a string. */
const char *pol_get_str(const json_t *obj, const char *key);

/* Name checks. Each returns GV_OK when s is valid, or GV_EINVAL with
 * err's text saying what is wrong and where (the detail of a field
 * error). */
int pol_check_dns_label(const char *s, gv_error_t *err);
int pol_check_dns_subdomain(const char *s, gv_error_t *err);
int pol_check_qualified_name(const char *s, gv_error_t *err);
int pol_check_env_name(const char *s, gv_error_t *err);

/* Size of a note that is not a failure: why a cluster lookup could not
 * be made (the webhook then warns "not checked"). */
#define POL_MSG_MAX 256

/*
 * Linear-time duplicate checks over untrusted lists: set is a json object
 * used as a hash set. Returns true (and *first, when not NULL, the index
 * recorded for key) when key was already added; otherwise records idx
 * for key and returns false. Allocation failure marks v->oom.
 */
bool pol_seen(json_t *set, const char *key, size_t idx, size_t *first,
	      pol_verdict *v);

/* Writes the field path of a JSON Pointer ("/spec/podCliques/0/name" ->
 * "spec.podCliques[0].name") into out, truncating safely. */
void pol_field_from_pointer(const char *ptr, char *out, size_t size);

/* Levenshtein distance, capped: returns cap+1 when larger. */
size_t pol_edit_distance(const char *a, const char *b, size_t cap);
/* The candidate closest to s within a distance that reads as a typo, or
 * NULL. candidates ends with NULL. */
const char *pol_did_you_mean(const char *s, const char *const *candidates);

/* Each member of obj (at path) that is not in known (NULL-terminated) is
 * an error "unknown field", with a did-you-mean when one is close, and
 * known_text (the known names for the reader, or NULL) after it. */
void pol_check_unknown(pol_verdict *v, const json_t *obj, const char *path,
		       const char *const *known, const char *known_text);

/* Parses a Go duration ("4h", "1h30m", "1.5s", "300ms"). */
bool pol_parse_duration(const char *s, double *seconds);

/* Whether obj's key is unwritten: absent or null, as Kubernetes reads a
 * null (and as the model's readers skip it). */
static inline bool pol_unset(const json_t *obj, const char *key)
{
	const json_t *m = json_object_get(obj, key);

	return !m || json_is_null(m);
}

#endif
