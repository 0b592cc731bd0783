#include "q_db.h"
#include "q_config.h"
#include "q_log.h"
#include "q_mem.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define CACHE_BUCKETS 64
#define CACHE_MAX 256        /* statements kept per connection; more are prepared per use */
#define IDLE_PING_MS 1000    /* ping a connection idle this long before using it */
#define BACKOFF_FIRST_MS 100 /* q_db_open: first pause between attempts, doubling */
#define BACKOFF_MAX_MS 2000
#define HOLDOFF_MAX_MS 1000 /* after a failed reconnect, fail fast for up to this long */
#define TEXT_INITIAL 128    /* first buffer for a text column; grows to the longest value */

/*
 * Session settings, sent by the connector at every (re)connect. Strict mode makes the server
 * refuse bad data instead of truncating it; UTC makes DATETIME and TIMESTAMP mean the same.
 */
static const char session_init[] =
        "SET time_zone = '+00:00', autocommit = 1, sql_mode = 'STRICT_ALL_TABLES,"
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
        "NO_ENGINE_SUBSTITUTION,NO_AUTO_CREATE_USER,ONLY_FULL_GROUP_BY'";

enum kind { K_TEXT, K_INT, K_UINT, K_DOUBLE, K_TIME };

union num {
	long long i;
	unsigned long long u;
	double d;
	MYSQL_TIME t;
};

struct param {
	int set;
	union num v;
	unsigned long len;
};

struct col {
	enum kind kind;
	union num v;
	char *buf; /* K_TEXT: capacity cap, always room for a NUL after len */
	unsigned long cap;
	unsigned long len;
	unsigned decimals;
	enum enum_field_types type;
	my_bool is_null;
	my_bool error;
	char num[48]; /* text form of a non-text column */
};

struct q_stmt {
	struct q_db *db;
	struct q_stmt *next, *prev; /* every statement of db */
	struct q_stmt *hnext;       /* cache bucket chain */
	char *sql;
	uint32_t hash;
	int cached, busy, readonly;
	MYSQL_STMT *h; /* NULL until prepared on the current connection */
	unsigned gen;  /* db->gen when h was prepared */
	unsigned nparams;
	MYSQL_BIND *pb;
	struct param *pv;
	unsigned ncols, colcap;
	MYSQL_BIND *cb;
	struct col *cv;
	int rows;   /* a result is buffered, or being streamed */
	int stream; /* the result is read from the server row by row (q_stmt_exec_stream) */
	long long affected;
	enum q_code bad; /* deferred bind error */
	char bad_msg[128];
};

struct q_db {
	MYSQL *my; /* NULL while disconnected */
	char *socket, *host, *name, *user;
	struct q_buf password;
	unsigned port, connect_timeout_s, io_timeout_s, retries;
	unsigned gen;
	int in_tx, tx_lost;
	long long last_ok_ms, holdoff_until_ms;
	unsigned fails;
	unsigned last_errno;
	char last_error[512];
	unsigned long long insert_id;
	struct q_stmt *stmts;
	struct q_stmt *streaming; /* its rows are still on the wire: nothing else may run */
	struct q_stmt *bucket[CACHE_BUCKETS];
	unsigned ncached;
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static char *
dup_or_null(const char *s)
{
	return s && *s ? q_strdup(s) : NULL;
}

/* ---- errors ------------------------------------------------------------------------------ */

/* The connection is gone or cannot be made: reconnecting is the cure. */
static int
conn_error(unsigned e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_STMT_CLOSED:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_CON_COUNT_ERROR:
		return 1;
	}
	return 0;
}

/*
 * Whether a statement that failed with e may be sent again on a new connection: only when it
 * cannot have run (the request never left, or the server said it did not run it), or when it
 * only reads. A write lost in flight (2013) may have committed; sending it again could apply
 * it twice.
 */
static int
retry_safe(unsigned e, int readonly)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_STMT_CLOSED:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
		return 1;
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
		return readonly;
	}
	return 0;
}

static void
capture(struct q_db *db, unsigned e, const char *text)
{
	db->last_errno = e;
	(void)snprintf(db->last_error, sizeof(db->last_error), "%s",
	               text && *text ? text : "unknown error");
}

static void drop_connection(struct q_db *db);

/* "Duplicate entry 'x' for key 'name'" -> name, for a message that shows no value. */
static void
dup_key_name(const char *text, char *out, size_t outlen)
{
	const char *p = strstr(text, "for key '");
	size_t n;

	(void)snprintf(out, outlen, "?");
	if (p == NULL)
		return;
	p += strlen("for key '");
	n = strcspn(p, "'");
	(void)snprintf(out, outlen, "%.*s", (int)n, p);
}

/*
 * Turn the error captured in db into err (see the mapping in q_db.h). A connection error also
 * drops the connection, so the next call starts from a fresh one.
 */
static int
fail(struct q_db *db, struct q_err *err, const char *what)
{
	unsigned e = db->last_errno;
	const char *text = db->last_error;
	char key[96];

	if (conn_error(e)) {
		drop_connection(db);
		if (db->in_tx)
			return q_err_set(err, Q_E_DB_UNAVAILABLE,
			                 "database connection lost in a transaction (%s): %s", what,
			                 text);
		return q_err_set(err, Q_E_DB_UNAVAILABLE, "database unavailable: %s", text);
	}
	switch (e) {
	case ER_LOCK_DEADLOCK:
		return q_err_set(err, Q_E_DB_CONFLICT, "deadlock; retry the transaction");
	case ER_CHECKREAD:
		return q_err_set(err, Q_E_DB_CONFLICT, "snapshot conflict; retry the transaction");
	case ER_LOCK_WAIT_TIMEOUT:
		return q_err_set(err, Q_E_DB_CONFLICT, "lock wait timeout; retry the transaction");
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		dup_key_name(text, key, sizeof(key));
		return q_err_set(err, Q_E_CONFLICT, "duplicate value for unique key %s", key);
	case ER_ROW_IS_REFERENCED:
	case ER_ROW_IS_REFERENCED_2:
		return q_err_set(err, Q_E_CONFLICT, "the row is still referenced by other rows");
	case ER_NO_REFERENCED_ROW:
	case ER_NO_REFERENCED_ROW_2:
		return q_err_set(err, Q_E_CONFLICT, "a referenced row does not exist");
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
		return q_err_set(err, Q_E_FORBIDDEN, "denied by the database (mysql %u)", e);
	}
	return q_err_set(err, Q_E_INTERNAL, "%s failed: %s (mysql %u)", what, text, e);
}

