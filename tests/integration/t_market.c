/*
 * Market data and the regime guard against the running stack: q_candles_sync fills the candles
 * table from quantor-sim's Binance and then asks only for what is new or missing; the regime of
 * the sim's BTCUSDT hourly closes is stored, audited when it changes and served by
 * GET /api/v1/market/regime; `quantorctl backtest` runs end to end over candles it fetches once.
 *
 * The endpoint reads the configured reference symbol (BTCUSDT), so the tests that go through it
 * own BTCUSDT's snapshots while they run and delete them afterwards (the test stack runs no
 * trader loop, and other suites expect no regime at all). The audit test uses ETHUSDT.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "itest.h"
#include "q_candles.h"
#include "q_ctx.h"
#include "q_db.h"
#include "q_exchange.h"
#include "q_regime.h"

#define M 60000LL
#define H 3600000LL

static struct q_ctx ctx;
static struct q_exchange *ex;

/* Counts the requests the connector sends, and keeps the last URL. */
static struct spy {
	q_exchange_transport_fn fn;
	void *ud;
	int calls;
	char url[1024];
} spy;

static int
spy_transport(void *ud, struct q_http_resp *resp, const struct q_http_req *req, struct q_err *err)
{
	struct spy *s = ud;

	s->calls++;
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	return s->fn(s->ud, resp, req, err);
}

/* The limit= of the last request. */
static int
last_limit(void)
{
	const char *p = strstr(spy.url, "limit=");

	cr_assert_not_null(p, "no limit in %s", spy.url);
	return atoi(p + 6);
}

