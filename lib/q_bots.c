#include "q_bots.h"
#include "q_audit.h"

#include <stdio.h>
#include <string.h>

static const char sql_list[] =
        "SELECT id, exchange, strategy, symbol, candle_interval, mode, status, notional, "
        "halt_reason FROM bots WHERE user_id = ? AND deleted_at IS NULL ORDER BY id DESC LIMIT ?";

int
q_bots_list(struct q_db *db, struct q_arena *a, long long user_id, size_t max, struct q_bot **out,
            size_t *n, struct q_err *err)
{
	struct q_stmt *st = q_db_prepare(db, sql_list, err);
	struct q_bot *bots;
	int rc = -1, r;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	bots = q_arena_zalloc(a, (max ? max : 1) * sizeof(*bots));
	q_stmt_bind_int64(st, 0, user_id);
	q_stmt_bind_int64(st, 1, (long long)max);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1 && *n < max) {
		struct q_bot *b = &bots[*n];

		b->id = q_stmt_col_int64(st, 0);
		if (q_stmt_col_copy(st, 1, b->exchange, sizeof(b->exchange), err) < 0 ||
		    q_stmt_col_copy(st, 2, b->strategy, sizeof(b->strategy), err) < 0 ||
		    q_stmt_col_copy(st, 3, b->symbol, sizeof(b->symbol), err) < 0 ||
		    q_stmt_col_copy(st, 4, b->interval, sizeof(b->interval), err) < 0 ||
		    q_stmt_col_copy(st, 5, b->mode, sizeof(b->mode), err) < 0 ||
		    q_stmt_col_copy(st, 6, b->status, sizeof(b->status), err) < 0 ||
		    q_stmt_col_copy(st, 7, b->notional, sizeof(b->notional), err) < 0 ||
		    q_stmt_col_copy(st, 8, b->halt_reason, sizeof(b->halt_reason), err) < 0)
			goto out;
		(*n)++;
	}
	if (r < 0)
		goto out;
	*out = bots;
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

struct stop {
	long long user_id, bot_id; /* bot_id 0: all of the user's active bots */
	const char *actor, *via;
	int stopped, found;
};

static const char sql_active_one[] =
        "SELECT id, status FROM bots WHERE user_id = ? AND id = ? AND deleted_at IS NULL "
        "FOR UPDATE";
static const char sql_active_all[] =
        "SELECT id, status FROM bots WHERE user_id = ? AND status IN ('running', 'halted') "
        "AND deleted_at IS NULL ORDER BY id FOR UPDATE";
static const char sql_stop[] =
        "UPDATE bots SET status = 'stopped', halt_reason = NULL, halted_until = NULL WHERE id = ?";

static int
stop_tx(struct q_db *db, void *arg, struct q_err *err)
{
	struct stop *s = arg;
	struct q_stmt *st;
	long long ids[256];
	size_t n = 0;
	int r, rc = -1;

	s->stopped = 0;
	s->found = 0;
	st = q_db_prepare(db, s->bot_id ? sql_active_one : sql_active_all, err);
	if (st == NULL)
		return -1;
	q_stmt_bind_int64(st, 0, s->user_id);
	if (s->bot_id)
		q_stmt_bind_int64(st, 1, s->bot_id);
	if (q_stmt_exec(st, err) < 0)
		goto out;
	while ((r = q_stmt_fetch(st, err)) == 1) {
		size_t len;
		const char *status = q_stmt_col_text(st, 1, &len);

		s->found = 1;
		if (strcmp(status, "stopped") != 0 && n < sizeof(ids) / sizeof(ids[0]))
			ids[n++] = q_stmt_col_int64(st, 0);
	}
	if (r < 0)
		goto out;
	q_stmt_done(st);
	st = NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *data = json_pack("{s:I, s:s}", "bot_id", (json_int_t)ids[i], "via", s->via);

		r = q_db_exec(db, err, sql_stop, "i", ids[i]) < 0
		            ? -1
		            : q_audit_append_tx(db, s->actor, s->user_id, "bot.stopped", data, NULL,
		                                err);
		json_decref(data);
		if (r < 0)
			goto out;
		s->stopped++;
	}
	rc = 0;
out:
	q_stmt_done(st);
	return rc;
}

int
q_bots_stop(struct q_db *db, long long user_id, long long bot_id, const char *actor,
            const char *via, int *was_active, struct q_err *err)
{
	struct stop s = {user_id, bot_id, actor, via, 0, 0};

	if (bot_id <= 0)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	if (q_db_tx(db, stop_tx, &s, err) < 0)
		return -1;
	if (!s.found)
		return q_err_set(err, Q_E_NOT_FOUND, "bot %lld not found", bot_id);
	if (was_active)
		*was_active = s.stopped > 0;
	return 0;
}

int
q_bots_stop_all(struct q_db *db, long long user_id, const char *actor, const char *via,
                int *stopped, struct q_err *err)
{
	struct stop s = {user_id, 0, actor, via, 0, 0};

	if (q_db_tx(db, stop_tx, &s, err) < 0)
		return -1;
	*stopped = s.stopped;
	return 0;
}

int
q_bots_count_running(struct q_db *db, long long user_id, long long *n, struct q_err *err)
{
	*n = 0;
	return q_db_row(db, err,
	                "SELECT COUNT(*) FROM bots WHERE user_id = ? AND status = 'running' "
	                "AND deleted_at IS NULL",
	                "i>i", user_id, n) < 0
	               ? -1
	               : 0;
}

int
q_bots_pnl_today(struct q_db *db, long long user_id, char pnl[48], char equity_start[48],
                 struct q_err *err)
{
	/* The sums stay DECIMAL in SQL and arrive as exact text; TRIM drops the zero padding. */
	static const char sql[] =
	        "SELECT TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM "
	        "CAST(COALESCE(SUM(realized + unrealized), 0) AS DECIMAL(40,18)))), "
	        "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM "
	        "CAST(COALESCE(SUM(equity_start), 0) AS DECIMAL(40,18)))) "
	        "FROM daily_pnl WHERE user_id = ? AND day = UTC_DATE()";

	snprintf(pnl, 48, "0");
	snprintf(equity_start, 48, "0");
	if (q_db_row(db, err, sql, "i>ss", user_id, pnl, (size_t)48, equity_start, (size_t)48) < 0)
		return -1;
	if (pnl[0] == '\0')
		snprintf(pnl, 48, "0");
	if (equity_start[0] == '\0')
		snprintf(equity_start, 48, "0");
	return 0;
}