unsigned
q_db_errno(const struct q_db *db)
{
	return db->last_errno;
}

int
q_db_err_retryable(const struct q_err *err)
{
	return err != NULL && err->code == Q_E_DB_CONFLICT;
}

/* ---- connection -------------------------------------------------------------------------- */

static void
stmt_destroy(struct q_stmt *st)
{
	struct q_db *db = st->db;

	if (st->cached) {
		struct q_stmt **pp = &db->bucket[st->hash % CACHE_BUCKETS];

		while (*pp != st)
			pp = &(*pp)->hnext;
		*pp = st->hnext;
		db->ncached--;
	}
	if (st->prev)
		st->prev->next = st->next;
	else
		db->stmts = st->next;
	if (st->next)
		st->next->prev = st->prev;
	if (st->h)
		mysql_stmt_close(st->h);
	for (unsigned i = 0; i < st->colcap; i++)
		free(st->cv[i].buf);
	free(st->cv);
	free(st->cb);
	free(st->pv);
	free(st->pb);
	free(st->sql);
	free(st);
}

/*
 * Close the connection. mysql_close detaches the statements first, so closing their handles
 * afterwards sends nothing over a dead socket. Idle statements leave the cache; statements a
 * caller holds are prepared again on their next execution.
 */
static void
drop_connection(struct q_db *db)
{
	struct q_stmt *st, *next;

	if (db->my != NULL) {
		mysql_close(db->my);
		db->my = NULL;
		if (db->in_tx)
			db->tx_lost = 1;
	}
	db->streaming = NULL;
	for (st = db->stmts; st != NULL; st = next) {
		/* next is read before stmt_destroy(st), which unlinks and frees st alone; the
		 * analyzer cannot see that through the cache-bucket walk. */
		next = st->next; /* NOLINT(clang-analyzer-unix.Malloc) */
		if (st->h != NULL) {
			mysql_stmt_close(st->h);
			st->h = NULL;
		}
		st->rows = 0;
		st->stream = 0;
		if (!st->busy)
			stmt_destroy(st);
	}
}

/* One connection attempt. Returns 0, or the mysql errno with the text captured in db. */
static unsigned
connect_once(struct q_db *db)
{
	MYSQL *my = mysql_init(NULL);
	unsigned proto = db->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	unsigned zero = 0, e;
	my_bool off = 0;

	if (my == NULL)
		q_die("mysql_init: out of memory");
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &db->connect_timeout_s);
	if (db->io_timeout_s) {
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &db->io_timeout_s);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &db->io_timeout_s);
	}
	mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(my, MYSQL_OPT_LOCAL_INFILE, &zero);
	mysql_options(my, MYSQL_OPT_RECONNECT, &off);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(my, MYSQL_INIT_COMMAND, session_init);
	if (mysql_real_connect(my, db->socket ? NULL : db->host, db->user,
	                       db->password.len ? db->password.data : NULL, db->name, db->port,
	                       db->socket, CLIENT_FOUND_ROWS) == NULL) {
		e = mysql_errno(my);
		capture(db, e ? e : CR_CONNECTION_ERROR, mysql_error(my));
		mysql_close(my);
		return db->last_errno;
	}
	db->my = my;
	db->gen++;
	db->last_ok_ms = now_ms();
	db->fails = 0;
	db->holdoff_until_ms = 0;
	db->last_errno = 0;
	return 0;
}

/*
 * Connect, with up to retries more attempts for transient failures. After a failure, calls
 * within the hold-off window fail at once instead of knocking again.
 */
static int
reconnect(struct q_db *db, unsigned retries, struct q_err *err)
{
	long long pause = BACKOFF_FIRST_MS, hold;
	unsigned e;

	drop_connection(db);
	if (db->tx_lost)
		return q_err_set(err, Q_E_DB_UNAVAILABLE,
		                 "database connection lost in a transaction; roll back and retry");
	if (retries == 0 && db->holdoff_until_ms > now_ms())
		return q_err_set(err, Q_E_DB_UNAVAILABLE, "database unavailable: %s",
		                 db->last_error);
	for (unsigned attempt = 0;; attempt++) {
		e = connect_once(db);
		if (e == 0) {
			if (db->gen > 1)
				q_log_info("db.reconnected", "user=%s", db->user);
			return 0;
		}
		q_logkv(Q_LOG_WARN, "db.connect_failed", "user", db->user, "error", db->last_error,
		        (char *)NULL);
		if (attempt >= retries || !conn_error(e))
			break;
		sleep_ms(pause);
		pause = pause * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pause * 2;
	}
	db->fails++;
	hold = (long long)BACKOFF_FIRST_MS << (db->fails < 4 ? db->fails - 1 : 3);
	db->holdoff_until_ms = now_ms() + (hold > HOLDOFF_MAX_MS ? HOLDOFF_MAX_MS : hold);
	db->last_errno = e ? e : CR_CONNECTION_ERROR;
	return q_err_set(err, Q_E_DB_UNAVAILABLE, "database unavailable: %s", db->last_error);
}

/*
 * While a streamed result is unread the connection is out of sync for any other command: say so
 * instead of letting the connector fail with "commands out of sync".
 */
static int
stream_busy(struct q_db *db, struct q_err *err)
{
	if (db->streaming == NULL)
		return 0;
	return q_err_set(err, Q_E_INTERNAL, "rows of \"%.60s\" are still streaming; read or reset",
	                 db->streaming->sql);
}

