/*
 * quantorctl backtest: run a strategy over stored candles, exactly as the trader runs it on each
 * newly closed candle, with the PAPER fill model. Candles come from the candles table; the ones
 * it lacks are fetched from the venue ([exchange.<name>] base_url: quantor-sim offline) and
 * stored first, so a second run over the same range asks the venue nothing.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "q_arena.h"
#include "q_backtest.h"
#include "q_candles.h"
#include "q_exchange.h"
#include "q_strategy.h"

#define DEFAULT_FEE_BPS 10     /* 0.1 %: Binance's base spot fee, and quantor-sim's */
#define DEFAULT_SLIPPAGE_BPS 5 /* 0.05 % against the trader on every fill */
#define MAX_BPS 1000           /* 10 % */
#define PROGRESS_MIN 5000      /* candles: below this a run is quick and says nothing */

struct opts {
	const char *strategy, *symbol, *interval, *from, *to, *params, *exchange;
	int fee_bps, slippage_bps, json;
};

/* A progress line on stderr: rewritten in place on a terminal, one line per step otherwise. */
struct progress {
	const char *what;
	int tty, shown;
	long long last;
};

static void
progress_show(struct progress *p, long long done, long long total)
{
	if (total < PROGRESS_MIN && !p->shown)
		return;
	if (!p->tty && done < total && done - p->last < total / 10)
		return;
	p->last = done;
	p->shown = 1;
	(void)fprintf(stderr, "%s%s: %lld of %lld candles%s", p->tty ? "\r" : "", p->what, done,
	              total, p->tty ? "" : "\n");
	(void)fflush(stderr);
}

static void
progress_end(struct progress *p)
{
	if (p->shown && p->tty)
		(void)fputc('\n', stderr);
}

static void
fetch_progress(long long done, long long total, void *ud)
{
	progress_show(ud, done, total);
}

static void
run_progress(size_t done, size_t total, void *ud)
{
	progress_show(ud, (long long)done, (long long)total);
}

/* Two digits at s into *out; -1 when they are not digits. */
static int
digits(int *out, const char *s, int n)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

/*
 * "YYYY-MM-DD" (UTC midnight) or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" into
 * Unix milliseconds. -1 for anything else, or an impossible date.
 */
static int
parse_time(long long *ms, const char *s)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0, off = 0;
	const char *p = s + 10;
	time_t t;

	if (strlen(s) < 10 || digits(&y, s, 4) < 0 || s[4] != '-' || digits(&mo, s + 5, 2) < 0 ||
	    s[7] != '-' || digits(&d, s + 8, 2) < 0)
		return -1;
	if (*p != '\0') {
		if ((*p != 'T' && *p != 't') || digits(&h, p + 1, 2) < 0 || p[3] != ':' ||
		    digits(&mi, p + 4, 2) < 0 || p[6] != ':' || digits(&sec, p + 7, 2) < 0)
			return -1;
		p += 9;
		if (*p == '.') {
			int place = 100;

			if (!isdigit((unsigned char)p[1]))
				return -1;
			for (p++; isdigit((unsigned char)*p); p++, place /= 10)
				frac_ms += (*p - '0') * place;
		}
		if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
			off = 0;
		} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
			int oh, om;

			if (digits(&oh, p + 1, 2) < 0 || digits(&om, p + 4, 2) < 0 || oh > 23 ||
			    om > 59)
				return -1;
			off = (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		} else {
			return -1;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 2026-02-30 to March: refuse dates that moved. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*ms = ((long long)t - off) * 1000 + frac_ms;
	return 0;
}

static void
fmt_time(char out[32], long long ms)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "%lld", ms);
		return;
	}
	(void)strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An argument error: the message, then exit status 2. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("quantorctl backtest: ", stderr);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputs("\n", stderr);
	return 2;
}

static int
bps(int *out, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > MAX_BPS)
		return -1;
	*out = (int)v;
	return 0;
}

/* Exit status 2 whatever the message printer returned (for the analyzer's sake too). */
static int
usage_error(int printed)
{
	(void)printed;
	return 2;
}

static int
parse_args(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->fee_bps = DEFAULT_FEE_BPS;
	o->slippage_bps = DEFAULT_SLIPPAGE_BPS;
	o->exchange = "binance";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = NULL;

		if (strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(a, "--strategy") == 0)
			slot = &o->strategy;
		else if (strcmp(a, "--symbol") == 0)
			slot = &o->symbol;
		else if (strcmp(a, "--interval") == 0)
			slot = &o->interval;
		else if (strcmp(a, "--from") == 0)
			slot = &o->from;
		else if (strcmp(a, "--to") == 0)
			slot = &o->to;
		else if (strcmp(a, "--params") == 0)
			slot = &o->params;
		else if (strcmp(a, "--exchange") == 0)
			slot = &o->exchange;
		else if (strcmp(a, "--fee-bps") != 0 && strcmp(a, "--slippage-bps") != 0)
			return usage_error(
			        bad("unknown option '%s'; see quantorctl help backtest", a));
		if (v == NULL)
			return usage_error(bad("%s needs a value", a));
		i++;
		if (slot != NULL)
			*slot = v;
		else if (bps(strcmp(a, "--fee-bps") == 0 ? &o->fee_bps : &o->slippage_bps, v) < 0)
			return usage_error(
			        bad("%s: '%s' is not a whole number of basis points from 0 to 1000",
			            a, v));
	}
	if (!o->strategy || !o->symbol || !o->interval || !o->from || !o->to) {
		(void)ctl_usage("backtest");
		return 2;
	}
	return 0;
}

