/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srv_files.c: reading the files a command names, bounded, with
 * directories walked in a stable order.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "groved/gv_file.h"
#include "groved/server.h"

/* Deeper than any real manifest tree; stops symlink loops. */
#define WALK_MAX_DEPTH 32

/* A missing file is an I/O error here (server.h); err says which. */
static int read_rc(int rc)
{
	return rc == GV_ENOTFOUND ? GV_EIO : rc;
}

static int push(srv_inputs *list, const char *name, char *data, size_t len)
{
	srv_input *items = NULL;
	char *copy = NULL;

	if (list->n == list->cap) {
		size_t ncap = list->cap ? list->cap * 2 : 16;

		items = realloc(list->items, ncap * sizeof(*items));
		if (!items)
			return GV_ENOMEM;
		list->items = items;
		list->cap = ncap;
	}
	copy = strdup(name);
	if (!copy)
		return GV_ENOMEM;
	list->items[list->n].name = copy;
	list->items[list->n].data = data;
	list->items[list->n].len = len;
	list->n++;
	return GV_OK;
}

static int add_file(srv_inputs *list, const char *path, size_t max,
		    gv_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = GV_OK;

	rc = read_rc(gv_read_file_max(path, max, &data, &len, err));
	if (rc != GV_OK)
		goto out;
	rc = push(list, path, data, len);
	if (rc != GV_OK) {
		gv_error_set(err, rc, path, 0, 0, "out of memory");
		goto out;
	}
	data = NULL;
out:
	free(data);
	return rc;
}

static bool is_manifest_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(srv_inputs *list, const char *path, size_t max, int depth,
		    gv_error_t *err);

static int add_dir(srv_inputs *list, const char *path, size_t max, int depth,
		   gv_error_t *err)
{
	DIR *dir = NULL;
	struct dirent *de = NULL;
	char **names = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t i = 0;
	int rc = GV_OK;

	if (depth > WALK_MAX_DEPTH) {
		rc = gv_error_set(err, GV_ETOODEEP, path, 0, 0,
				  "directories nested deeper than %d",
				  WALK_MAX_DEPTH);
		goto out;
	}
	dir = opendir(path);
	if (!dir) {
		rc = gv_error_set(err, GV_EIO, path, 0, 0, "cannot open: %s",
				  strerror(errno));
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		char *full = NULL;
		size_t len = 0;

		if (de->d_name[0] == '.')
			continue; /* ., .. and hidden files, as kubectl -R */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **p = realloc(names, ncap * sizeof(*names));

			if (!p) {
				rc = gv_error_set(err, GV_ENOMEM, path, 0, 0,
						  "out of memory");
				goto out;
			}
			names = p;
			cap = ncap;
		}
		len = strlen(path) + strlen(de->d_name) + 2;
		full = malloc(len);
		if (!full) {
			rc = gv_error_set(err, GV_ENOMEM, path, 0, 0,
					  "out of memory");
			goto out;
		}
		snprintf(full, len, "%s%s%s", path,
			 path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
		names[n++] = full;
	}
	if (n > 1) /* names is NULL in an empty directory */
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) != 0)
			continue; /* a dangling link is nothing to read */
		if (S_ISDIR(st.st_mode))
			rc = add_path(list, names[i], max, depth + 1, err);
		else if (S_ISREG(st.st_mode) && is_manifest_name(names[i]))
			rc = add_file(list, names[i], max, err);
		if (rc != GV_OK)
			goto out;
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dir)
		closedir(dir);
	return rc;
}

static int add_path(srv_inputs *list, const char *path, size_t max, int depth,
		    gv_error_t *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return gv_error_set(err, GV_EIO, path, 0, 0, "cannot open: %s",
				    strerror(errno));
	if (S_ISDIR(st.st_mode))
		return add_dir(list, path, max, depth, err);
	return add_file(list, path, max, err);
}

int srv_inputs_add(srv_inputs *list, const char *path, size_t max,
		   gv_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = GV_OK;

	if (strcmp(path, "-") != 0)
		return add_path(list, path, max, 0, err);
	rc = read_rc(
	    gv_read_fd(STDIN_FILENO, "<stdin>", max, NULL, &data, &len, err));
	if (rc != GV_OK)
		return rc;
	rc = push(list, "<stdin>", data, len);
	if (rc != GV_OK) {
		free(data);
		return gv_error_set(err, rc, "<stdin>", 0, 0, "out of memory");
	}
	return GV_OK;
}

void srv_inputs_release(srv_inputs *list)
{
	size_t i = 0;

	for (i = 0; i < list->n; i++) {
		free(list->items[i].name);
		free(list->items[i].data);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
	list->cap = 0;
}
