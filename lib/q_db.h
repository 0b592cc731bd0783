/*
 * q_db: one MariaDB connection (Connector/C) with prepared statements only.
 *
 * A struct q_db owns one server session: utf8mb4, sql_mode strict, time_zone '+00:00',
 * autocommit on. It outlives the server: a lost connection (server restarted, connection
 * killed, idle timeout) is replaced by a fresh one on the next call, so a long-running process
 * recovers by itself once the server is back. While the server is down every call fails fast
 * with Q_E_DB_UNAVAILABLE (503).
 *
 * Reconnect rules. Outside a transaction a statement that fails because the connection is gone
 * is retried once on a new connection, when that is safe: the statement was never sent (2006,
 * server-reported kill or shutdown) or it is a SELECT. Inside a transaction nothing is retried:
 * the server already rolled the transaction back, so the call fails with Q_E_DB_UNAVAILABLE, and
 * every later call fails the same way until q_db_rollback(); the caller retries the whole
 * transaction. A connection idle for a second or more is pinged before use, so a write is not
 * sent blind into a connection the server closed meanwhile.
 *
 * Errors map to codes (the mysql errno stays available through q_db_errno()):
 *   1213 deadlock, 1020 snapshot conflict, 1205 lock wait timeout -> Q_E_DB_CONFLICT
 *        (retryable: roll back and run the transaction again; see q_db_err_retryable)
 *   1062/1586 duplicate key, 1451/1452 foreign key                -> Q_E_CONFLICT
 *   1142/1143/1044/1227 privilege denied                          -> Q_E_FORBIDDEN
 *   connection lost or refused, server shutting down, too many connections,
 *   and any connect failure                                       -> Q_E_DB_UNAVAILABLE
 *   anything else (syntax, strict-mode data errors, ...)          -> Q_E_INTERNAL
 * 4xx messages name no server detail beyond the key; 5xx messages carry the server's text (for
 * the log). No message ever holds a password.
 *
 * SQL text is always a constant with ? placeholders. Prepared statements are cached per
 * connection, keyed by the SQL text, so a hot path prepares once; the cache is dropped on
 * reconnect. One struct q_db is for one thread.
 */
#ifndef Q_DB_H
#define Q_DB_H

#include <stddef.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_err.h"

struct q_config;
struct st_mysql; /* MYSQL, for the migration runner only */

struct q_db;
struct q_stmt;

struct q_db_opts {
	const char *socket;         /* unix socket path; NULL or "" to use host + port */
	const char *host;           /* NULL: 127.0.0.1 */
	unsigned port;              /* 0: 3306 */
	const char *name;           /* database; NULL for none */
	const char *user;           /* required */
	const char *password;       /* NULL or "" for none */
	unsigned connect_timeout_s; /* 0: 5 */
	unsigned retries;           /* q_db_open: connect attempts after the first one */
	unsigned io_timeout_s;      /* read/write timeout per packet; 0: none */
};

/*
 * Fill o from the [db] section of cfg: socket, host, port, name, connect_timeout,
 * connect_retries and user + password_file, or admin_user + admin_password_file when admin is
 * non-zero. The password is read into password_storage (release it with
 * q_buf_release_secret()); the strings in o point into cfg and password_storage, so o is valid
 * while both live (q_db_open copies what it keeps). io_timeout_s is set to 60.
 * Returns 0, or -1 with Q_E_CONFIG (missing user, bad number) or the secret loader's error.
 */
int q_db_opts_from_config(struct q_db_opts *o, const struct q_config *cfg, int admin,
                          struct q_buf *password_storage, struct q_err *err);

/*
 * Connect, retrying connection-level failures (socket missing, refused, too many connections,
 * server starting) up to o->retries times with a backoff of 100 ms doubling to 2 s. Access
 * denied or an unknown database fail at once. Returns the handle (free with q_db_free), or NULL
 * with Q_E_DB_UNAVAILABLE "database unavailable: <server error>", or Q_E_CONFIG for bad opts.
 * The options are copied; the password is kept for reconnects and wiped on free.
 */
struct q_db *q_db_open(const struct q_db_opts *o, struct q_err *err);

/*
 * The same without connecting: the first call that needs the server connects (one attempt).
 * For a FastCGI worker that must start while the database is down. NULL only for bad opts.
 */
struct q_db *q_db_open_lazy(const struct q_db_opts *o, struct q_err *err);

/*
 * Close the connection and every statement (hand them back first), wipe the password, free.
 * NULL-safe.
 */
void q_db_free(struct q_db *db);

/*
 * Check the server answers, connecting or reconnecting first when needed (GET /health).
 * Returns 0, or -1 with Q_E_DB_UNAVAILABLE.
 */