static double
num(double x)
{
	return isfinite(x) ? x : 0;
}

static void
print_text(const struct opts *o, const json_t *params, const struct q_bt_result *res,
           long long from, long long to, size_t warmup)
{
	char *p = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	char a[32], b[32];

	fmt_time(a, from);
	fmt_time(b, to);
	printf("backtest   %s %s on %s %s %s\n", o->strategy, p ? p : "{}", o->exchange, o->symbol,
	       o->interval);
	printf("range      %s .. %s: %zu candles (the first %zu warm the strategy up)\n", a, b,
	       res->candles, warmup);
	printf("fills      at the close, fee %d bps, slippage %d bps, from 1 quote unit\n",
	       o->fee_bps, o->slippage_bps);
	free(p);
	printf("\n%-20s  %-4s  %16s  %14s  %12s  %10s\n", "time", "side", "price", "qty", "fee",
	       "equity");
	for (size_t i = 0; i < res->ntrades; i++) {
		const struct q_bt_trade *t = &res->trades[i];

		fmt_time(a, t->time_ms);
		printf("%-20s  %-4s  %16.8f  %14.8f  %12.8f  %10.6f\n", a,
		       t->side > 0 ? "BUY" : "SELL", t->price, t->qty, t->fee, t->equity);
	}
	if (res->ntrades == 0)
		printf("(no trades)\n");
	printf("\ntotal return   %9.2f %%\n", 100 * num(res->total_return));
	printf("max drawdown   %9.2f %%\n", 100 * num(res->max_drawdown));
	printf("sharpe         %9.2f\n", num(res->sharpe));
	printf("exposure       %9.2f %%\n", 100 * num(res->exposure));
	printf("trades         %9zu\n", res->ntrades);
	printf("buy and hold   %9.2f %%\n", 100 * num(res->buy_hold_return));
}

static void
print_json(const struct opts *o, json_t *params, const struct q_bt_result *res, long long from,
           long long to)
{
	json_t *trades = json_array(), *out;
	char a[32], b[32];
	char *s;

	for (size_t i = 0; i < res->ntrades; i++) {
		const struct q_bt_trade *t = &res->trades[i];

		fmt_time(a, t->time_ms);
		json_array_append_new(trades,
		                      json_pack("{s:s, s:s, s:f, s:f, s:f, s:f}", "time", a, "side",
		                                t->side > 0 ? "BUY" : "SELL", "price",
		                                num(t->price), "qty", num(t->qty), "fee",
		                                num(t->fee), "equity", num(t->equity)));
	}
	fmt_time(a, from);
	fmt_time(b, to);
	out = json_pack("{s:s, s:O, s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:o, s:f, s:f, s:f, "
	                "s:f, s:I, s:f}",
	                "strategy", o->strategy, "params", params, "exchange", o->exchange,
	                "symbol", o->symbol, "interval", o->interval, "from", a, "to", b, "candles",
	                (json_int_t)res->candles, "fee_bps", o->fee_bps, "slippage_bps",
	                o->slippage_bps, "trades", trades, "total_return", num(res->total_return),
	                "max_drawdown", num(res->max_drawdown), "sharpe", num(res->sharpe),
	                "exposure", num(res->exposure), "trade_count", (json_int_t)res->ntrades,
	                "buy_hold_return", num(res->buy_hold_return));
	s = out ? json_dumps(out, JSON_COMPACT) : NULL;
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(out);
}

