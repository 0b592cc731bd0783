/*
 * q_migrate: applies sql/migrations/NNNN_name.sql in order and keeps the application user's
 * privileges least.
 *
 * Each file is applied once, as the migration owner (the admin user), and recorded in
 * schema_migrations (version, name, SHA-256 hex of the file bytes, applied_at), which the runner
 * creates itself. Files are split into statements on ';' outside quotes and comments (no
 * DELIMITER: a file cannot hold stored-program bodies) and each statement is sent on its own,
 * so a failure names the file, the statement number and its line. MariaDB commits DDL at once,
 * so a migration that fails half way stays half applied and unrecorded: the error says so.
 *
 * Before applying anything the runner checks the history: an applied migration whose file
 * changed, was renamed or is missing, or a pending one numbered below the newest applied one,
 * stops the run with Q_E_CONFIG and nothing is applied. Two runners on one database serialise on
 * a named lock.
 *
 * Then the application user gets exactly: SELECT, INSERT, UPDATE, DELETE on every table, except
 * audit_log (SELECT, INSERT), audit_head (SELECT, UPDATE) and schema_migrations (SELECT); every
 * other privilege on those tables and any database-wide grant is revoked. Table names come from
 * information_schema; GRANT cannot take placeholders, so the names (and the user) must match
 * [A-Za-z0-9_]+ before they are written into the statement.
 */
#ifndef Q_MIGRATE_H
#define Q_MIGRATE_H

#include <stdio.h>

#include "q_db.h"
#include "q_err.h"

#define Q_MIGRATE_DEFAULT_DIR "/usr/local/share/quantor/sql/migrations"

struct q_migrate_opts {
	const char *dir;      /* the migrations directory */
	const char *app_user; /* receives the least-privilege grants; NULL or "": no grants */
	const char *app_host; /* host part of the application account; NULL: "localhost" */
	FILE *out; /* one progress line per applied migration, and a summary; may be NULL */
};

struct q_migrate_result {
	int applied;                /* migrations applied by this run */
	int total;                  /* migrations recorded after the run */
	unsigned long long version; /* highest applied version, 0 when none */
};

/*
 * Bring the database admin is connected to up to date with o->dir, then apply the grants.
 * res (optional) is filled even on failure (what was applied before it). Returns 0, or -1 with
 * Q_E_CONFIG (bad directory or file name, changed/missing/out-of-order migration), Q_E_INTERNAL
 * (a statement failed; the message names file, statement and line), Q_E_IO or a q_db error.
 */
int q_migrate_run(struct q_db *admin, const struct q_migrate_opts *o, struct q_migrate_result *res,
                  struct q_err *err);

/*
 * The grants alone (see above) for user@host (host NULL: "localhost") on admin's current
 * database. Returns the number of tables granted on, or -1 (Q_E_BAD_REQUEST for a name that
 * fails validation, a q_db error otherwise).
 */
int q_migrate_grant(struct q_db *admin, const char *user, const char *host, struct q_err *err);

#endif