int q_db_ping(struct q_db *db, struct q_err *err);

/* mysql errno of the last failed call on db, 0 when the last call succeeded. */
unsigned q_db_errno(const struct q_db *db);

/* 1 when err is a transient conflict (deadlock, snapshot, lock wait): retry the transaction. */
int q_db_err_retryable(const struct q_err *err);

/*
 * Transactions. q_db_begin turns autocommit off and starts a transaction (Q_E_INTERNAL when one
 * is already open); q_db_commit commits and q_db_rollback rolls back, both restoring autocommit.
 * A failed commit leaves the transaction open: call q_db_rollback. q_db_rollback always leaves
 * db outside a transaction; it returns 0 when the connection was lost too (the server has rolled
 * back), -1 only when the server refused the rollback on a live connection.
 */
int q_db_begin(struct q_db *db, struct q_err *err);
int q_db_commit(struct q_db *db, struct q_err *err);
int q_db_rollback(struct q_db *db, struct q_err *err);
int q_db_in_tx(const struct q_db *db);

/*
 * Run fn(db, arg, err) inside a transaction: begin, fn, commit; on failure roll back. When the
 * failure is a transient conflict (q_db_err_retryable: deadlock, snapshot, lock wait), run the
 * whole transaction again, up to Q_DB_TX_ATTEMPTS times with a short jittered backoff, so fn
 * must only touch the database (and its own output, rewritten on each run). Called inside an
 * open transaction, fn simply joins it (the outer q_db_tx commits and retries). 0, or -1 with
 * the error of the last run.
 */
#define Q_DB_TX_ATTEMPTS 6
typedef int (*q_db_tx_fn)(struct q_db *db, void *arg, struct q_err *err);
int q_db_tx(struct q_db *db, q_db_tx_fn fn, void *arg, struct q_err *err);

/* AUTO_INCREMENT id generated by the last statement executed on db (0 when none). */
unsigned long long q_db_insert_id(const struct q_db *db);

/*
 * Statements.
 *
 * q_db_prepare returns the cached statement for sql (preparing it when needed), or NULL with
 * the error mapped as above: an SQL error is Q_E_INTERNAL, a table the user may not touch is
 * already Q_E_FORBIDDEN here (the server checks privileges at prepare). The statement belongs to
 * db: hand it back with q_stmt_done() when finished, on every path. Using the same SQL again
 * before q_stmt_done (recursion) gets a separate, uncached statement.
 *
 * Parameters are numbered from 0 in the order of the ?s. The bind calls never fail: a bad index
 * or value is reported by the next q_stmt_exec (Q_E_INTERNAL, or Q_E_BAD_REQUEST for a malformed
 * decimal), as is a parameter left unbound. Numbers are copied; text and blob pointers are not,
 * and must stay valid until q_stmt_exec returns. Bindings stay in place between executions.
 */
struct q_stmt *q_db_prepare(struct q_db *db, const char *sql, struct q_err *err);

void q_stmt_bind_int64(struct q_stmt *st, unsigned idx, long long v);
void q_stmt_bind_uint64(struct q_stmt *st, unsigned idx, unsigned long long v);
void q_stmt_bind_double(struct q_stmt *st, unsigned idx, double v);
/* Text of len bytes, or NUL-terminated (_str); a NULL s binds SQL NULL. */
void q_stmt_bind_text(struct q_stmt *st, unsigned idx, const char *s, size_t len);
void q_stmt_bind_str(struct q_stmt *st, unsigned idx, const char *s);
void q_stmt_bind_blob(struct q_stmt *st, unsigned idx, const void *p, size_t len);
void q_stmt_bind_null(struct q_stmt *st, unsigned idx);
/*
 * An exact decimal string ("-12.5", "0.000001": digits, an optional leading '-', at most one
 * '.' between digits), sent as DECIMAL so the server never rounds it through a double.
 */
void q_stmt_bind_decimal(struct q_stmt *st, unsigned idx, const char *s);
/* Microseconds since the Unix epoch, as a DATETIME(6) in UTC. */
void q_stmt_bind_time_us(struct q_stmt *st, unsigned idx, long long us);

/*
 * Execute with the current bindings. A statement that returns rows has them all buffered on
 * the client, so other statements may run while they are read. Returns 0, or -1 (see the code
 * mapping above). Executing again discards unread rows.
 */
int q_stmt_exec(struct q_stmt *st, struct q_err *err);