/*
 * Make db ready for a command: connected, and for an idle connection outside a transaction,
 * alive (pinged), so that a write is not sent into a connection the server already closed.
 */
static int
ready(struct q_db *db, struct q_err *err)
{
	if (stream_busy(db, err) < 0)
		return -1;
	if (db->tx_lost)
		return q_err_set(err, Q_E_DB_UNAVAILABLE,
		                 "database connection lost in a transaction; roll back and retry");
	if (db->my == NULL)
		return reconnect(db, 0, err);
	if (!db->in_tx && now_ms() - db->last_ok_ms >= IDLE_PING_MS) {
		if (mysql_ping(db->my) != 0) {
			capture(db, mysql_errno(db->my), mysql_error(db->my));
			if (!conn_error(db->last_errno))
				return fail(db, err, "ping");
			return reconnect(db, 0, err);
		}
		db->last_ok_ms = now_ms();
	}
	return 0;
}

static struct q_db *
db_new(const struct q_db_opts *o, struct q_err *err)
{
	struct q_db *db;

	if (o->user == NULL || *o->user == '\0') {
		q_err_set(err, Q_E_CONFIG, "database user is not set");
		return NULL;
	}
	db = q_calloc(1, sizeof(*db));
	db->socket = dup_or_null(o->socket);
	db->host = q_strdup(o->host && *o->host ? o->host : "127.0.0.1");
	db->name = dup_or_null(o->name);
	db->user = q_strdup(o->user);
	q_buf_init(&db->password);
	if (o->password)
		q_buf_adds(&db->password, o->password);
	db->port = o->port ? o->port : 3306;
	db->connect_timeout_s = o->connect_timeout_s ? o->connect_timeout_s : 5;
	db->io_timeout_s = o->io_timeout_s;
	db->retries = o->retries;
	return db;
}

struct q_db *
q_db_open_lazy(const struct q_db_opts *o, struct q_err *err)
{
	return db_new(o, err);
}

struct q_db *
q_db_open(const struct q_db_opts *o, struct q_err *err)
{
	struct q_db *db = db_new(o, err);

	if (db == NULL)
		return NULL;
	if (reconnect(db, db->retries, err) < 0) {
		q_db_free(db);
		return NULL;
	}
	return db;
}

void
q_db_free(struct q_db *db)
{
	if (db == NULL)
		return;
	if (db->my != NULL) {
		mysql_close(db->my);
		db->my = NULL;
	}
	while (db->stmts != NULL) {
		db->stmts->cached = 0; /* the buckets go with db */
		stmt_destroy(db->stmts);
	}
	q_buf_release_secret(&db->password);
	free(db->socket);
	free(db->host);
	free(db->name);
	free(db->user);
	free(db);
}

int
q_db_opts_from_config(struct q_db_opts *o, const struct q_config *cfg, int admin,
                      struct q_buf *password_storage, struct q_err *err)
{
	const char *user_key = admin ? "admin_user" : "user";
	const char *pw_key = admin ? "admin_password_file" : "password_file";
	long long port, timeout, retries;

	memset(o, 0, sizeof(*o));
	if (q_config_get_int(cfg, "db", "port", 3306, 1, 65535, &port, err) < 0 ||
	    q_config_get_int(cfg, "db", "connect_timeout", 5, 1, 600, &timeout, err) < 0 ||
	    q_config_get_int(cfg, "db", "connect_retries", 5, 0, 100, &retries, err) < 0)
		return -1;
	o->socket = q_config_get(cfg, "db", "socket", NULL);
	o->host = q_config_get(cfg, "db", "host", "127.0.0.1");
	o->port = (unsigned)port;
	o->name = q_config_get(cfg, "db", "name", "quantor");
	o->user = q_config_get(cfg, "db", user_key, NULL);
	o->connect_timeout_s = (unsigned)timeout;
	o->retries = (unsigned)retries;
	o->io_timeout_s = 60;
	if (o->user == NULL || *o->user == '\0')
		return q_err_set(err, Q_E_CONFIG, "%s: [db] %s is not set; name the database user",
		                 q_config_path(cfg), user_key);
	/* No password file: socket authentication (unix_socket plugin). */
	if (q_config_get(cfg, "db", pw_key, NULL) == NULL)
		return 0;
	if (q_config_secret(cfg, "db", pw_key, password_storage, err) < 0)
		return -1;
	o->password = password_storage->data;
	return 0;
}

int
q_db_ping(struct q_db *db, struct q_err *err)
{
	if (stream_busy(db, err) < 0)
		return -1;
	if (db->tx_lost || db->my == NULL)
		return ready(db, err);
	if (mysql_ping(db->my) != 0) {
		capture(db, mysql_errno(db->my), mysql_error(db->my));
		if (!conn_error(db->last_errno) || db->in_tx)
			return fail(db, err, "ping");
		if (reconnect(db, 0, err) < 0)
			return -1;
	}
	db->last_ok_ms = now_ms();
	db->last_errno = 0;
	return 0;
}

unsigned long long
q_db_insert_id(const struct q_db *db)
{
	return db->insert_id;
}

/* ---- statements -------------------------------------------------------------------------- */

