/* quantorctl migrate: apply the pending migrations and set the application user's grants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "q_migrate.h"

int
cmd_migrate(int argc, char **argv, struct ctl *c)
{
	struct q_migrate_opts o = {0};
	struct q_err err = {0};
	const struct q_config *cfg;
	const char *dir = NULL, *env;
	struct q_db *db = NULL;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strncmp(argv[i], "--dir=", 6) == 0 && argv[i][6] != '\0')
			dir = argv[i] + 6;
		else
			return ctl_usage("migrate");
	}
	cfg = ctl_config(c, &err);
	if (cfg == NULL)
		return ctl_fail(&err);
	env = getenv("QUANTOR_MIGRATIONS");
	if (dir == NULL && env != NULL && *env != '\0')
		dir = env;
	if (dir == NULL)
		dir = q_config_get(cfg, "db", "migrations_dir", Q_MIGRATE_DEFAULT_DIR);
	o.dir = dir;
	o.app_user = q_config_get(cfg, "db", "user", NULL);
	o.app_host = q_config_get(cfg, "db", "user_host", "localhost");
	o.out = stdout;
	db = ctl_db(c, 1, &err);
	if (db == NULL || q_migrate_run(db, &o, NULL, &err) < 0)
		goto out;
	rc = 0;
out:
	q_db_free(db);
	return rc ? ctl_fail(&err) : 0;
}