/*
 * Execute, leaving the rows on the server: each q_stmt_fetch reads one row off the wire, so
 * memory stays constant however many rows the query returns (the audit chain's verification
 * reads every row this way). Until the last row has been fetched (q_stmt_fetch returned 0 or
 * -1) or the statement is reset or done, the connection is busy: any other call on db that
 * talks to the server fails with Q_E_INTERNAL, except q_db_rollback, which discards the
 * unread rows first. q_stmt_affected is -1 for a streamed result. Returns 0, or -1 as
 * q_stmt_exec.
 */
int q_stmt_exec_stream(struct q_stmt *st, struct q_err *err);

/*
 * Rows changed by an INSERT/UPDATE/DELETE (an UPDATE counts rows matched, changed or not), or
 * rows buffered for a SELECT.
 */
long long q_stmt_affected(const struct q_stmt *st);
/* Next row: 1 = a row is current, 0 = no more rows, -1 = error (mapped as above). */
int q_stmt_fetch(struct q_stmt *st, struct q_err *err);
unsigned q_stmt_ncols(const struct q_stmt *st);

/*
 * Columns of the current row, numbered from 0. A NULL or out-of-range column reads as 0, 0.0
 * or NULL text. Numbers convert as C would, text is parsed with strtoll/strtod (a DECIMAL read
 * as double rounds: read DECIMAL as text to keep it exact). DATETIME and TIMESTAMP read as text
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" (DATE as "YYYY-MM-DD"), as microseconds since the epoch (UTC)
 * with q_stmt_col_time_us, and as epoch seconds with q_stmt_col_int64.
 */
int q_stmt_col_null(const struct q_stmt *st, unsigned col);
long long q_stmt_col_int64(const struct q_stmt *st, unsigned col);
unsigned long long q_stmt_col_uint64(const struct q_stmt *st, unsigned col);
double q_stmt_col_double(const struct q_stmt *st, unsigned col);
long long q_stmt_col_time_us(const struct q_stmt *st, unsigned col);
/*
 * The value as text of any length (binary-safe, NUL-terminated), valid until the next fetch,
 * exec or done; NULL for SQL NULL. *len (optional) gets its length.
 */
const char *q_stmt_col_text(const struct q_stmt *st, unsigned col, size_t *len);
/*
 * Copy the text into out (NUL-terminated). Returns its length, or -1 with Q_E_INTERNAL when it
 * does not fit in outlen (nothing is truncated silently). NULL copies as "".
 */
long long q_stmt_col_copy(const struct q_stmt *st, unsigned col, char *out, size_t outlen,
                          struct q_err *err);
/* A copy in arena a (NUL-terminated), NULL for SQL NULL; *len optional. */
char *q_stmt_col_strdup(const struct q_stmt *st, unsigned col, struct q_arena *a, size_t *len);

/* Discard unread rows so the statement can be executed again; bindings are kept. */
void q_stmt_reset(struct q_stmt *st);
/* Hand the statement back to db (reset, bindings cleared). NULL-safe; call on every path. */
void q_stmt_done(struct q_stmt *st);

/*
 * Varargs helpers for the common case. types has one letter per ? in order:
 *   i long long   u unsigned long long   d double   s const char * (NULL -> SQL NULL)
 *   b const void *, size_t (blob)   m const char * decimal   t long long us since epoch
 *   n SQL NULL (takes no argument)
 * The arguments must have exactly these types (0LL, not 0, for an i): varargs cannot check. A
 * type string that does not match the placeholder count is Q_E_INTERNAL.
 * q_db_exec runs a statement and returns the rows affected (>= 0, see q_stmt_affected) or -1.
 */
long long q_db_exec(struct q_db *db, struct q_err *err, const char *sql, const char *types, ...);

/*
 * Run a query and read its first row. types lists the parameters as for q_db_exec, then '>'
 * and one letter per column read:
 *   i long long *   u unsigned long long *   d double *   t long long * (us since epoch)
 *   s char *buf, size_t size (NUL-terminated; too long is Q_E_INTERNAL, never truncated)
 *   b struct q_buf * (replaced by the value, any length)
 * A NULL column reads as 0 or "". Returns 1 with the outputs set, 0 when there is no row
 * (outputs untouched), -1 on error. Write LIMIT 1 when more rows could match.
 *   q_db_row(db, err, "SELECT id, plan FROM users WHERE telegram_id = ?", "i>is", tg, &id,
 *            plan, sizeof(plan));
 */
int q_db_row(struct q_db *db, struct q_err *err, const char *sql, const char *types, ...);

/*
 * The raw connection (MYSQL *), connected (one attempt) if needed, or NULL with
 * Q_E_DB_UNAVAILABLE. Only the migration runner uses it, to run the statements of migration
 * files with mysql_real_query; everything else goes through q_stmt. Valid until the next call
 * on db.
 */
struct st_mysql *q_db_raw(struct q_db *db, struct q_err *err);

#endif
