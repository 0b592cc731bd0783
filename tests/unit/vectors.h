/*
 * Vector files for the unit tests (tests/vectors/): records separated by blank lines, one
 * "name = value" per line, '#' comments. The test binaries run from the repository root;
 * QUANTOR_SRC names another root. Header-only: each test binary is one file.
 */
#ifndef Q_TEST_VECTORS_H
#define Q_TEST_VECTORS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 32

struct record {
	char *name[MAX_FIELDS];
	char *value[MAX_FIELDS];
	int n;
};

static FILE *
vec_open(const char *file)
{
	const char *root = getenv("QUANTOR_SRC");
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/vectors/%s", root && *root ? root : ".", file);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open %s (run from the repo root or set QUANTOR_SRC)", path);
	return f;
}

static void
rec_release(struct record *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->name[i]);
		free(r->value[i]);
	}
	r->n = 0;
}

/* The next record of f into r (released first); 0 at the end of the file. */
static int
rec_next(FILE *f, struct record *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	rec_release(r);
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *eq;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#')
			continue;
		if (len == 0) {
			if (r->n > 0)
				break;
			continue;
		}
		eq = strstr(line, " =");
		cr_assert_not_null(eq, "vector line without ' =': %s", line);
		cr_assert_lt(r->n, MAX_FIELDS);
		r->name[r->n] = strndup(line, (size_t)(eq - line));
		eq += 2;
		if (*eq == ' ')
			eq++;
		r->value[r->n] = strdup(eq);
		r->n++;
	}
	free(line);
	return r->n > 0;
}

static const char *
rec_get(const struct record *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

static const char *
rec_need(const struct record *r, const char *name)
{
	const char *v = rec_get(r, name), *src = rec_get(r, "source");

	cr_assert_not_null(v, "vector record (%s) lacks '%s'", src ? src : "no source", name);
	return v;
}

#endif