static struct q_db *
db(void)
{
	struct q_err err = {0};
	struct q_db *d = q_ctx_db(&ctx, 0, &err);

	cr_assert(d != NULL, "%s", err.msg);
	return d;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
count(const char *sql, const char *arg)
{
	struct q_err err = {0};
	long long n = -1;

	cr_assert_eq(q_db_row(db(), &err, sql, "s>i", arg, &n), 1, "%s: %s", sql, err.msg);
	return n;
}

static void
exec(const char *sql, const char *arg)
{
	struct q_err err = {0};

	cr_assert(q_db_exec(db(), &err, sql, "s", arg) >= 0, "%s: %s", sql, err.msg);
}

static void
sim_post(const char *path, const char *body)
{
	struct q_http *h = q_http_new();
	struct q_http_resp resp;
	struct q_buf url = Q_BUF_INIT;
	const char *hdr[] = {"Content-Type: application/json", NULL};
	struct q_http_req req = {
	        .method = "POST", .headers = hdr, .body = body, .body_len = strlen(body)};
	struct q_err err = {0};

	q_http_resp_init(&resp);
	q_buf_printf(&url, "%s%s", it_env("QUANTOR_SIM_URL"), path);
	req.url = url.data;
	cr_assert_eq(q_http_do(h, &resp, &req, &err), 0, "%s", err.msg);
	cr_assert_eq(resp.status, 200, "%s: %s", path, resp.body.data);
	q_http_resp_release(&resp);
	q_buf_release(&url);
	q_http_free(h);
}

/* The sim's market phase now ("CALM", "CRASH", ...), for the log. */
static void
sim_phase(char *out, size_t len, const char *symbol)
{
	struct q_http *h = q_http_new();
	struct q_http_resp resp;
	struct q_buf url = Q_BUF_INIT;
	struct q_http_req req = {0};
	struct q_err err = {0};
	json_t *j;

	q_http_resp_init(&resp);
	q_buf_printf(&url, "%s/_sim/exchange/market?symbol=%s&t=%lld", it_env("QUANTOR_SIM_URL"),
	             symbol, now_ms());
	req.url = url.data;
	cr_assert_eq(q_http_do(h, &resp, &req, &err), 0, "%s", err.msg);
	j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	snprintf(out, len, "%s",
	         j && json_string_value(json_object_get(j, "phase"))
	                 ? json_string_value(json_object_get(j, "phase"))
	                 : resp.body.data);
	json_decref(j);
	q_http_resp_release(&resp);
	q_buf_release(&url);
	q_http_free(h);
}

static void
setup(void)
{
	struct q_err err = {0};

	cr_assert_eq(q_ctx_init(&ctx, "t_market", it_env("QUANTOR_CONFIG"), &err), 0, "%s",
	             err.msg);
	sim_post("/_sim/exchange/reset", "{}");
	ex = q_exchange_new("binance", ctx.cfg, &err);
	cr_assert_not_null(ex, "%s", err.msg);
	spy.fn = ex->transport;
	spy.ud = ex->transport_ud;
	ex->transport = spy_transport;
	ex->transport_ud = &spy;
}

static void
teardown(void)
{
	if (ctx.cfg != NULL) {
		/* Leave no regime behind: other suites start from none. */
		exec("DELETE FROM regime_snapshots WHERE symbol = ?", "BTCUSDT");
		exec("DELETE FROM regime_snapshots WHERE symbol = ?", "ETHUSDT");
	}
	q_exchange_free(ex);
	q_ctx_release(&ctx);
}

TestSuite(market, .init = setup, .fini = teardown, .timeout = 240);

static void
sync_ok(struct q_arena *a, const char *symbol, const char *interval, size_t want,
        struct q_bar **bars, size_t *n)
{
	struct q_err err = {0};

	cr_assert_eq(q_candles_sync(db(), ex, "binance", symbol, interval, want, a, bars, n, &err),
	             0, "sync %s %s: %s", symbol, interval, err.msg);
}

/* bars hold want consecutive candles of iv, the newest the last one closed by now. */
static void
assert_current(const struct q_bar *bars, size_t n, size_t want, long long iv)
{
	long long t = now_ms();

	cr_assert_eq(n, want);
	for (size_t i = 1; i < n; i++)
		cr_assert_eq(bars[i].open_ms - bars[i - 1].open_ms, iv, "hole before bar %zu", i);
	/* Closed (open + iv <= now), and the next one not yet (allowing the clock one step on). */
	cr_assert_leq(bars[n - 1].open_ms + iv, t);
	cr_assert_gt(bars[n - 1].open_ms + 3 * iv, t);
	for (size_t i = 0; i < n; i++)
		cr_assert(bars[i].low > 0 && bars[i].low <= bars[i].close &&
		                  bars[i].close <= bars[i].high,
		          "bar %zu", i);
}

Test(market, sync_stores_closed_candles_then_fetches_only_new_ones)
{
	const char *sym = "SOLUSDT";
	struct q_arena *a = q_arena_new();
	struct q_err err = {0};
	struct q_bar *bars;
	struct q_exchange_kline *k;
	size_t n, nk;
	long long last;
	int tries = 0;

	exec("DELETE FROM candles WHERE exchange = 'binance' AND symbol = ? AND "
	     "candle_interval = '1m'",
	     sym);

	/* Nothing stored: one request for the newest 120 closed and the open one. */
	spy.calls = 0;
	sync_ok(a, sym, "1m", 120, &bars, &n);
	cr_expect_eq(spy.calls, 1);
	cr_expect_eq(last_limit(), 121);
	assert_current(bars, n, 120, M);
	cr_expect_eq(count("SELECT COUNT(*) FROM candles WHERE exchange = 'binance' AND symbol = ? "
	                   "AND candle_interval = '1m'",
	                   sym),
	             120, "only closed candles are stored");

	/*
	 * Stored exactly as the venue sent them: DECIMAL text, not a double's rounding. (The end
	 * time is the last millisecond of the newest candle: quantor-sim cuts the candle holding
	 * end_ms off at end_ms.)
	 */
	cr_assert_eq(
	        q_exchange_klines(ex, a, &k, &nk, sym, "1m", bars[n - 1].open_ms + M - 1, 3, &err),
	        0, "%s", err.msg);
	cr_assert_eq(nk, 3);
	cr_assert_eq(k[2].open_ms, bars[n - 1].open_ms);
	for (size_t i = 0; i < nk; i++) {
		char text[64];
		struct q_dec stored;

		cr_assert_eq(q_db_row(db(), &err,
		                      "SELECT close FROM candles WHERE exchange = 'binance' AND "
		                      "symbol = ? AND candle_interval = '1m' AND open_time = ?",
		                      "st>s", sym, k[i].open_ms * 1000, text, sizeof(text)),
		             1, "%s", err.msg);
		cr_assert_eq(q_dec_parse_str(&stored, text, NULL), 0, "%s", text);
		cr_expect_eq(q_dec_cmp(stored, k[i].close), 0, "stored %s", text);
	}

	/* The newest five go missing: one request, asking for little more than those. */
	exec("DELETE FROM candles WHERE exchange = 'binance' AND symbol = ? AND "
	     "candle_interval = '1m' ORDER BY open_time DESC LIMIT 5",
	     sym);
	last = bars[n - 1].open_ms;
	spy.calls = 0;
	sync_ok(a, sym, "1m", 120, &bars, &n);
	cr_expect_eq(spy.calls, 1);
	cr_expect_leq(last_limit(), 8, "asked for %d candles to fill 5", last_limit());
	assert_current(bars, n, 120, M);
	cr_expect_geq(bars[n - 1].open_ms, last);

	/* Up to date: no request at all (retried when a minute turned in between). */
	do {
		long long minute = now_ms() / M;

		sync_ok(a, sym, "1m", 120, &bars, &n);
		spy.calls = 0;
		sync_ok(a, sym, "1m", 120, &bars, &n);
		if (now_ms() / M == minute)
			break;
	} while (++tries < 3);
	cr_expect_eq(spy.calls, 0, "an up-to-date sync sent %d requests", spy.calls);
	assert_current(bars, n, 120, M);
	q_arena_destroy(a);
}

Test(market, sync_refills_a_hole_and_pages_past_the_venue_maximum)
{
	const char *sym = "ADAUSDT";
	struct q_arena *a = q_arena_new();
	struct q_bar *bars;
	size_t n;
	long long hole;

	exec("DELETE FROM candles WHERE exchange = 'binance' AND symbol = ? AND "
	     "candle_interval = '5m'",
	     sym);
	/* 1500 candles: more than Binance's 1000 per request. */
	spy.calls = 0;
	sync_ok(a, sym, "5m", 1500, &bars, &n);
	cr_expect_eq(spy.calls, 2);
	assert_current(bars, n, 1500, 5 * M);

	hole = bars[700].open_ms;
	{
		struct q_err err = {0};

		cr_assert_eq(
		        q_db_exec(db(), &err,
		                  "DELETE FROM candles WHERE exchange = 'binance' AND symbol = ? "
		                  "AND candle_interval = '5m' AND open_time = ?",
		                  "st", sym, hole * 1000),
		        1, "%s", err.msg);
	}
	spy.calls = 0;
	sync_ok(a, sym, "5m", 1500, &bars, &n);
	cr_expect_geq(spy.calls, 1);
	assert_current(bars, n, 1500, 5 * M);
	q_arena_destroy(a);
}

/* ---- regime --------------------------------------------------------------------------------- */

static struct it_resp
get_regime(void)
{
	struct it_resp r;

	it_request(&r, "GET", "/api/v1/market/regime", NULL, 0, NULL);
	cr_assert_eq(r.status, 200, "%s", r.raw.body.data);
	cr_assert(json_is_object(r.json), "%s", r.raw.body.data);
	cr_assert_eq(json_object_size(r.json), 6, "%s", r.raw.body.data);
	return r;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The plain formula of DESIGN.md section 6 on the newest closes. */
static const char *
plain_regime(const struct q_bar *b, size_t n)
{
	double mean = 0, var = 0, high = 0, vol, dd;

	for (size_t k = n - 24; k < n; k++)
		mean += log(b[k].close / b[k - 1].close) / 24;
	for (size_t k = n - 24; k < n; k++)
		var += pow(log(b[k].close / b[k - 1].close) - mean, 2) / 23;
	vol = sqrt(var) * sqrt(8760.0);
	for (size_t k = n - 720; k < n; k++)
		high = fmax(high, b[k].close);
	dd = 1 - b[n - 1].close / high;
	cr_log_info("BTCUSDT: realized vol %.6f, drawdown %.6f", vol, dd);
	/* Far from any boundary only: at one, the detector's 10-place rounding decides. */
	if (vol >= 1.2 || dd >= 0.3)
		return "DANGEROUS";
	if (vol >= 0.8 || dd >= 0.2)
		return "VOLATILE";
	if (vol < 0.4 && dd < 0.1)
		return "CALM";
	return "NORMAL";
}

Test(market, regime_of_the_sim_is_stored_audited_and_served)
{
	struct q_arena *a = q_arena_new();
	struct q_regime_cfg cfg;
	struct q_regime_snapshot s;
	struct q_err err = {0};
	struct q_bar *bars;
	struct it_resp r;
	size_t n;
	unsigned long long seq0 = 0;
	char phase[64], payload[1024], at[32];
	json_t *p, *d;
	time_t t;

	cr_assert_eq(q_regime_config(&cfg, ctx.cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg.symbol, "BTCUSDT");
	exec("DELETE FROM regime_snapshots WHERE symbol = ?", "BTCUSDT");
	cr_assert_eq(
	        q_db_row(db(), &err, "SELECT COALESCE(MAX(seq), 0) FROM audit_log", ">u", &seq0), 1,
	        "%s", err.msg);

	sync_ok(a, cfg.symbol, Q_REGIME_INTERVAL, q_regime_bars_needed(&cfg), &bars, &n);
	assert_current(bars, n, 720, H);
	cr_assert_eq(q_regime_update(db(), &cfg, bars, n, now_ms(), &s, &err), 0, "%s", err.msg);
	sim_phase(phase, sizeof(phase), "BTCUSDT");
	cr_log_info("sim phase %s, regime %s (vol %s, drawdown %s)", phase, s.regime,
	            s.realized_vol, s.drawdown);
	cr_expect_neq(q_regime_from_name(s.regime), Q_REGIME_UNKNOWN, "%s", s.regime);
	cr_expect_str_eq(s.regime, plain_regime(bars, n));
	cr_expect(!s.stale && s.stored && s.changed);
	cr_expect_str_eq(s.previous, "UNKNOWN");
	cr_expect_eq(count("SELECT COUNT(*) FROM regime_snapshots WHERE symbol = ?", "BTCUSDT"), 1);

	/* Served as stored. */
	r = get_regime();
	cr_expect_str_eq(str(r.json, "symbol"), "BTCUSDT");
	cr_expect_str_eq(str(r.json, "regime"), s.regime);
	cr_expect_str_eq(str(r.json, "realized_vol"), s.realized_vol);
	cr_expect_str_eq(str(r.json, "drawdown"), s.drawdown);
	cr_expect(json_is_false(json_object_get(r.json, "stale")), "%s", r.raw.body.data);
	t = (time_t)(s.computed_at_us / 1000000);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	cr_expect_str_eq(str(r.json, "computed_at"), at);
	it_release(&r);

	/* The change from nothing to the sim's regime is in the audit chain. */
	cr_assert_eq(q_db_row(db(), &err,
	                      "SELECT payload FROM audit_log WHERE seq > ? AND type = "
	                      "'regime.changed' AND actor = 'system:regime' ORDER BY seq LIMIT 1",
	                      "u>s", seq0, payload, sizeof(payload)),
	             1, "no regime.changed after seq %llu: %s", seq0, err.msg);
	p = json_loads(payload, 0, NULL);
	cr_assert_not_null(p, "%s", payload);
	d = json_object_get(p, "data");
	cr_expect_str_eq(str(d, "symbol"), "BTCUSDT");
	cr_expect_str_eq(str(d, "from"), "UNKNOWN");
	cr_expect_str_eq(str(d, "to"), s.regime);
	cr_expect_str_eq(str(d, "realized_vol"), s.realized_vol);
	cr_expect_str_eq(str(d, "drawdown"), s.drawdown);
	json_decref(p);

	/* The same data a minute later: nothing new to store, nothing to audit. */
	cr_assert_eq(q_regime_update(db(), &cfg, bars, n, now_ms() + M, &s, &err), 0, "%s",
	             err.msg);
	cr_expect(!s.stored && !s.changed);
	cr_expect_eq(count("SELECT COUNT(*) FROM regime_snapshots WHERE symbol = ?", "BTCUSDT"), 1);
	q_arena_destroy(a);
}

/* n flat hourly bars at price, the newest closing at the last whole hour before now. */
static void
flat_bars(struct q_bar *b, size_t n, double price, long long end_ms)
{
	long long last_open = end_ms / H * H - H;

	for (size_t i = 0; i < n; i++) {
		b[i].open_ms = last_open - (long long)(n - 1 - i) * H;
		b[i].open = b[i].high = b[i].low = b[i].close = price;
		b[i].volume = 1;
	}
}

Test(market, regime_changes_land_in_the_audit_chain)
{
	static struct q_bar b[720];
	struct q_regime_cfg cfg;
	struct q_regime_snapshot s;
	struct q_err err = {0};
	struct it_resp r;
	unsigned long long seq0 = 0;
	long long now = now_ms();
	struct q_stmt *st;
	const char *want[][2] = {
	        {"UNKNOWN", "CALM"}, {"CALM", "DANGEROUS"}, {"DANGEROUS", "UNKNOWN"}};
	size_t seen = 0;

	q_regime_cfg_defaults(&cfg);
	snprintf(cfg.symbol, sizeof(cfg.symbol), "ETHUSDT");
	exec("DELETE FROM regime_snapshots WHERE symbol = ?", "ETHUSDT");
	cr_assert_eq(
	        q_db_row(db(), &err, "SELECT COALESCE(MAX(seq), 0) FROM audit_log", ">u", &seq0), 1,
	        "%s", err.msg);

	flat_bars(b, 720, 3000, now);
	cr_assert_eq(q_regime_update(db(), &cfg, b, 720, now, &s, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s.regime, "CALM");
	cr_expect(s.changed);
	/* A 40 % fall inside the month. */
	for (size_t i = 0; i < 10; i++)
		b[i].close = 5000;
	cr_assert_eq(q_regime_update(db(), &cfg, b, 720, now, &s, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s.regime, "DANGEROUS");
	cr_expect_str_eq(s.previous, "CALM");
	cr_expect_str_eq(s.drawdown, "0.4");
	cr_expect(s.changed && s.stored);
	/* Again: no event. */
	cr_assert_eq(q_regime_update(db(), &cfg, b, 720, now + 1000, &s, &err), 0, "%s", err.msg);
	cr_expect(!s.changed && !s.stored);
	/* Three hours without a new candle: stale, UNKNOWN. */
	cr_assert_eq(q_regime_update(db(), &cfg, b, 720, now + 3 * H, &s, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s.regime, "UNKNOWN");
	cr_expect(s.stale && s.changed && s.stored);

	st = q_db_prepare(db(),
	                  "SELECT payload, actor FROM audit_log WHERE seq > ? AND type = "
	                  "'regime.changed' ORDER BY seq",
	                  &err);
	cr_assert_not_null(st, "%s", err.msg);
	q_stmt_bind_uint64(st, 0, seq0);
	cr_assert_eq(q_stmt_exec(st, &err), 0, "%s", err.msg);
	while (q_stmt_fetch(st, &err) == 1) {
		json_t *p = json_loads(q_stmt_col_text(st, 0, NULL), 0, NULL), *d;

		cr_assert_not_null(p);
		d = json_object_get(p, "data");
		if (strcmp(str(d, "symbol"), "ETHUSDT") == 0) {
			cr_assert_lt(seen, 3, "more than three changes");
			cr_expect_str_eq(str(d, "from"), want[seen][0]);
			cr_expect_str_eq(str(d, "to"), want[seen][1]);
			cr_expect_str_eq(q_stmt_col_text(st, 1, NULL), "system:regime");
			/* Figures are strings (the chain refuses reals); DANGEROUS carries 0.4. */
			cr_expect(json_is_string(json_object_get(d, "drawdown")));
			if (seen == 1)
				cr_expect_str_eq(str(d, "drawdown"), "0.4");
			seen++;
		}
		json_decref(p);
	}
	q_stmt_done(st);
	cr_expect_eq(seen, 3);

	it_request(&r, "GET", "/api/v1/audit/verify", NULL, 0, NULL);
	cr_expect(json_is_true(json_object_get(r.json, "ok")), "%s", r.raw.body.data);
	it_release(&r);
}

Test(market, regime_endpoint_is_unknown_without_fresh_data)
{
	static struct q_bar b[720];
	struct q_regime_cfg cfg;
	struct q_regime_snapshot s;
	struct q_err err = {0};
	struct it_resp r;
	long long now = now_ms();

	cr_assert_eq(q_regime_config(&cfg, ctx.cfg, &err), 0, "%s", err.msg);
	exec("DELETE FROM regime_snapshots WHERE symbol = ?", "BTCUSDT");

	/* None at all: UNKNOWN with nulls. */
	r = get_regime();
	cr_expect_str_eq(str(r.json, "symbol"), "BTCUSDT");
	cr_expect_str_eq(str(r.json, "regime"), "UNKNOWN");
	cr_expect(json_is_null(json_object_get(r.json, "realized_vol")), "%s", r.raw.body.data);
	cr_expect(json_is_null(json_object_get(r.json, "drawdown")), "%s", r.raw.body.data);
	cr_expect(json_is_null(json_object_get(r.json, "computed_at")), "%s", r.raw.body.data);
	cr_expect(json_is_true(json_object_get(r.json, "stale")), "%s", r.raw.body.data);
	it_release(&r);

	/* A CALM snapshot computed three hours ago: stale now, so UNKNOWN, figures kept. */
	flat_bars(b, 720, 90000, now - 3 * H);
	cr_assert_eq(q_regime_update(db(), &cfg, b, 720, now - 3 * H, &s, &err), 0, "%s", err.msg);
	cr_expect_str_eq(s.regime, "CALM");
	r = get_regime();
	cr_expect_str_eq(str(r.json, "regime"), "UNKNOWN");
	cr_expect(json_is_true(json_object_get(r.json, "stale")), "%s", r.raw.body.data);
	cr_expect_str_eq(str(r.json, "realized_vol"), "0");
	cr_expect_str_eq(str(r.json, "drawdown"), "0");
	cr_expect(json_is_string(json_object_get(r.json, "computed_at")), "%s", r.raw.body.data);
	it_release(&r);

	/* Fresh again. */
	flat_bars(b, 720, 90000, now);
	cr_assert_eq(q_regime_update(db(), &cfg, b, 720, now, &s, &err), 0, "%s", err.msg);
	r = get_regime();
	cr_expect_str_eq(str(r.json, "regime"), "CALM");
	cr_expect(json_is_false(json_object_get(r.json, "stale")), "%s", r.raw.body.data);
	it_release(&r);

	/* The method is GET only; the route is public. */
	it_request(&r, "POST", "/api/v1/market/regime", "{}", 2, NULL);
	cr_expect_eq(r.status, 405);
	it_release(&r);
}

/* ---- quantorctl backtest -------------------------------------------------------------------- */

/* Run a shell command from the repository root; stdout into out, stderr into err. */
static int
run(struct q_buf *out, struct q_buf *errout, const char *fmt, ...)
{
	char errfile[] = "/tmp/t_market.err.XXXXXX";
	struct q_buf cmd = Q_BUF_INIT;
	char chunk[4096];
	va_list ap;
	FILE *p, *f;
	size_t n;
	int st, fd = mkstemp(errfile);

	cr_assert_geq(fd, 0);
	q_buf_printf(&cmd, "cd '%s' && ", it_env("QUANTOR_SRC"));
	va_start(ap, fmt);
	q_buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	q_buf_printf(&cmd, " 2>%s", errfile);
	p = popen(cmd.data, "r");
	cr_assert_not_null(p, "popen %s", cmd.data);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		q_buf_add(out, chunk, n);
	st = pclose(p);
	f = fdopen(fd, "r");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		q_buf_add(errout, chunk, n);
	fclose(f);
	unlink(errfile);
	q_buf_release(&cmd);
	q_buf_addch(out, '\0');
	out->len--;
	q_buf_addch(errout, '\0');
	errout->len--;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
day(char out[16], long long ms)
{
	time_t t = (time_t)(ms / 1000);

	strftime(out, 16, "%Y-%m-%d", gmtime(&t));
}

Test(market, quantorctl_backtest_runs_end_to_end)
{
	struct q_buf out = Q_BUF_INIT, errout = Q_BUF_INIT;
	char from[16], to[16];
	long long from_ms, now = now_ms();
	const char *metrics[] = {"total return", "max drawdown", "sharpe",
	                         "exposure",     "trades",       "buy and hold"};
	json_t *j;
	int rc;

	/* Thirty whole days that ended at least ten days ago. */
	day(from, now - 40 * 24 * H);
	day(to, now - 10 * 24 * H);
	from_ms = (now - 40 * 24 * H) / (24 * H) * (24 * H);
	exec("DELETE FROM candles WHERE exchange = 'binance' AND symbol = ? AND "
	     "candle_interval = '1h'",
	     "XRPUSDT");

	rc = run(&out, &errout,
	         "%s/quantorctl backtest --strategy EMA --symbol XRPUSDT --interval 1h --from %s "
	         "--to %s --params '{\"fast\":8,\"slow\":21}'",
	         it_build_dir(), from, to);
	cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out.data, errout.data);
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		cr_expect(strstr(out.data, metrics[i]) != NULL, "no %s in:\n%s", metrics[i],
		          out.data);
	cr_expect(strstr(out.data, "720 candles") != NULL, "%s", out.data);
	cr_expect(strstr(errout.data, "720 candles fetched") != NULL, "%s", errout.data);
	{
		struct q_err err = {0};
		long long n = 0;

		cr_assert_eq(q_db_row(db(), &err,
		                      "SELECT COUNT(*) FROM candles WHERE exchange = 'binance' AND "
		                      "symbol = 'XRPUSDT' AND candle_interval = '1h' AND "
		                      "open_time >= ? AND open_time < ?",
		                      "tt>i", from_ms * 1000, (from_ms + 30 * 24 * H) * 1000, &n),
		             1, "%s", err.msg);
		cr_expect_eq(n, 720, "the candles are stored");
	}

	/* Again, as JSON: one object, nothing fetched this time. */
	q_buf_reset(&out);
	q_buf_reset(&errout);
	rc = run(&out, &errout,
	         "%s/quantorctl backtest --json --strategy EMA --symbol XRPUSDT --interval 1h "
	         "--from %s --to %s --params '{\"fast\":8,\"slow\":21}' --fee-bps 20",
	         it_build_dir(), from, to);
	cr_assert_eq(rc, 0, "stdout: %s\nstderr: %s", out.data, errout.data);
	cr_expect(strstr(errout.data, "fetched") == NULL, "%s", errout.data);
	j = json_loads(out.data, 0, NULL);
	cr_assert(json_is_object(j), "not one JSON object: %s", out.data);
	cr_expect_str_eq(str(j, "strategy"), "EMA");
	cr_expect_eq(json_integer_value(json_object_get(j, "candles")), 720);
	cr_expect_eq(json_integer_value(json_object_get(j, "fee_bps")), 20);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(j, "params"), "fast")), 8);
	cr_expect_eq(json_integer_value(json_object_get(j, "trade_count")),
	             (json_int_t)json_array_size(json_object_get(j, "trades")));
	{
		const char *keys[] = {"total_return", "max_drawdown", "sharpe", "exposure",
		                      "buy_hold_return"};

		for (size_t i = 0; i < 5; i++)
			cr_expect(json_is_number(json_object_get(j, keys[i])), "%s in %s", keys[i],
			          out.data);
	}
	json_decref(j);
	q_buf_release(&out);
	q_buf_release(&errout);
}

Test(market, quantorctl_backtest_refuses_clearly)
{
	struct {
		const char *args, *msg;
		int rc;
	} c[] = {
	        {"--strategy NOPE --symbol BTCUSDT --interval 1h --from 2026-01-01 --to 2026-02-01",
	         "unknown strategy 'NOPE'", 2},
	        {"--strategy EMA --symbol BTCUSDT --interval 1h --from 2026-02-01 --to 2026-01-01",
	         "must be before", 2},
	        {"--strategy EMA --symbol BTCUSDT --interval 1h --from 2026-01-01 --to 2026-02-01 "
	         "--params '{\"fast\":0}'",
	         "params.fast", 2},
	        {"--strategy EMA --symbol BTCUSDT --interval 7m --from 2026-01-01 --to 2026-02-01",
	         "unknown interval", 2},
	        {"--strategy EMA --symbol BTCUSDT --interval 1h --from yesterday --to 2026-02-01",
	         "--from 'yesterday'", 2},
	        {"--strategy EMA --symbol BTCUSDT --interval 1h --from 2019-01-01 --to 2019-02-01",
	         "no 1h candles of BTCUSDT", 1},
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct q_buf out = Q_BUF_INIT, errout = Q_BUF_INIT;
		int rc = run(&out, &errout, "%s/quantorctl backtest %s", it_build_dir(), c[i].args);

		cr_expect_eq(rc, c[i].rc, "%s: exit %d, stderr %s", c[i].args, rc, errout.data);
		cr_expect(strstr(errout.data, c[i].msg) != NULL, "%s: stderr %s", c[i].args,
		          errout.data);
		cr_expect_eq(out.len, 0, "%s: stdout %s", c[i].args, out.data);
		q_buf_release(&out);
		q_buf_release(&errout);
	}
}