static uint32_t
hash_sql(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* A SELECT reads only, so it may be sent again after a connection died under it. */
static int
is_select(const char *sql)
{
	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
		sql++;
	return strncasecmp(sql, "SELECT", 6) == 0 || strncasecmp(sql, "SHOW", 4) == 0;
}

/* Prepare st on the current connection. Returns 0 or the mysql errno (captured in db). */
static unsigned
prepare_once(struct q_stmt *st)
{
	struct q_db *db = st->db;
	MYSQL_STMT *h = mysql_stmt_init(db->my);
	unsigned long n;

	if (h == NULL)
		q_die("mysql_stmt_init: out of memory");
	if (mysql_stmt_prepare(h, st->sql, strlen(st->sql)) != 0) {
		capture(db, mysql_stmt_errno(h), mysql_stmt_error(h));
		mysql_stmt_close(h);
		return db->last_errno;
	}
	n = mysql_stmt_param_count(h);
	if (st->pb == NULL) {
		st->nparams = (unsigned)n;
		st->pb = q_calloc(n, sizeof(*st->pb));
		st->pv = q_calloc(n, sizeof(*st->pv));
	} else if (n != st->nparams) {
		mysql_stmt_close(h);
		capture(db, CR_UNKNOWN_ERROR, "placeholder count changed on re-prepare");
		return CR_UNKNOWN_ERROR;
	}
	st->h = h;
	st->gen = db->gen;
	db->last_ok_ms = now_ms();
	return 0;
}

/* Prepare st unless it is prepared on the current connection; reconnect once if needed. */
static int
ensure_prepared(struct q_stmt *st, struct q_err *err)
{
	struct q_db *db = st->db;
	unsigned e;

	for (int attempt = 0;; attempt++) {
		if (ready(db, err) < 0)
			return -1;
		if (st->h != NULL && st->gen == db->gen)
			return 0;
		if (st->h != NULL) {
			mysql_stmt_close(st->h);
			st->h = NULL;
		}
		e = prepare_once(st);
		if (e == 0)
			return 0;
		if (attempt > 0 || db->in_tx || !conn_error(e))
			return fail(db, err, "prepare");
		drop_connection(db);
	}
}

struct q_stmt *
q_db_prepare(struct q_db *db, const char *sql, struct q_err *err)
{
	uint32_t hash = hash_sql(sql);
	struct q_stmt *st;

	for (st = db->bucket[hash % CACHE_BUCKETS]; st != NULL; st = st->hnext)
		if (st->hash == hash && strcmp(st->sql, sql) == 0)
			break;
	/* In use already (recursion): a private copy, closed again by q_stmt_done. */
	if (st != NULL && st->busy) {
		st = q_calloc(1, sizeof(*st));
		st->db = db;
		st->sql = q_strdup(sql);
		st->hash = hash;
		st->readonly = is_select(sql);
		st->next = db->stmts;
		if (db->stmts)
			db->stmts->prev = st;
		db->stmts = st;
	} else if (st == NULL) {
		st = q_calloc(1, sizeof(*st));
		st->db = db;
		st->sql = q_strdup(sql);
		st->hash = hash;
		st->readonly = is_select(sql);
		st->next = db->stmts;
		if (db->stmts)
			db->stmts->prev = st;
		db->stmts = st;
		if (db->ncached < CACHE_MAX) {
			st->cached = 1;
			st->hnext = db->bucket[hash % CACHE_BUCKETS];
			db->bucket[hash % CACHE_BUCKETS] = st;
			db->ncached++;
		}
	}
	st->busy = 1;
	if (ensure_prepared(st, err) < 0) {
		stmt_destroy(st);
		return NULL;
	}
	db->last_errno = 0;
	return st;
}

static struct param *
param(struct q_stmt *st, unsigned idx, MYSQL_BIND **b)
{
	if (idx >= st->nparams) {
		if (st->bad == Q_OK) {
			st->bad = Q_E_INTERNAL;
			(void)snprintf(st->bad_msg, sizeof(st->bad_msg),
			               "bind index %u out of range (%u placeholders)", idx,
			               st->nparams);
		}
		return NULL;
	}
	*b = &st->pb[idx];
	memset(*b, 0, sizeof(**b));
	st->pv[idx].set = 1;
	return &st->pv[idx];
}

void
q_stmt_bind_int64(struct q_stmt *st, unsigned idx, long long v)
{
	MYSQL_BIND *b;
	struct param *p = param(st, idx, &b);

	if (p == NULL)
		return;
	p->v.i = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->v.i;
}

void
q_stmt_bind_uint64(struct q_stmt *st, unsigned idx, unsigned long long v)
{
	MYSQL_BIND *b;
	struct param *p = param(st, idx, &b);

	if (p == NULL)
		return;
	p->v.u = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->v.u;
	b->is_unsigned = 1;
}

void
q_stmt_bind_double(struct q_stmt *st, unsigned idx, double v)
{
	MYSQL_BIND *b;
	struct param *p = param(st, idx, &b);

	if (p == NULL)
		return;
	p->v.d = v;
	b->buffer_type = MYSQL_TYPE_DOUBLE;
	b->buffer = &p->v.d;
}

static void
bind_bytes(struct q_stmt *st, unsigned idx, enum enum_field_types type, const void *p, size_t len)
{
	MYSQL_BIND *b;
	struct param *pv = param(st, idx, &b);

	if (pv == NULL)
		return;
	if (p == NULL) {
		b->buffer_type = MYSQL_TYPE_NULL;
		return;
	}
	pv->len = (unsigned long)len;
	b->buffer_type = type;
	b->buffer = (void *)p;
	b->buffer_length = (unsigned long)len;
	b->length = &pv->len;
}

void
q_stmt_bind_text(struct q_stmt *st, unsigned idx, const char *s, size_t len)
{
	bind_bytes(st, idx, MYSQL_TYPE_STRING, s, len);
}

void
q_stmt_bind_str(struct q_stmt *st, unsigned idx, const char *s)
{
	bind_bytes(st, idx, MYSQL_TYPE_STRING, s, s ? strlen(s) : 0);
}

void
q_stmt_bind_blob(struct q_stmt *st, unsigned idx, const void *p, size_t len)
{
	/* An empty blob is still a value, not NULL. */
	bind_bytes(st, idx, MYSQL_TYPE_BLOB, p ? p : "", len);
}

void
q_stmt_bind_null(struct q_stmt *st, unsigned idx)
{
	bind_bytes(st, idx, MYSQL_TYPE_NULL, NULL, 0);
}

static int
decimal_ok(const char *s)
{
	int digits = 0, dot = 0;

	if (*s == '-')
		s++;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s == '.' && !dot && digits)
			dot = 1;
		else
			return 0;
	}
	return digits > 0 && s[-1] != '.';
}

