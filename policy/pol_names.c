/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_names.c: the name rules Kubernetes applies (RFC 1123 labels and
 * subdomains, qualified label keys, environment variable names), with
 * messages that point at the offending character, plus the small text
 * helpers validation needs (did-you-mean, Go durations).
 */
#include <ctype.h>
#include <math.h>

#include "pol_int.h"

static bool is_lower_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(unsigned char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* GV_EINVAL, with err saying that byte c at 0-based position pos breaks
 * rule. */
static int bad_char(gv_error_t *err, const char *rule, unsigned char c,
		    size_t pos)
{
	if (c >= 0x20 && c < 0x7f)
		return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
				    "%s; '%c' at position %zu is not allowed",
				    rule, c, pos + 1);
	return gv_error_set(err, GV_EINVAL, NULL, 0, 0,
			    "%s; byte 0x%02x at position %zu is not allowed",
			    rule, c, pos + 1);
}

/* GV_EINVAL, with err's text from fmt. */
#define BAD(err, ...) gv_error_set((err), GV_EINVAL, NULL, 0, 0, __VA_ARGS__)

#define DNS_LABEL_RULE                                                        \
	"must be a lowercase RFC 1123 label: lower-case letters, digits and " \
	"'-', starting and ending with a letter or digit"

int pol_check_dns_label(const char *s, gv_error_t *err)
{
	size_t n = strlen(s);
	size_t i = 0;

	if (n == 0)
		return BAD(err, "must not be empty");
	if (n > POL_NAME_MAX)
		return BAD(err, "must be no more than %d characters (is %zu)",
			   POL_NAME_MAX, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool edge = i == 0 || i == n - 1;

		if (is_lower_alnum(c) || (c == '-' && !edge))
			continue;
		return bad_char(err, DNS_LABEL_RULE, c, i);
	}
	return GV_OK;
}

int pol_check_dns_subdomain(const char *s, gv_error_t *err)
{
	size_t n = strlen(s);
	size_t i = 0;

	if (n == 0 || n > 253)
		return BAD(
		    err,
		    "must be an RFC 1123 subdomain of 1 to 253 characters");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool edge =
		    i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if (is_lower_alnum(c) || ((c == '-' || c == '.') && !edge))
			continue;
		return bad_char(
		    err,
		    "must be a lowercase RFC 1123 subdomain: labels "
		    "of lower-case letters, digits and '-', joined "
		    "by '.'",
		    c, i);
	}
	return GV_OK;
}

int pol_check_qualified_name(const char *s, gv_error_t *err)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;
	size_t n = strlen(name);
	size_t i = 0;
	size_t off = (size_t)(name - s);

	if (slash) {
		char prefix[254];
		size_t plen = (size_t)(slash - s);

		if (plen == 0 || plen >= sizeof(prefix))
			return BAD(err,
				   "prefix before '/' must be a DNS subdomain "
				   "of 1 to 253 characters");
		memcpy(prefix, s, plen);
		prefix[plen] = '\0';
		if (pol_check_dns_subdomain(prefix, err) != GV_OK)
			return GV_EINVAL;
	}
	if (n == 0 || n > 63)
		return BAD(err, "name part must be 1 to 63 characters (is %zu)",
			   n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		bool edge = i == 0 || i == n - 1;

		if (is_alnum(c) ||
		    ((c == '-' || c == '_' || c == '.') && !edge))
			continue;
		return bad_char(err,
				"must be a qualified name: an optional DNS "
				"subdomain prefix and '/', then alphanumerics, "
				"'-', '_' or '.', starting and ending with an "
				"alphanumeric",
				c, off + i);
	}
	return GV_OK;
}

int pol_check_env_name(const char *s, gv_error_t *err)
{
	size_t i = 0;

	if (!s[0])
		return BAD(err, "must not be empty");
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '=')
			continue;
		return bad_char(err,
				"must consist of printable ASCII characters "
				"other than '='",
				c, i);
	}
	return GV_OK;
}

size_t pol_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t row[65];
	size_t i = 0;
	size_t j = 0;

	/* Field names are short; anything longer is no typo of one. */
	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		size_t best = i;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) ==
					      tolower((unsigned char)b[j - 1])
					  ? 0
					  : 1;
			size_t v = diag + cost;

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}

const char *pol_did_you_mean(const char *s, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = 0;
	size_t cap = strlen(s) / 3 + 1;

	if (cap > 3)
		cap = 3;
	for (; *candidates; candidates++) {
		size_t d = pol_edit_distance(s, *candidates, cap);

		if (d <= cap && (!best || d < best_d)) {
			best = *candidates;
			best_d = d;
		}
	}
	return best;
}

bool pol_parse_duration(const char *s, double *seconds)
{
	static const struct {
		const char *unit;
		double seconds;
	} units[] = {
		{ "ns", 1e-9 },	 { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 },
		{ "ms", 1e-3 },	 { "s", 1.0 },	 { "m", 60.0 },
		{ "h", 3600.0 },
	};
	double total = 0;
	bool negative = false;
	const char *p = s;

	if (*p == '-' || *p == '+')
		negative = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*seconds = 0;
		return true;
	}
	if (!*p)
		return false;
	while (*p) {
		char *end = NULL;
		double v = 0;
		size_t k = 0;
		size_t best = SIZE_MAX;
		size_t best_len = 0;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return false;
		v = strtod(p, &end);
		if (end == p || !isfinite(v))
			return false;
		p = end;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			size_t len = strlen(units[k].unit);

			if (strncmp(p, units[k].unit, len) == 0 &&
			    len > best_len) {
				best = k;
				best_len = len;
			}
		}
		if (best == SIZE_MAX)
			return false;
		total += v * units[best].seconds;
		p += best_len;
	}
	*seconds = negative ? -total : total;
	return true;
}