int
cmd_backtest(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	struct opts o;
	const struct q_strategy *s;
	struct q_strategy_config scfg;
	struct q_bt_opts bo;
	struct q_bt_result res;
	struct progress pf = {"fetching", 0, 0, 0}, pr = {"running", 0, 0, 0};
	json_t *params = NULL, *normalized = NULL;
	struct q_exchange *ex = NULL;
	struct q_db *db = NULL;
	struct q_arena *a = NULL;
	struct q_bar *bars;
	size_t n, warmup = 0;
	long long from, to, iv, fetched = 0, missing, first, end;
	int rc, have_cfg = 0;

	rc = parse_args(&o, argc, argv);
	if (rc != 0)
		return rc;
	/* Everything the command line can get wrong, before any connection is made. */
	s = q_strategy_lookup(o.strategy);
	if (s == NULL) {
		char ids[256] = "";

		for (size_t i = 0; q_strategy_at(i) != NULL; i++)
			snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
			         i ? ", " : "", q_strategy_at(i)->id);
		return bad("unknown strategy '%s': one of %s", o.strategy, ids);
	}
	iv = q_candles_interval_ms(o.interval);
	if (iv == 0)
		return bad("unknown interval '%s': one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 1w",
		           o.interval);
	if (q_exchange_lookup(o.exchange) == NULL)
		return bad("unknown exchange '%s': binance, okx, bybit or bitget", o.exchange);
	if (parse_time(&from, o.from) < 0)
		return bad("--from '%s' is not a date (YYYY-MM-DD) or an RFC 3339 time "
		           "(2026-01-31T12:00:00Z)",
		           o.from);
	if (parse_time(&to, o.to) < 0)
		return bad("--to '%s' is not a date (YYYY-MM-DD) or an RFC 3339 time "
		           "(2026-01-31T12:00:00Z)",
		           o.to);
	if (from >= to)
		return bad("--from %s must be before --to %s", o.from, o.to);
	if (from <= 0)
		return bad("--from %s is before 1970", o.from);
	if (o.params != NULL) {
		json_error_t je;

		params = json_loads(o.params, JSON_REJECT_DUPLICATES, &je);
		if (params == NULL) {
			(void)fprintf(stderr,
			              "quantorctl backtest: --params is not JSON: %s (column %d)\n",
			              je.text, je.column);
			return 2;
		}
	}
	if (q_strategy_config_init(&scfg, s, params, &normalized, &err) < 0) {
		/* Name the parameter, unless the message already starts with it. */
		int named = err.field[0] && strncmp(err.msg, err.field, strlen(err.field)) != 0;

		(void)fprintf(stderr, "quantorctl backtest: bad --params for %s: %s%s%s\n", s->id,
		              named ? err.field : "", named ? ": " : "", err.msg);
		json_decref(params);
		return 2;
	}
	have_cfg = 1;
	if (s->warmup)
		warmup = s->warmup(&scfg);
	/* Only closed candles exist: the range ends now at the latest. */
	if (to > now_ms())
		to = now_ms();
	if (from >= to) {
		rc = bad("--from %s is in the future", o.from);
		goto done;
	}
	if ((to - from) / iv > Q_CANDLES_MAX_WANT) {
		rc = bad("the range holds %lld candles of %s: at most %d (shorten it, or take a "
		         "longer interval)",
		         (to - from) / iv, o.interval, Q_CANDLES_MAX_WANT);
		goto done;
	}

	rc = 1;
	pf.tty = pr.tty = isatty(STDERR_FILENO);
	if ((db = ctl_db(c, 0, &err)) == NULL ||
	    (ex = q_exchange_new(o.exchange, ctl_config(c, &err), &err)) == NULL)
		goto done;
	if (q_candles_fill(db, ex, o.symbol, o.interval, from, to, fetch_progress, &pf, &fetched,
	                   &err) < 0) {
		progress_end(&pf);
		goto done;
	}
	progress_end(&pf);
	a = q_arena_new();
	if (q_candles_range(db, a, &bars, &n, o.exchange, o.symbol, o.interval, from, to, &err) < 0)
		goto done;
	if (n == 0) {
		char x[32], y[32];

		fmt_time(x, from);
		fmt_time(y, to);
		q_err_set(&err, Q_E_NOT_FOUND,
		          "no %s candles of %s on %s between %s and %s (none stored, and the venue "
		          "has none)",
		          o.interval, o.symbol, o.exchange, x, y);
		goto done;
	}
	/* Holes the venue cannot fill: the series runs on without them, as the trader's would. */
	first = bars[0].open_ms;
	end = bars[n - 1].open_ms + iv;
	missing = q_candles_missing(bars, n, iv, first, end);
	if (missing > 0)
		(void)fprintf(stderr,
		              "quantorctl backtest: warning: %lld candles missing inside the range "
		              "(the venue has none); the series runs on without them\n",
		              missing);
	if (fetched > 0)
		(void)fprintf(stderr,
		              "quantorctl backtest: %lld candles fetched from %s and stored\n",
		              fetched, o.exchange);
	memset(&bo, 0, sizeof(bo));
	bo.fill.fee_bps = o.fee_bps;
	bo.fill.slippage_bps = o.slippage_bps;
	bo.interval_ms = iv;
	bo.progress = run_progress;
	bo.ud = &pr;
	memset(&res, 0, sizeof(res));
	if (q_backtest_run(&scfg, bars, n, &bo, a, &res, &err) < 0) {
		progress_end(&pr);
		goto done;
	}
	progress_end(&pr);
	if (o.json)
		print_json(&o, normalized, &res, first, end);
	else
		print_text(&o, normalized, &res, first, end, warmup);
	rc = 0;
done:
	if (rc == 1)
		ctl_fail(&err);
	if (have_cfg)
		q_strategy_config_release(&scfg);
	json_decref(params);
	json_decref(normalized);
	q_arena_destroy(a);
	q_exchange_free(ex);
	q_db_free(db);
	return rc;
}
