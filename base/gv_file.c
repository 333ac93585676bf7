/* SPDX-License-Identifier: Apache-2.0 */
/* gv_file.c: reading a whole file, bounded (groved/gv_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

#include "groved/gv_file.h"

/* The first buffer when the size is not known beforehand (a pipe). */
#define READ_FIRST_CAP ((size_t)64 << 10)

/* memset through a volatile pointer: a wipe the compiler cannot drop as a
 * store to memory about to be freed. */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

static void wipe_free(void *p, size_t n, bool secret)
{
	if (p && secret)
		wipe_memset(p, 0, n);
	free(p);
}

/* Fills err for a failure of path: why is the reason's text. */
static int fail(gv_error_t *err, int rc, const char *path,
		const gv_read_opts *o, const char *verb, const char *why)
{
	if (o->what)
		return gv_error_set(err, rc, path, 0, 0,
				    "cannot read %s '%s': %s", o->what, path,
				    why);
	if (verb)
		return gv_error_set(err, rc, path, 0, 0, "cannot %s: %s", verb,
				    why);
	return gv_error_set(err, rc, path, 0, 0, "%s", why);
}

static int fail_errno(gv_error_t *err, const char *path, const gv_read_opts *o,
		      const char *verb, int errnum)
{
	char why[128];

	if (strerror_r(errnum, why, sizeof(why)) != 0)
		snprintf(why, sizeof(why), "error %d", errnum);
	return fail(err, errnum == ENOENT ? GV_ENOTFOUND : GV_EIO, path, o,
		    verb, why);
}

static int fail_toobig(gv_error_t *err, const char *path, const gv_read_opts *o,
		       size_t max)
{
	char why[64];

	snprintf(why, sizeof(why), "%slarger than %zu bytes",
		 o->what ? "" : "file is ", max);
	return fail(err, GV_ETOOBIG, path, o, NULL, why);
}

/* Grows *buf (cap bytes, len used) to ncap, wiping the old block of a
 * secret. Returns false when out of memory (*buf is then unchanged). */
static bool grow(char **buf, size_t len, size_t cap, size_t ncap, bool secret)
{
	char *p = NULL;

	if (!secret) {
		p = realloc(*buf, ncap);
		if (!p)
			return false;
		*buf = p;
		return true;
	}
	p = malloc(ncap);
	if (!p)
		return false;
	if (len)
		memcpy(p, *buf, len);
	wipe_free(*buf, cap, true);
	*buf = p;
	return true;
}

int gv_read_fd(int fd, const char *name, size_t max, const gv_read_opts *o,
	       char **data, size_t *len_out, gv_error_t *err)
{
	static const gv_read_opts defaults = { 0 };
	struct stat st;
	char *buf = NULL;
	size_t cap = 0;
	size_t len = 0;
	bool have_st = false;
	int rc = GV_OK;

	if (!o)
		o = &defaults;
	if (max >= SIZE_MAX - 2) {
		rc = gv_error_set(err, GV_EINVAL, name, 0, 0,
				  "cannot read: no sane limit");
		goto out;
	}
	have_st = fstat(fd, &st) == 0;
	if (!have_st && (o->regular || o->st)) {
		rc = fail_errno(err, name, o, "read", errno);
		goto out;
	}
	if (o->regular && !S_ISREG(st.st_mode)) {
		rc = fail(err, GV_EIO, name, o, NULL, "not a regular file");
		goto out;
	}
	if (have_st && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uintmax_t)st.st_size > max) {
		rc = fail_toobig(err, name, o, max);
		goto out;
	}
	/* room for the whole file, one byte more to see its end, the NUL */
	cap = have_st && S_ISREG(st.st_mode) ? (size_t)st.st_size + 2
					     : READ_FIRST_CAP;
	if (cap > max + 2)
		cap = max + 2;
	buf = malloc(cap);
	if (!buf) {
		rc = fail(err, GV_ENOMEM, name, o, NULL, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = 0;

		if (len + 1 == cap) {
			size_t ncap = cap > (max + 2) / 2 ? max + 2 : cap * 2;

			if (!grow(&buf, len, cap, ncap, o->secret)) {
				rc = fail(err, GV_ENOMEM, name, o, NULL,
					  "out of memory");
				goto out;
			}
			cap = ncap;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail_errno(err, name, o, "read", errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = fail_toobig(err, name, o, max);
			goto out;
		}
	}
	buf[len] = '\0';
	if (o->st)
		*o->st = st;
	*data = buf;
	*len_out = len;
	buf = NULL;
out:
	wipe_free(buf, cap, o->secret);
	return rc;
}

int gv_read_file(const char *path, size_t max, const gv_read_opts *o,
		 char **data, size_t *len, gv_error_t *err)
{
	static const gv_read_opts defaults = { 0 };
	int fd = -1;
	int rc = GV_OK;

	if (!o)
		o = &defaults;
	fd = open(path, O_RDONLY | O_CLOEXEC | (o->regular ? O_NONBLOCK : 0));
	if (fd < 0)
		return fail_errno(err, path, o, "open", errno);
	rc = gv_read_fd(fd, path, max, o, data, len, err);
	close(fd);
	return rc;
}

int gv_read_file_max(const char *path, size_t max, char **data, size_t *len,
		     gv_error_t *err)
{
	return gv_read_file(path, max, NULL, data, len, err);
}
