#include "q_migrate.h"
#include "q_buf.h"
#include "q_crypto.h"
#include "q_mem.h"
#include "q_plans.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE_SIZE (16L * 1024 * 1024)

struct mig {
	unsigned long long version;
	char *name; /* file name, e.g. 0001_init.sql */
	struct q_buf text;
	char sum[2 * Q_SHA256_LEN + 1];
};

struct applied {
	unsigned long long version;
	char name[256];
	char sum[2 * Q_SHA256_LEN + 1];
};

static const char sql_create_history[] =
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version BIGINT UNSIGNED NOT NULL,"
        " name VARCHAR(255) NOT NULL,"
        " checksum CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
        " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
        " PRIMARY KEY (version)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
static const char sql_lock[] = "SELECT GET_LOCK(CONCAT('quantor_migrate.', DATABASE()), ?)";
static const char sql_unlock[] = "SELECT RELEASE_LOCK(CONCAT('quantor_migrate.', DATABASE()))";
static const char sql_history[] =
        "SELECT version, name, checksum FROM schema_migrations ORDER BY version";
static const char sql_record[] =
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)";
static const char sql_database[] = "SELECT DATABASE()";
static const char sql_has_plans[] = "SELECT COUNT(*) FROM information_schema.TABLES"
                                    " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'plans'";
static const char sql_tables[] = "SELECT TABLE_NAME FROM information_schema.TABLES"
                                 " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
                                 " ORDER BY TABLE_NAME";

