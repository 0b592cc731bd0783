/*
 * quantorctl allowlist list
 * quantorctl allowlist add|remove [--telegram] ID... --reason TEXT
 *
 * The LIVE allowlist (gate 4). It holds Quantor user ids (users.id, as GET /api/v1/me shows
 * "user.id"); with --telegram the IDs are Telegram user ids, translated to the users they
 * signed in as (a Telegram id that never signed in is refused). Every change is recorded with
 * who and why, in settings and as "allowlist.changed" in the audit chain, and counts from the
 * next start request on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "q_arena.h"
#include "q_json.h"
#include "q_mem.h"
#include "q_settings.h"

static int
list(struct ctl *c)
{
	struct q_err err = {0};
	struct q_setting_meta meta;
	struct q_arena *a = q_arena_new();
	struct q_db *db = ctl_db(c, 0, &err);
	long long *ids;
	char at[32] = "never";
	size_t n;
	int rc = 1;

	if (db == NULL || q_settings_allowlist(db, a, &ids, &n, &meta, &err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		printf("%lld\n", ids[i]);
	(void)fflush(stdout); /* the ids before the summary when both go to one place */
	if (meta.updated_at_us)
		q_json_time_rfc3339(at, (time_t)(meta.updated_at_us / 1000000));
	fprintf(stderr, "%zu user%s on the LIVE allowlist; changed %s by %s: %s\n", n,
	        n == 1 ? "" : "s", at, meta.updated_by[0] ? meta.updated_by : "nobody",
	        meta.reason[0] ? meta.reason : "-");
	rc = 0;
out:
	q_db_free(db);
	q_arena_destroy(a);
	return rc ? ctl_fail(&err) : 0;
}

static int
parse_id(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out > 0;
}

int
cmd_allowlist(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const char *reason = NULL;
	enum q_allowlist_op op;
	long long *ids = NULL;
	size_t n = 0, count = 0;
	int telegram = 0, rc = 1;
	struct q_db *db = NULL;
	char actor[64];

	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return list(c);
	if (argc < 2)
		return ctl_usage("allowlist");
	if (strcmp(argv[1], "add") == 0)
		op = Q_ALLOWLIST_ADD;
	else if (strcmp(argv[1], "remove") == 0)
		op = Q_ALLOWLIST_REMOVE;
	else
		return ctl_usage("allowlist");
	ids = q_malloc((size_t)argc * sizeof(*ids));
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
			reason = argv[++i];
		} else if (strncmp(argv[i], "--reason=", 9) == 0) {
			reason = argv[i] + 9;
		} else if (strcmp(argv[i], "--telegram") == 0) {
			telegram = 1;
		} else if (parse_id(argv[i], &ids[n])) {
			n++;
		} else {
			free(ids);
			return ctl_usage("allowlist");
		}
	}
	if (n == 0 || reason == NULL) {
		free(ids);
		(void)fputs("quantorctl: name at least one id and say why: --reason TEXT\n",
		            stderr);
		return 2;
	}
	ctl_operator(actor);
	db = ctl_db(c, 0, &err);
	if (db == NULL || (telegram && q_settings_user_ids_of(db, ids, n, ids, &err) < 0) ||
	    q_settings_allowlist_change(db, op, ids, n, actor, reason, &count, &err) < 0)
		goto out;
	printf("%s %zu user%s: the LIVE allowlist now holds %zu (recorded as %s)\n",
	       op == Q_ALLOWLIST_ADD ? "added" : "removed", n, n == 1 ? "" : "s", count, actor);
	rc = 0;
out:
	q_db_free(db);
	free(ids);
	return rc ? ctl_fail(&err) : 0;
}