void
q_stmt_bind_decimal(struct q_stmt *st, unsigned idx, const char *s)
{
	if (s != NULL && !decimal_ok(s)) {
		if (st->bad == Q_OK) {
			st->bad = Q_E_BAD_REQUEST;
			(void)snprintf(st->bad_msg, sizeof(st->bad_msg),
			               "not a decimal number: \"%.40s\"", s);
		}
		return;
	}
	bind_bytes(st, idx, MYSQL_TYPE_NEWDECIMAL, s, s ? strlen(s) : 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithm). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static long long
floordiv(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void
q_stmt_bind_time_us(struct q_stmt *st, unsigned idx, long long us)
{
	MYSQL_BIND *b;
	struct param *p = param(st, idx, &b);
	long long secs = floordiv(us, 1000000), days = floordiv(secs, 86400), y;
	long long sod = secs - days * 86400;
	unsigned m, d;

	if (p == NULL)
		return;
	civil_from_days(days, &y, &m, &d);
	memset(&p->v.t, 0, sizeof(p->v.t));
	p->v.t.year = (unsigned)y;
	p->v.t.month = m;
	p->v.t.day = d;
	p->v.t.hour = (unsigned)(sod / 3600);
	p->v.t.minute = (unsigned)(sod / 60 % 60);
	p->v.t.second = (unsigned)(sod % 60);
	p->v.t.second_part = (unsigned long)(us - secs * 1000000);
	p->v.t.time_type = MYSQL_TIMESTAMP_DATETIME;
	b->buffer_type = MYSQL_TYPE_DATETIME;
	b->buffer = &p->v.t;
}

static enum kind
kind_of(const MYSQL_FIELD *f)
{
	switch (f->type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
		return (f->flags & UNSIGNED_FLAG) ? K_UINT : K_INT;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
		return K_DOUBLE;
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_TIMESTAMP:
		return K_TIME;
	default:
		return K_TEXT;
	}
}

/*
 * Bind the result columns from the metadata of this execution (a statement's result types can
 * change between executions, e.g. SELECT ? follows the parameter's type).
 */
static void
bind_columns(struct q_stmt *st, MYSQL_RES *meta)
{
	unsigned n = mysql_num_fields(meta);
	MYSQL_FIELD *f = mysql_fetch_fields(meta);

	if (n > st->colcap) {
		st->cb = q_realloc(st->cb, n * sizeof(*st->cb));
		st->cv = q_realloc(st->cv, n * sizeof(*st->cv));
		memset(st->cv + st->colcap, 0, (n - st->colcap) * sizeof(*st->cv));
		st->colcap = n;
	}
	st->ncols = n;
	memset(st->cb, 0, n * sizeof(*st->cb));
	for (unsigned i = 0; i < n; i++) {
		struct col *c = &st->cv[i];
		MYSQL_BIND *b = &st->cb[i];

		c->kind = kind_of(&f[i]);
		c->decimals = f[i].decimals;
		c->type = f[i].type;
		b->is_null = &c->is_null;
		b->error = &c->error;
		b->length = &c->len;
		switch (c->kind) {
		case K_INT:
		case K_UINT:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &c->v.i;
			b->is_unsigned = c->kind == K_UINT;
			break;
		case K_DOUBLE:
			b->buffer_type = MYSQL_TYPE_DOUBLE;
			b->buffer = &c->v.d;
			break;
		case K_TIME:
			b->buffer_type = MYSQL_TYPE_DATETIME;
			b->buffer = &c->v.t;
			break;
		case K_TEXT:
			if (c->buf == NULL) {
				c->cap = TEXT_INITIAL;
				c->buf = q_malloc(c->cap);
			}
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = c->buf;
			b->buffer_length = c->cap - 1;
			break;
		}
	}
}

/* Discard the result; for a streamed one that reads what is left of it off the wire. */
static void
free_rows(struct q_stmt *st)
{
	if (st->rows && st->h != NULL)
		mysql_stmt_free_result(st->h);
	st->rows = 0;
	st->stream = 0;
	if (st->db->streaming == st)
		st->db->streaming = NULL;
}

/*
 * One execution on the current connection. Returns 0 or -1 with the error captured in db. A
 * streamed result stays on the server: the first q_stmt_fetch starts reading it (the connector's
 * default for a result neither stored nor used yet is mysql_stmt_use_result semantics).
 */
static int
execute_once(struct q_stmt *st, int stream)
{
	MYSQL_RES *meta;

	if (mysql_stmt_bind_param(st->h, st->pb) != 0 || mysql_stmt_execute(st->h) != 0)
		goto bad;
	st->ncols = 0;
	meta = mysql_stmt_result_metadata(st->h);
	if (meta != NULL) {
		bind_columns(st, meta);
		mysql_free_result(meta);
		if (mysql_stmt_bind_result(st->h, st->cb) != 0 ||
		    (!stream && mysql_stmt_store_result(st->h) != 0))
			goto bad;
		st->rows = 1;
		if (stream) {
			st->stream = 1;
			st->db->streaming = st;
		}
	} else if (mysql_stmt_errno(st->h) != 0) {
		goto bad;
	}
	return 0;
bad:
	capture(st->db, mysql_stmt_errno(st->h), mysql_stmt_error(st->h));
	return -1;
}

static int
exec_rows(struct q_stmt *st, int stream, struct q_err *err)
{
	struct q_db *db = st->db;

	if (st->bad != Q_OK)
		return q_err_set(err, st->bad, "%s", st->bad_msg);
	for (unsigned i = 0; i < st->nparams; i++)
		if (!st->pv[i].set)
			return q_err_set(err, Q_E_INTERNAL,
			                 "parameter %u of \"%.60s\" is not bound", i, st->sql);
	free_rows(st);
	for (int attempt = 0;; attempt++) {
		if (ensure_prepared(st, err) < 0)
			return -1;
		if (execute_once(st, stream) == 0)
			break;
		free_rows(st);
		if (attempt > 0 || db->in_tx || !conn_error(db->last_errno) ||
		    !retry_safe(db->last_errno, st->readonly))
			return fail(db, err, "execute");
		q_logkv(Q_LOG_WARN, "db.retry", "error", db->last_error, (char *)NULL);
		drop_connection(db);
	}
	st->affected = st->stream ? -1 : (long long)mysql_stmt_affected_rows(st->h);
	db->insert_id = mysql_stmt_insert_id(st->h);
	db->last_ok_ms = now_ms();
	db->last_errno = 0;
	return 0;
}

int
q_stmt_exec(struct q_stmt *st, struct q_err *err)
{
	return exec_rows(st, 0, err);
}

int
q_stmt_exec_stream(struct q_stmt *st, struct q_err *err)
{
	return exec_rows(st, 1, err);
}

long long
q_stmt_affected(const struct q_stmt *st)
{
	return st->affected;
}

unsigned
q_stmt_ncols(const struct q_stmt *st)
{
	return st->ncols;
}

int
q_stmt_fetch(struct q_stmt *st, struct q_err *err)
{
	int rc, rebind = 0;

	if (!st->rows || st->h == NULL) {
		if (st->h == NULL)
			return q_err_set(err, Q_E_DB_UNAVAILABLE,
			                 "database connection lost while reading rows");
		return 0;
	}
	rc = mysql_stmt_fetch(st->h);
	/* A streamed result read to its end (or broken) frees the connection for other work. */
	if ((rc == MYSQL_NO_DATA || rc == 1) && st->db->streaming == st)
		st->db->streaming = NULL;
	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == 1) {
		capture(st->db, mysql_stmt_errno(st->h), mysql_stmt_error(st->h));
		return fail(st->db, err, "fetch");
	}
	/* A text value longer than its buffer: grow the buffer and read the whole value. */
	for (unsigned i = 0; rc == MYSQL_DATA_TRUNCATED && i < st->ncols; i++) {
		struct col *c = &st->cv[i];
		MYSQL_BIND b;

		if (c->kind != K_TEXT || c->is_null || c->len < c->cap)
			continue;
		c->cap = c->len + 1;
		c->buf = q_realloc(c->buf, c->cap);
		memset(&b, 0, sizeof(b));
		b.buffer_type = MYSQL_TYPE_STRING;
		b.buffer = c->buf;
		b.buffer_length = c->cap - 1;
		b.length = &c->len;
		if (mysql_stmt_fetch_column(st->h, &b, i, 0) != 0) {
			capture(st->db, mysql_stmt_errno(st->h), mysql_stmt_error(st->h));
			return fail(st->db, err, "fetch column");
		}
		st->cb[i].buffer = c->buf;
		st->cb[i].buffer_length = c->cap - 1;
		rebind = 1;
	}
	if (rebind && mysql_stmt_bind_result(st->h, st->cb) != 0) {
		capture(st->db, mysql_stmt_errno(st->h), mysql_stmt_error(st->h));
		return fail(st->db, err, "bind result");
	}
	for (unsigned i = 0; i < st->ncols; i++)
		if (st->cv[i].kind == K_TEXT && !st->cv[i].is_null)
			st->cv[i].buf[st->cv[i].len] = '\0';
	return 1;
}

static struct col *
column(const struct q_stmt *st, unsigned col)
{
	if (col >= st->ncols || st->cv[col].is_null)
		return NULL;
	return &st->cv[col];
}

int
q_stmt_col_null(const struct q_stmt *st, unsigned col)
{
	return column(st, col) == NULL;
}

static long long
time_us(const MYSQL_TIME *t)
{
	long long days = days_from_civil(t->year, t->month ? t->month : 1, t->day ? t->day : 1);

	return ((days * 86400 + t->hour * 3600LL + t->minute * 60LL + t->second) * 1000000) +
	       (long long)t->second_part;
}

static long long
clamp_ll(double d)
{
	if (d != d)
		return 0;
	if (d >= 9.2233720368547758e18)
		return INT64_MAX;
	if (d <= -9.2233720368547758e18)
		return INT64_MIN;
	return (long long)d;
}

long long
q_stmt_col_int64(const struct q_stmt *st, unsigned col)
{
	const struct col *c = column(st, col);

	if (c == NULL)
		return 0;
	switch (c->kind) {
	case K_INT:
	case K_UINT:
		return c->v.i;
	case K_DOUBLE:
		return clamp_ll(c->v.d);
	case K_TIME:
		return floordiv(time_us(&c->v.t), 1000000);
	case K_TEXT:
		break;
	}
	return strtoll(c->buf, NULL, 10);
}

unsigned long long
q_stmt_col_uint64(const struct q_stmt *st, unsigned col)
{
	const struct col *c = column(st, col);

	if (c == NULL)
		return 0;
	if (c->kind == K_TEXT)
		return strtoull(c->buf, NULL, 10);
	if (c->kind == K_UINT)
		return c->v.u;
	return (unsigned long long)q_stmt_col_int64(st, col);
}

double
q_stmt_col_double(const struct q_stmt *st, unsigned col)
{
	const struct col *c = column(st, col);

	if (c == NULL)
		return 0.0;
	switch (c->kind) {
	case K_INT:
		return (double)c->v.i;
	case K_UINT:
		return (double)c->v.u;
	case K_DOUBLE:
		return c->v.d;
	case K_TIME:
		return (double)time_us(&c->v.t) / 1e6;
	case K_TEXT:
		break;
	}
	return strtod(c->buf, NULL);
}

long long
q_stmt_col_time_us(const struct q_stmt *st, unsigned col)
{
	const struct col *c = column(st, col);
	MYSQL_TIME t;
	char frac[7] = "";
	int n;

	if (c == NULL)
		return 0;
	if (c->kind == K_TIME)
		return time_us(&c->v.t);
	if (c->kind != K_TEXT)
		return q_stmt_col_int64(st, col) * 1000000;
	memset(&t, 0, sizeof(t));
	n = sscanf(c->buf, "%4u-%2u-%2u %2u:%2u:%2u.%6[0-9]", &t.year, &t.month, &t.day, &t.hour,
	           &t.minute, &t.second, frac);
	if (n < 3)
		return 0;
	for (size_t i = strlen(frac); i < 6; i++)
		frac[i] = '0';
	frac[6] = '\0';
	t.second_part = strtoul(frac, NULL, 10);
	return time_us(&t);
}

const char *
q_stmt_col_text(const struct q_stmt *st, unsigned col, size_t *len)
{
	struct col *c = column(st, col);
	int n = 0;

	if (len)
		*len = 0;
	if (c == NULL)
		return NULL;
	switch (c->kind) {
	case K_TEXT:
		if (len)
			*len = c->len;
		return c->buf;
	case K_INT:
		n = snprintf(c->num, sizeof(c->num), "%lld", c->v.i);
		break;
	case K_UINT:
		n = snprintf(c->num, sizeof(c->num), "%llu", c->v.u);
		break;
	case K_DOUBLE:
		n = snprintf(c->num, sizeof(c->num), "%.17g", c->v.d);
		break;
	case K_TIME:
		n = snprintf(c->num, sizeof(c->num), "%04u-%02u-%02u", c->v.t.year, c->v.t.month,
		             c->v.t.day);
		if (c->type == MYSQL_TYPE_DATE)
			break;
		n += snprintf(c->num + n, sizeof(c->num) - (size_t)n, " %02u:%02u:%02u",
		              c->v.t.hour, c->v.t.minute, c->v.t.second);
		if (c->decimals > 0 && c->decimals <= 6)
			n += snprintf(c->num + n, sizeof(c->num) - (size_t)n, ".%06lu",
			              c->v.t.second_part);
		break;
	}
	if (len)
		*len = (size_t)n;
	return c->num;
}

long long
q_stmt_col_copy(const struct q_stmt *st, unsigned col, char *out, size_t outlen, struct q_err *err)
{
	size_t len;
	const char *s = q_stmt_col_text(st, col, &len);

	if (s == NULL)
		s = "";
	if (len >= outlen)
		return q_err_set(err, Q_E_INTERNAL, "column %u holds %zu bytes, room for %zu", col,
		                 len, outlen ? outlen - 1 : 0);
	memcpy(out, s, len);
	out[len] = '\0';
	return (long long)len;
}

char *
q_stmt_col_strdup(const struct q_stmt *st, unsigned col, struct q_arena *a, size_t *len)
{
	size_t n;
	const char *s = q_stmt_col_text(st, col, &n);

	if (len)
		*len = n;
	/* The text is always followed by a NUL: copy it too, binary-safe. */
	return s ? q_arena_memdup(a, s, n + 1) : NULL;
}

void
q_stmt_reset(struct q_stmt *st)
{
	free_rows(st);
}

void
q_stmt_done(struct q_stmt *st)
{
	if (st == NULL)
		return;
	free_rows(st);
	st->ncols = 0;
	st->bad = Q_OK;
	for (unsigned i = 0; i < st->nparams; i++)
		st->pv[i].set = 0;
	st->busy = 0;
	if (!st->cached || st->h == NULL)
		stmt_destroy(st);
}

/* ---- transactions ------------------------------------------------------------------------ */

static const char sql_start[] = "START TRANSACTION";

int
q_db_begin(struct q_db *db, struct q_err *err)
{
	struct q_stmt *st;
	int rc;

	if (db->in_tx)
		return q_err_set(err, Q_E_INTERNAL, "a transaction is already open");
	for (int attempt = 0;; attempt++) {
		if (ready(db, err) < 0)
			return -1;
		if (mysql_autocommit(db->my, 0) == 0)
			break;
		capture(db, mysql_errno(db->my), mysql_error(db->my));
		if (attempt > 0 || !conn_error(db->last_errno))
			return fail(db, err, "begin");
		drop_connection(db);
	}
	db->in_tx = 1;
	st = q_db_prepare(db, sql_start, err);
	rc = st ? q_stmt_exec(st, err) : -1;
	q_stmt_done(st);
	if (rc < 0) {
		/* A fresh connection is the surest way back to autocommit with nothing open. */
		db->in_tx = 0;
		db->tx_lost = 0;
		drop_connection(db);
		return -1;
	}
	return 0;
}

/* Back to autocommit after the transaction ended; a failure only costs the connection. */
static void
end_tx(struct q_db *db)
{
	db->in_tx = 0;
	db->tx_lost = 0;
	if (db->my != NULL && mysql_autocommit(db->my, 1) != 0)
		drop_connection(db);
}

int
q_db_commit(struct q_db *db, struct q_err *err)
{
	if (!db->in_tx)
		return q_err_set(err, Q_E_INTERNAL, "commit without a transaction");
	if (stream_busy(db, err) < 0)
		return -1;
	if (db->tx_lost || db->my == NULL)
		return q_err_set(err, Q_E_DB_UNAVAILABLE,
		                 "database connection lost in a transaction; roll back and retry");
	if (mysql_commit(db->my) != 0) {
		capture(db, mysql_errno(db->my), mysql_error(db->my));
		return fail(db, err, "commit");
	}
	db->last_ok_ms = now_ms();
	db->last_errno = 0;
	end_tx(db);
	return 0;
}

int
q_db_rollback(struct q_db *db, struct q_err *err)
{
	int rc = 0;

	if (!db->in_tx)
		return 0;
	/* A rollback must always work: drop what is left of a streamed result first. */
	if (db->streaming != NULL)
		free_rows(db->streaming);
	if (!db->tx_lost && db->my != NULL && mysql_rollback(db->my) != 0) {
		capture(db, mysql_errno(db->my), mysql_error(db->my));
		if (!conn_error(db->last_errno))
			rc = fail(db, err, "rollback");
		drop_connection(db);
	}
	end_tx(db);
	return rc;
}

int
q_db_in_tx(const struct q_db *db)
{
	return db->in_tx;
}

/* ---- varargs helpers --------------------------------------------------------------------- */

/*
 * Bind the parameters named by types (up to '>' or the end) from ap. Returns a pointer to the
 * rest of types (at '>' or '\0'), or NULL with err set.
 */
static const char *
bind_va(struct q_stmt *st, const char *types, va_list *ap, struct q_err *err)
{
	unsigned i = 0;
	const char *t;

	for (t = types; *t && *t != '>'; t++, i++) {
		switch (*t) {
		case 'i':
			q_stmt_bind_int64(st, i, va_arg(*ap, long long));
			break;
		case 'u':
			q_stmt_bind_uint64(st, i, va_arg(*ap, unsigned long long));
			break;
		case 'd':
			q_stmt_bind_double(st, i, va_arg(*ap, double));
			break;
		case 's':
			q_stmt_bind_str(st, i, va_arg(*ap, const char *));
			break;
		case 'b': {
			const void *p = va_arg(*ap, const void *);

			q_stmt_bind_blob(st, i, p, va_arg(*ap, size_t));
			break;
		}
		case 'm':
			q_stmt_bind_decimal(st, i, va_arg(*ap, const char *));
			break;
		case 't':
			q_stmt_bind_time_us(st, i, va_arg(*ap, long long));
			break;
		case 'n':
			q_stmt_bind_null(st, i);
			break;
		default:
			q_err_set(err, Q_E_INTERNAL, "bad parameter type '%c' in \"%s\"", *t,
			          types);
			return NULL;
		}
	}
	if (i != st->nparams) {
		q_err_set(err, Q_E_INTERNAL, "\"%.60s\" has %u placeholders, types \"%s\" gives %u",
		          st->sql, st->nparams, types, i);
		return NULL;
	}
	return t;
}

long long
q_db_exec(struct q_db *db, struct q_err *err, const char *sql, const char *types, ...)
{
	struct q_stmt *st;
	long long rc = -1;
	const char *rest;
	va_list ap;

	va_start(ap, types);
	st = q_db_prepare(db, sql, err);
	if (st == NULL)
		goto out;
	rest = bind_va(st, types, &ap, err);
	if (rest == NULL)
		goto out;
	if (*rest != '\0') {
		q_err_set(err, Q_E_INTERNAL, "q_db_exec takes no outputs (\"%s\")", types);
		goto out;
	}
	if (q_stmt_exec(st, err) < 0)
		goto out;
	rc = q_stmt_affected(st);
out:
	va_end(ap);
	q_stmt_done(st);
	return rc;
}

static int
read_va(struct q_stmt *st, const char *outs, va_list *ap, struct q_err *err)
{
	unsigned i = 0;

	for (const char *t = outs; *t; t++, i++) {
		if (i >= st->ncols)
			return q_err_set(err, Q_E_INTERNAL,
			                 "\"%.60s\" returns %u columns, asked %zu", st->sql,
			                 st->ncols, strlen(outs));
		switch (*t) {
		case 'i':
			*va_arg(*ap, long long *) = q_stmt_col_int64(st, i);
			break;
		case 'u':
			*va_arg(*ap, unsigned long long *) = q_stmt_col_uint64(st, i);
			break;
		case 'd':
			*va_arg(*ap, double *) = q_stmt_col_double(st, i);
			break;
		case 't':
			*va_arg(*ap, long long *) = q_stmt_col_time_us(st, i);
			break;
		case 's': {
			char *buf = va_arg(*ap, char *);

			if (q_stmt_col_copy(st, i, buf, va_arg(*ap, size_t), err) < 0)
				return -1;
			break;
		}
		case 'b': {
			struct q_buf *b = va_arg(*ap, struct q_buf *);
			size_t len;
			const char *s = q_stmt_col_text(st, i, &len);

			q_buf_reset(b);
			if (s != NULL)
				q_buf_add(b, s, len);
			break;
		}
		default:
			return q_err_set(err, Q_E_INTERNAL, "bad output type '%c'", *t);
		}
	}
	return 0;
}

int
q_db_row(struct q_db *db, struct q_err *err, const char *sql, const char *types, ...)
{
	struct q_stmt *st;
	const char *rest;
	int rc = -1;
	va_list ap;

	va_start(ap, types);
	st = q_db_prepare(db, sql, err);
	if (st == NULL)
		goto out;
	rest = bind_va(st, types, &ap, err);
	if (rest == NULL || q_stmt_exec(st, err) < 0)
		goto out;
	rc = q_stmt_fetch(st, err);
	if (rc == 1 && *rest == '>' && read_va(st, rest + 1, &ap, err) < 0)
		rc = -1;
out:
	va_end(ap);
	q_stmt_done(st);
	return rc;
}

struct st_mysql *
q_db_raw(struct q_db *db, struct q_err *err)
{
	if (ready(db, err) < 0)
		return NULL;
	return db->my;
}

int
q_db_tx(struct q_db *db, q_db_tx_fn fn, void *arg, struct q_err *err)
{
	struct q_err e;

	/* Inside a caller's transaction: join it. A conflict then fails the caller's whole
	 * transaction, which its own q_db_tx retries from the start. */
	if (q_db_in_tx(db))
		return fn(db, arg, err);
	for (int attempt = 1;; attempt++) {
		q_err_clear(&e);
		if (q_db_begin(db, &e) == 0) {
			if (fn(db, arg, &e) == 0 && q_db_commit(db, &e) == 0)
				return 0;
			q_db_rollback(db, NULL);
		}
		if (!q_db_err_retryable(&e) || attempt >= Q_DB_TX_ATTEMPTS) {
			if (err && err->code == Q_OK)
				*err = e;
			return -1;
		}
		/* Back off 1-2 ms, then 2-4, 4-8...: the other transaction is usually done by then. */
		unsigned base = 1000u << (attempt - 1);

		usleep((useconds_t)(base + randombytes_uniform(base)));
	}
}