static size_t
plans_count(void)
{
	size_t n;

	q_plans_all(&n);
	return n;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void progress(const struct q_migrate_opts *o, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
progress(const struct q_migrate_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->out == NULL)
		return;
	va_start(ap, fmt);
	(void)vfprintf(o->out, fmt, ap);
	va_end(ap);
	(void)fputc('\n', o->out);
	(void)fflush(o->out);
}

/* ---- files ------------------------------------------------------------------------------- */

static int
read_file(int dirfd, const char *name, struct q_buf *out, struct q_err *err)
{
	char chunk[8192];
	struct stat sb;
	int fd, rc = -1;
	ssize_t n;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return q_err_set(err, Q_E_IO, "%s: %s", name, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		q_err_set(err, Q_E_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > MAX_FILE_SIZE) {
		q_err_set(err, Q_E_CONFIG, "%s: not a regular file of at most %ld bytes", name,
		          MAX_FILE_SIZE);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			q_err_set(err, Q_E_IO, "%s: %s", name, strerror(errno));
			goto out;
		}
		if (out->len + (size_t)n > (size_t)MAX_FILE_SIZE) {
			q_err_set(err, Q_E_CONFIG, "%s: larger than %ld bytes", name,
			          MAX_FILE_SIZE);
			goto out;
		}
		q_buf_add(out, chunk, (size_t)n);
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* "0001_init.sql" -> 1. Returns 0 when name is not NNNN_name.sql with a sane name part. */
static int
parse_name(const char *name, unsigned long long *version)
{
	const char *p = name;
	size_t len = strlen(name), digits;

	digits = strspn(p, "0123456789");
	if (digits == 0 || digits > 18 || p[digits] != '_' || len < digits + 6 ||
	    strcmp(name + len - 4, ".sql") != 0)
		return 0;
	for (p = name + digits + 1; p < name + len - 4; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return 0;
	*version = strtoull(name, NULL, 10);
	return 1;
}

static int
by_version(const void *a, const void *b)
{
	const struct mig *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

static void
migs_free(struct mig *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		q_buf_release(&m[i].text);
	}
	free(m);
}

/* Every NNNN_name.sql in dir, read and checksummed, sorted by version. */
static int
scan(const char *dir, struct mig **out, size_t *nout, struct q_err *err)
{
	struct mig *m = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	uint8_t digest[Q_SHA256_LEN];
	DIR *d = opendir(dir);
	int rc = -1;

	if (d == NULL)
		return q_err_set(err, Q_E_CONFIG, "migrations directory %s: %s", dir,
		                 strerror(errno));
	while ((errno = 0, de = readdir(d)) != NULL) {
		unsigned long long v;
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		if (!parse_name(de->d_name, &v)) {
			q_err_set(
			        err, Q_E_CONFIG,
			        "%s/%s: a migration is named NNNN_name.sql (name: A-Z a-z 0-9 _ - .)",
			        dir, de->d_name);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			m = q_realloc(m, cap * sizeof(*m));
		}
		memset(&m[n], 0, sizeof(m[n]));
		m[n].version = v;
		m[n].name = q_strdup(de->d_name);
		q_buf_init(&m[n].text);
		n++;
		if (read_file(dirfd(d), de->d_name, &m[n - 1].text, err) < 0)
			goto out;
		q_sha256(digest, m[n - 1].text.data, m[n - 1].text.len);
		q_hex_encode(m[n - 1].sum, digest, sizeof(digest));
	}
	if (errno != 0) {
		q_err_set(err, Q_E_IO, "migrations directory %s: %s", dir, strerror(errno));
		goto out;
	}
	if (n > 0)
		qsort(m, n, sizeof(*m), by_version);
	for (size_t i = 1; i < n; i++)
		if (m[i].version == m[i - 1].version) {
			q_err_set(err, Q_E_CONFIG, "%s: %s and %s have the same number", dir,
			          m[i - 1].name, m[i].name);
			goto out;
		}
	rc = 0;
out:
	closedir(d);
	if (rc < 0) {
		migs_free(m, n);
		return -1;
	}
	*out = m;
	*nout = n;
	return 0;
}

/* ---- statements -------------------------------------------------------------------------- */

struct splitter {
	const char *p, *end;
	int line;
};

struct sql_piece {
	const char *text;
	size_t len;
	int line;
};

/*
 * The next statement: text from its first token up to (not including) the ';' that ends it
 * outside quotes and comments, or the end of the file. Returns 1 with *out set, 0 at the end,
 * -1 with err set for an unterminated quote or comment.
 */
static int
next_statement(struct splitter *s, struct sql_piece *out, const char *file, struct q_err *err)
{
	const char *start = NULL;
	char quote = 0;
	int comment = 0; /* 1: to end of line, 2: block */
	int open_line = 0;

	for (; s->p < s->end; s->p++) {
		char c = *s->p, n = s->p + 1 < s->end ? s->p[1] : '\0';

		if (c == '\n')
			s->line++;
		if (comment == 1) {
			if (c == '\n')
				comment = 0;
			continue;
		}
		if (comment == 2) {
			if (c == '*' && n == '/') {
				comment = 0;
				s->p++;
			}
			continue;
		}
		if (quote) {
			if (c == '\\' && quote != '`' && s->p + 1 < s->end) {
				if (n == '\n')
					s->line++;
				s->p++;
			} else if (c == quote) {
				quote = 0;
			}
			continue;
		}
		if (c == '#' || (c == '-' && n == '-' &&
		                 (s->p + 2 >= s->end || s->p[2] == ' ' || s->p[2] == '\t' ||
		                  s->p[2] == '\n' || s->p[2] == '\r'))) {
			comment = 1;
			open_line = s->line;
			continue;
		}
		if (c == '/' && n == '*') {
			/* A MariaDB executable comment is code: the server reads it. */
			if (start == NULL && s->p + 2 < s->end && s->p[2] == '!')
				start = s->p;
			comment = 2;
			open_line = s->line;
			s->p++;
			continue;
		}
		if (c == ';') {
			if (start != NULL) {
				out->text = start;
				out->len = (size_t)(s->p - start);
				s->p++;
				return 1;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (start == NULL) {
			start = s->p;
			out->line = s->line;
		}
		if (c == '\'' || c == '"' || c == '`') {
			quote = c;
			open_line = s->line;
		}
	}
	if (quote || comment == 2)
		return q_err_set(err, Q_E_CONFIG, "%s:%d: unterminated %s", file, open_line,
		                 quote ? "quoted string" : "comment");
	if (start == NULL)
		return 0;
	out->text = start;
	out->len = (size_t)(s->end - start);
	return 1;
}

/* Run one statement on the raw connection and drain whatever it returns. */
static int
run_statement(MYSQL *my, const struct sql_piece *st)
{
	MYSQL_RES *res;

	if (mysql_real_query(my, st->text, (unsigned long)st->len) != 0)
		return -1;
	res = mysql_store_result(my);
	if (res != NULL)
		mysql_free_result(res);
	else if (mysql_field_count(my) != 0)
		return -1;
	return 0;
}

static int
apply(struct q_db *db, const struct q_migrate_opts *o, const struct mig *m, struct q_err *err)
{
	struct splitter s = {m->text.data, m->text.data + m->text.len, 1};
	struct sql_piece st = {0};
	long long t0 = now_ms();
	int n = 0, rc;
	MYSQL *my;

	while ((rc = next_statement(&s, &st, m->name, err)) == 1) {
		n++;
		if (st.len >= 9 && strncasecmp(st.text, "DELIMITER", 9) == 0)
			return q_err_set(
			        err, Q_E_CONFIG,
			        "%s:%d: DELIMITER is a client command; migrations cannot hold "
			        "stored programs",
			        m->name, st.line);
		my = q_db_raw(db, err);
		if (my == NULL)
			return -1;
		if (run_statement(my, &st) < 0) {
			q_err_set(err, Q_E_INTERNAL,
			          "%s: statement %d (line %d) failed: %s (mysql %u)", m->name, n,
			          st.line, mysql_error(my), mysql_errno(my));
			if (n == 2)
				progress(o,
				         "%s: statement 1 before it stays applied (DDL commits at "
				         "once); undo or finish it by hand, then rerun",
				         m->name);
			else if (n > 2)
				progress(
				        o,
				        "%s: statements 1 to %d before it stay applied (DDL "
				        "commits at once); undo or finish them by hand, then rerun",
				        m->name, n - 1);
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (q_db_exec(db, err, sql_record, "uss", m->version, m->name, m->sum) < 0)
		return -1;
	progress(o, "applied %s (%d statement%s, %lld ms)", m->name, n, n == 1 ? "" : "s",
	         now_ms() - t0);
	return 0;
}

/* ---- history ----------------------------------------------------------------------------- */

static int
load_history(struct q_db *db, struct applied **out, size_t *nout, struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_history, err);
	struct applied *a = NULL;
	size_t n = 0, cap = 0;
	int rc = -1, r;

	if (st == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			a = q_realloc(a, cap * sizeof(*a));
		}
		a[n].version = q_stmt_col_uint64(st, 0);
		if (q_stmt_col_copy(st, 1, a[n].name, sizeof(a[n].name), err) < 0 ||
		    q_stmt_col_copy(st, 2, a[n].sum, sizeof(a[n].sum), err) < 0)
			goto out;
		n++;
	}
	if (r < 0)
		goto out;
	rc = 0;
out:
	q_stmt_done(st);
	if (rc < 0) {
		free(a);
		return -1;
	}
	*out = a;
	*nout = n;
	return 0;
}

static const struct mig *
find(const struct mig *m, size_t n, unsigned long long version)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].version == version)
			return &m[i];
	return NULL;
}

/* Refuse to go on when the recorded history and the files disagree. */
static int
check_history(const char *dir, const struct applied *a, size_t na, const struct mig *m, size_t nm,
              struct q_err *err)
{
	unsigned long long newest = na ? a[na - 1].version : 0;

	for (size_t i = 0; i < na; i++) {
		const struct mig *f = find(m, nm, a[i].version);

		if (f == NULL)
			return q_err_set(
			        err, Q_E_CONFIG,
			        "applied migration %s is missing from %s; restore the file",
			        a[i].name, dir);
		if (strcmp(f->name, a[i].name) != 0)
			return q_err_set(err, Q_E_CONFIG,
			                 "migration %s was applied as %s; rename it back", f->name,
			                 a[i].name);
		if (strcmp(f->sum, a[i].sum) != 0)
			return q_err_set(
			        err, Q_E_CONFIG,
			        "migration %s changed after it was applied: recorded sha256 %s, "
			        "file has %s; add a new migration instead",
			        f->name, a[i].sum, f->sum);
	}
	for (size_t i = 0; i < nm; i++) {
		int done = 0;

		for (size_t j = 0; j < na && !done; j++)
			done = a[j].version == m[i].version;
		if (!done && m[i].version < newest)
			return q_err_set(
			        err, Q_E_CONFIG,
			        "pending migration %s is numbered below the newest applied "
			        "one (%llu); renumber it",
			        m[i].name, newest);
	}
	return 0;
}

/* ---- grants ------------------------------------------------------------------------------ */

static int
valid_ident(const char *s, const char *extra)
{
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (extra && strchr(extra, *s))))
			return 0;
	return 1;
}

static const struct {
	const char *table;
	const char *grant;
	const char *revoke; /* beyond the DDL privileges every table loses */
} table_privs[] = {
        {"audit_log", "SELECT, INSERT", "UPDATE, DELETE, "},
        {"audit_head", "SELECT, UPDATE", "INSERT, DELETE, "},
        /* A published checkpoint is what catches a chain rewritten from genesis: never deleted. */
        {"audit_checkpoints", "SELECT, INSERT, UPDATE", "DELETE, "},
        {"schema_migrations", "SELECT", "INSERT, UPDATE, DELETE, "},
        /* The plan catalog is code's (q_plans_seed, run here as the owner): read-only. */
        {"plans", "SELECT", "INSERT, UPDATE, DELETE, "},
};

static const char ddl_privs[] = "ALTER, CREATE, CREATE VIEW, DROP, INDEX, REFERENCES, SHOW VIEW, "
                                "TRIGGER, DELETE HISTORY, GRANT OPTION";

/* One GRANT/REVOKE built from validated names; ignore is an errno that counts as success. */
static int
run_grant(struct q_db *db, struct q_buf *sql, unsigned ignore, struct q_err *err)
{
	MYSQL *my = q_db_raw(db, err);

	if (my == NULL)
		return -1;
	if (mysql_real_query(my, sql->data, (unsigned long)sql->len) != 0 &&
	    mysql_errno(my) != ignore)
		return q_err_set(err, Q_E_INTERNAL, "%s failed: %s (mysql %u)", sql->data,
		                 mysql_error(my), mysql_errno(my));
	return 0;
}

int
q_migrate_grant(struct q_db *db, const char *user, const char *host, struct q_err *err)
{
	struct q_buf sql = Q_BUF_INIT;
	char dbname[65], table[65];
	struct q_stmt *st = NULL;
	int n = 0, r, rc = -1;

	host = host ? host : "localhost";
	if (!valid_ident(user, NULL))
		return q_err_set(err, Q_E_BAD_REQUEST,
		                 "database user name must match [A-Za-z0-9_]+");
	if (!valid_ident(host, ".%:-"))
		return q_err_set(err, Q_E_BAD_REQUEST,
		                 "database user host must match [A-Za-z0-9_.%%:-]+");
	r = q_db_row(db, err, sql_database, ">s", dbname, sizeof(dbname));
	if (r < 0)
		return -1;
	if (r == 0 || !valid_ident(dbname, NULL))
		return q_err_set(err, Q_E_BAD_REQUEST, "database name must match [A-Za-z0-9_]+");
	/* A database-wide grant would override the per-table ones: there must be none. */
	q_buf_printf(&sql, "REVOKE ALL PRIVILEGES ON `%s`.* FROM '%s'@'%s'", dbname, user, host);
	if (run_grant(db, &sql, ER_NONEXISTING_GRANT, err) < 0)
		goto out;
	st = q_db_prepare(db, sql_tables, err);
	if (st == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		const char *grant = "SELECT, INSERT, UPDATE, DELETE", *revoke = "";

		if (q_stmt_col_copy(st, 0, table, sizeof(table), err) < 0)
			goto out;
		if (!valid_ident(table, NULL)) {
			q_err_set(err, Q_E_BAD_REQUEST,
			          "table name %s does not match [A-Za-z0-9_]+", table);
			goto out;
		}
		for (size_t i = 0; i < sizeof(table_privs) / sizeof(table_privs[0]); i++)
			if (strcmp(table, table_privs[i].table) == 0) {
				grant = table_privs[i].grant;
				revoke = table_privs[i].revoke;
			}
		/* Grant first, then revoke the rest: the user never lacks what it needs. */
		q_buf_reset(&sql);
		q_buf_printf(&sql, "GRANT %s ON `%s`.`%s` TO '%s'@'%s'", grant, dbname, table, user,
		             host);
		if (run_grant(db, &sql, 0, err) < 0)
			goto out;
		q_buf_reset(&sql);
		q_buf_printf(&sql, "REVOKE %s%s ON `%s`.`%s` FROM '%s'@'%s'", revoke, ddl_privs,
		             dbname, table, user, host);
		if (run_grant(db, &sql, 0, err) < 0)
			goto out;
		n++;
	}
	if (r < 0)
		goto out;
	rc = n;
out:
	q_stmt_done(st);
	q_buf_release(&sql);
	return rc;
}

/* ---- the run ----------------------------------------------------------------------------- */

int
q_migrate_run(struct q_db *db, const struct q_migrate_opts *o, struct q_migrate_result *res,
              struct q_err *err)
{
	struct q_migrate_result r = {0};
	struct applied *a = NULL;
	struct mig *m = NULL;
	size_t na = 0, nm = 0;
	int locked = 0, rc = -1, granted = 0;
	long long got;

	q_crypto_init();
	if (scan(o->dir, &m, &nm, err) < 0)
		goto out;
	if (q_db_row(db, err, sql_lock, "i>i", 60LL, &got) < 0)
		goto out;
	if (got != 1) {
		q_err_set(err, Q_E_DB_CONFLICT, "another migration run holds the lock; try again");
		goto out;
	}
	locked = 1;
	if (q_db_exec(db, err, sql_create_history, "") < 0 || load_history(db, &a, &na, err) < 0)
		goto out;
	r.total = (int)na;
	r.version = na ? a[na - 1].version : 0;
	if (check_history(o->dir, a, na, m, nm, err) < 0)
		goto out;
	for (size_t i = 0; i < nm; i++) {
		int done = 0;

		for (size_t j = 0; j < na && !done; j++)
			done = a[j].version == m[i].version;
		if (done)
			continue;
		if (apply(db, o, &m[i], err) < 0)
			goto out;
		r.applied++;
		r.total++;
		r.version = m[i].version;
	}
	/* The plan catalog lives in code; the table follows it on every run (idempotent). */
	if (q_db_row(db, err, sql_has_plans, ">i", &got) < 0 || (got && q_plans_seed(db, err) < 0))
		goto out;
	if (got)
		progress(o, "plans: the catalog's %zu plans seeded", plans_count());
	if (o->app_user && *o->app_user) {
		granted = q_migrate_grant(db, o->app_user, o->app_host, err);
		if (granted < 0)
			goto out;
		progress(o, "privileges of '%s'@'%s': set on %d tables", o->app_user,
		         o->app_host ? o->app_host : "localhost", granted);
	}
	if (r.applied == 0)
		progress(o, "schema up to date (%d migration%s)", r.total, r.total == 1 ? "" : "s");
	else
		progress(o, "migrated: %d applied, schema at %04llu (%d migration%s)", r.applied,
		         r.version, r.total, r.total == 1 ? "" : "s");
	rc = 0;
out:
	if (locked) {
		struct q_err ignored = {0};
		long long rel;

		/* The lock also ends with the session: a failure to release it changes nothing. */
		q_db_row(db, &ignored, sql_unlock, ">i", &rel);
	}
	free(a);
	migs_free(m, nm);
	if (res)
		*res = r;
	return rc;
}
