/*
 * The exchange connectors against quantor-sim, over HTTP, for all four venues with the same
 * scenarios: one interface, four dialects. Keys come from QUANTOR_SIM_ACCOUNTS and the venues'
 * base URLs from the stack's config, exactly as the trader and the API get them. Every test
 * resets the simulated exchanges first (orders, faults, bans, clocks, balances).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "q_arena.h"
#include "q_config.h"
#include "q_exchange.h"

static const char *const venues[] = {"binance", "okx", "bybit", "bitget"};
#define NVENUES (sizeof(venues) / sizeof(venues[0]))

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static struct q_config *cfg;
static json_t *accounts;
static long long cid_seq;

/* ---- helpers ------------------------------------------------------------------------------ */

static void
sim_call(struct it_resp *r, const char *method, const char *path, const char *body)
{
	struct q_http *h = q_http_new();
	struct q_err err = {0};
	struct q_buf url = Q_BUF_INIT;
	struct q_http_req req = {0};

	memset(r, 0, sizeof(*r));
	q_http_resp_init(&r->raw);
	q_buf_printf(&url, "%s%s", it_env("QUANTOR_SIM_URL"), path);
	req.method = method;
	req.url = url.data;
	req.headers = body ? json_ct : NULL;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	cr_assert_eq(q_http_do(h, &r->raw, &req, &err), 0, "%s %s: %s", method, path, err.msg);
	r->status = r->raw.status;
	r->json = json_loadb(r->raw.body.data, r->raw.body.len, 0, NULL);
	q_buf_release(&url);
	q_http_free(h);
}

static void
sim_ok(const char *method, const char *path, const char *body)
{
	struct it_resp r;

	sim_call(&r, method, path, body);
	cr_assert_eq(r.status, 200, "%s %s -> %ld: %s", method, path, r.status, r.raw.body.data);
	it_release(&r);
}

static void
fault(const char *venue, const char *op, const char *kind, const char *extra)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"venue\":\"%s\",\"op\":\"%s\",\"fault\":\"%s\"%s%s}", venue,
	         op, kind, extra ? "," : "", extra ? extra : "");
	sim_ok("POST", "/_sim/exchange/faults", body);
}

static void
setup(void)
{
	struct q_err err = {0};
	json_error_t je;

	cfg = q_config_load(it_env("QUANTOR_CONFIG"), &err);
	cr_assert(cfg != NULL, "config: %s", err.msg);
	accounts = json_load_file(it_env("QUANTOR_SIM_ACCOUNTS"), 0, &je);
	cr_assert(json_is_array(accounts), "accounts: %s", je.text);
	sim_ok("POST", "/_sim/exchange/reset", "{}");
	cid_seq = (long long)time(NULL) * 1000;
}

static void
teardown(void)
{
	q_config_free(cfg);
	json_decref(accounts);
}

TestSuite(exchange, .init = setup, .fini = teardown, .timeout = 120);

/* A client for venue with its key of this kind ("trade", "withdraw", "read", "iprestricted"). */
static struct q_exchange *
client(const char *venue, const char *kind)
{
	struct q_err err = {0};
	struct q_exchange *ex = q_exchange_new(venue, cfg, &err);
	json_t *a;
	size_t i;

	cr_assert(ex != NULL, "%s: %s", venue, err.msg);
	json_array_foreach(accounts, i, a)
	{
		const char *pass = json_string_value(json_object_get(a, "passphrase"));
		const char *secret = json_string_value(json_object_get(a, "api_secret"));

		if (strcmp(json_string_value(json_object_get(a, "exchange")), venue) != 0 ||
		    strcmp(json_string_value(json_object_get(a, "name")), kind) != 0)
			continue;
		cr_assert_eq(q_exchange_set_credentials(
		                     ex, json_string_value(json_object_get(a, "api_key")), secret,
		                     strlen(secret), pass && *pass ? pass : NULL, &err),
		             0, "%s: %s", venue, err.msg);
		return ex;
	}
	cr_assert_fail("no %s key for %s in QUANTOR_SIM_ACCOUNTS", kind, venue);
	return NULL;
}

static void
next_cid(char out[Q_EX_CLIENT_ID_LEN + 1])
{
	cr_assert_eq(q_exchange_client_order_id(out, 4242, ++cid_seq), 0);
}

static struct q_dec
D(const char *s) {
	struct q_dec d;

	cr_assert_eq(q_dec_parse_str(&d, s, NULL), 0, "%s", s);
	return d;
}

/* How many orders the simulator accepted with this client id (over every venue). */
static size_t
sim_orders_with(const char *cid, const char **status)
{
	struct it_resp r;
	char path[128];
	json_t *orders;
	size_t n;
	static char st[32];

	snprintf(path, sizeof(path), "/_sim/orders?client_id=%s", cid);
	sim_call(&r, "GET", path, NULL);
	cr_assert_eq(r.status, 200);
	orders = json_object_get(r.json, "orders");
	n = json_array_size(orders);
	if (status) {
		snprintf(st, sizeof(st), "%s",
		         n ? json_string_value(json_object_get(json_array_get(orders, 0), "status"))
		           : "");
		*status = st;
	}
	it_release(&r);
	return n;
}

/*
 * A MARKET BUY of about 20 USDT of BTC: by quote amount on every venue (Bitget's only way to
 * size a market buy), which each connector sends in its venue's form.
 */
static void
market_buy(struct q_exchange_order_req *o, const char *cid)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->symbol, sizeof(o->symbol), "BTCUSDT");
	o->side = Q_EX_BUY;
	o->type = Q_EX_MARKET;
	o->quote_qty = D("20");
	snprintf(o->client_id, sizeof(o->client_id), "%s", cid);
}

/* A LIMIT BUY at half the price: it rests. */
static void
resting_buy(struct q_exchange *ex, struct q_exchange_order_req *o, const char *cid)
{
	struct q_exchange_rules rules;
	struct q_arena *a = q_arena_new();
	struct q_exchange_kline *k;
	struct q_err err = {0};
	size_t n;

	cr_assert_eq(q_exchange_symbol_rules(ex, &rules, "BTCUSDT", &err), 0, "%s", err.msg);
	cr_assert_eq(q_exchange_klines(ex, a, &k, &n, "BTCUSDT", "1m", 0, 1, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(n, 1);
	memset(o, 0, sizeof(*o));
	snprintf(o->symbol, sizeof(o->symbol), "BTCUSDT");
	o->side = Q_EX_BUY;
	o->type = Q_EX_LIMIT;
	cr_assert_eq(q_dec_div(&o->price, k[0].close, q_dec_from_int(2), Q_DEC_DOWN, NULL), 0);
	o->qty = D("0.001");
	snprintf(o->client_id, sizeof(o->client_id), "%s", cid);
	cr_assert_eq(q_exchange_order_check(o, &rules, &err), 0, "%s", err.msg);
	q_arena_destroy(a);
}

/* ---- every operation ---------------------------------------------------------------------- */

Test(exchange, every_operation_round_trips_on_every_venue)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		struct q_arena *a = q_arena_new();
		struct q_exchange_rules rules;
		struct q_exchange_kline *k;
		struct q_exchange_balance *bal;
		struct q_exchange_perms perms;
		struct q_exchange_order_req req;
		struct q_exchange_order o, *open;
		struct q_err err = {0};
		char cid[Q_EX_CLIENT_ID_LEN + 1], cid2[Q_EX_CLIENT_ID_LEN + 1],
		        cid3[Q_EX_CLIENT_ID_LEN + 1];
		long long server;
		size_t n, nb;
		int usdt = 0;

		cr_assert_eq(q_exchange_server_time(ex, &server, &err), 0, "%s", err.msg);
		cr_expect(llabs(server - (long long)time(NULL) * 1000) < 5000, "%s time %lld",
		          venues[v], server);
		cr_assert_eq(q_exchange_sync_time(ex, &err), 0, "%s", err.msg);

		cr_assert_eq(q_exchange_symbol_rules(ex, &rules, "BTCUSDT", &err), 0, "%s: %s",
		             venues[v], err.msg);
		cr_expect_str_eq(rules.symbol, "BTCUSDT", "%s", venues[v]);
		cr_expect_str_eq(rules.base, "BTC", "%s", venues[v]);
		cr_expect_str_eq(rules.quote, "USDT", "%s", venues[v]);
		cr_expect(q_dec_sign(rules.tick) > 0 && q_dec_sign(rules.lot) > 0, "%s", venues[v]);
		cr_expect(rules.trading, "%s", venues[v]);

		/* Candles: as many as asked, oldest first, consecutive, all closed but the newest. */
		static const struct {
			const char *iv;
			long long ms;
		} ivs[] = {{"1m", 60000}, {"1h", 3600000}, {"1d", 86400000}};
		for (size_t i = 0; i < sizeof(ivs) / sizeof(ivs[0]); i++) {
			cr_assert_eq(
			        q_exchange_klines(ex, a, &k, &n, "BTCUSDT", ivs[i].iv, 0, 50, &err),
			        0, "%s %s: %s", venues[v], ivs[i].iv, err.msg);
			cr_assert_eq(n, 50, "%s %s: %zu candles", venues[v], ivs[i].iv, n);
			for (size_t j = 1; j < n; j++) {
				cr_assert_eq(k[j].open_ms - k[j - 1].open_ms, ivs[i].ms,
				             "%s %s row %zu", venues[v], ivs[i].iv, j);
				cr_assert(k[j - 1].closed, "%s %s row %zu not closed", venues[v],
				          ivs[i].iv, j - 1);
			}
			for (size_t j = 0; j < n; j++)
				cr_assert(q_dec_cmp(k[j].high, k[j].low) >= 0 &&
				                  q_dec_cmp(k[j].high, k[j].close) >= 0 &&
				                  q_dec_cmp(k[j].low, k[j].open) <= 0 &&
				                  q_dec_sign(k[j].low) > 0,
				          "%s %s row %zu: OHLC out of order", venues[v], ivs[i].iv,
				          j);
			cr_expect(!k[n - 1].closed, "%s %s: the newest candle is still open",
			          venues[v], ivs[i].iv);
		}

		cr_assert_eq(q_exchange_balances(ex, a, &bal, &nb, &err), 0, "%s: %s", venues[v],
		             err.msg);
		for (size_t i = 0; i < nb; i++)
			if (strcmp(bal[i].asset, "USDT") == 0)
				usdt = q_dec_cmp(bal[i].free, D("100000")) == 0;
		cr_expect(usdt, "%s: 100000 USDT free", venues[v]);

		cr_assert_eq(q_exchange_key_permissions(ex, &perms, &err), 0, "%s: %s", venues[v],
		             err.msg);
		cr_expect(perms.can_trade && !perms.can_withdraw && !perms.ip_restricted, "%s: %s",
		          venues[v], perms.raw);
		cr_expect_eq(q_exchange_perms_check(&perms, &err), 0, "%s: %s", venues[v], err.msg);

		/* A market buy fills; the query by client id says so. */
		next_cid(cid);
		market_buy(&req, cid);
		cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), 0, "%s place: %s",
		             venues[v], err.msg);
		cr_expect_str_eq(o.client_id, cid, "%s", venues[v]);
		cr_assert_eq(q_exchange_query_order(ex, &o, "BTCUSDT", cid, &err), 0,
		             "%s query: %s", venues[v], err.msg);
		cr_expect_eq(o.status, Q_EX_FILLED, "%s: %s", venues[v],
		             q_exchange_status_name(o.status));
		cr_expect(q_dec_sign(o.executed_qty) > 0 && q_dec_sign(o.cum_quote) > 0, "%s",
		          venues[v]);
		cr_expect_eq(o.side, Q_EX_BUY, "%s", venues[v]);

		/* Sell what was bought, by base quantity. */
		{
			struct q_exchange_order_req s = {0};

			snprintf(s.symbol, sizeof(s.symbol), "BTCUSDT");
			s.side = Q_EX_SELL;
			s.type = Q_EX_MARKET;
			s.qty = o.executed_qty;
			next_cid(s.client_id);
			cr_assert_eq(q_exchange_order_check(&s, &rules, &err), 0, "%s", err.msg);
			cr_assert_eq(q_exchange_place_order(ex, &o, &s, &err), 0, "%s sell: %s",
			             venues[v], err.msg);
			cr_assert_eq(q_exchange_query_order(ex, &o, "BTCUSDT", s.client_id, &err),
			             0, "%s", err.msg);
			cr_expect_eq(o.status, Q_EX_FILLED, "%s sell", venues[v]);
			cr_expect_eq(o.side, Q_EX_SELL, "%s", venues[v]);
		}

		/* A resting limit buy: open, listed, cancelled. */
		next_cid(cid2);
		resting_buy(ex, &req, cid2);
		cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), 0, "%s limit: %s",
		             venues[v], err.msg);
		cr_assert_eq(q_exchange_query_order(ex, &o, "BTCUSDT", cid2, &err), 0, "%s",
		             err.msg);
		cr_expect_eq(o.status, Q_EX_OPEN, "%s: %s", venues[v],
		             q_exchange_status_name(o.status));
		cr_expect_eq(q_dec_cmp(o.price, req.price), 0, "%s price", venues[v]);
		cr_assert_eq(q_exchange_open_orders(ex, a, &open, &n, "BTCUSDT", &err), 0, "%s: %s",
		             venues[v], err.msg);
		cr_assert_eq(n, 1, "%s: %zu open", venues[v], n);
		cr_expect_str_eq(open[0].client_id, cid2, "%s", venues[v]);
		cr_assert_eq(q_exchange_cancel_order(ex, &o, "BTCUSDT", cid2, &err), 0, "%s: %s",
		             venues[v], err.msg);
		cr_assert_eq(q_exchange_query_order(ex, &o, "BTCUSDT", cid2, &err), 0, "%s",
		             err.msg);
		cr_expect_eq(o.status, Q_EX_CANCELLED, "%s: %s", venues[v],
		             q_exchange_status_name(o.status));
		cr_expect_eq(q_exchange_cancel_order(ex, &o, "BTCUSDT", cid2, &err), -1);
		cr_expect_eq(err.code, Q_E_NOT_FOUND, "%s: cancel twice: %s (%s)", venues[v],
		             err.msg, q_err_name(err.code));
		q_err_clear(&err);

		/* Cancel all: two resting orders, then none; none open is success too. */
		next_cid(cid2);
		resting_buy(ex, &req, cid2);
		cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), 0, "%s", err.msg);
		next_cid(cid3);
		resting_buy(ex, &req, cid3);
		cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), 0, "%s", err.msg);
		cr_assert_eq(q_exchange_cancel_all(ex, "BTCUSDT", &err), 0, "%s: %s", venues[v],
		             err.msg);
		cr_assert_eq(q_exchange_open_orders(ex, a, &open, &n, "BTCUSDT", &err), 0, "%s",
		             err.msg);
		cr_expect_eq(n, 0, "%s: %zu open after cancel all", venues[v], n);
		cr_expect_eq(q_exchange_cancel_all(ex, "BTCUSDT", &err), 0, "%s: nothing open: %s",
		             venues[v], err.msg);

		/* The simulator saw each order exactly once. */
		cr_expect_eq(sim_orders_with(cid, NULL), 1, "%s", venues[v]);
		cr_expect_eq(sim_orders_with(cid3, NULL), 1, "%s", venues[v]);
		q_arena_destroy(a);
		q_exchange_free(ex);
	}
}

Test(exchange, key_permissions_are_read_as_each_venue_reports_them)
{
	for (size_t v = 0; v < NVENUES; v++) {
		static const struct {
			const char *kind;
			int trade, withdraw, ip;
			enum q_code check;
		} keys[] = {
		        {"trade", 1, 0, 0, Q_OK},
		        {"withdraw", 1, 1, 0, Q_E_KEY_CAN_WITHDRAW},
		        {"read", 0, 0, 0, Q_E_KEY_CANNOT_TRADE},
		        {"iprestricted", 1, 0, 1, Q_OK},
		};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			struct q_exchange *ex = client(venues[v], keys[i].kind);
			struct q_exchange_perms p;
			struct q_err err = {0};

			cr_assert_eq(q_exchange_key_permissions(ex, &p, &err), 0, "%s %s: %s",
			             venues[v], keys[i].kind, err.msg);
			cr_expect_eq(p.can_trade, keys[i].trade, "%s %s trade (%s)", venues[v],
			             keys[i].kind, p.raw);
			cr_expect_eq(p.can_withdraw, keys[i].withdraw, "%s %s withdraw (%s)",
			             venues[v], keys[i].kind, p.raw);
			cr_expect_eq(p.ip_restricted, keys[i].ip, "%s %s ip (%s)", venues[v],
			             keys[i].kind, p.raw);
			cr_expect(p.can_read, "%s %s read", venues[v], keys[i].kind);
			q_exchange_perms_check(&p, &err);
			cr_expect_eq(err.code, keys[i].check, "%s %s: %s", venues[v], keys[i].kind,
			             q_err_name(err.code));
			q_exchange_free(ex);
		}
	}
}

/* ---- mapped errors ------------------------------------------------------------------------ */

Test(exchange, venue_errors_map_to_one_set_of_codes)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		struct q_exchange *ro = client(venues[v], "read");
		struct q_exchange_order_req req;
		struct q_exchange_order o;
		struct q_exchange_balance *bal;
		struct q_arena *a = q_arena_new();
		struct q_err err = {0};
		char cid[Q_EX_CLIENT_ID_LEN + 1];
		size_t n;

		/* A wrong secret: refused as an authentication failure. */
		{
			struct q_exchange *bad = client(venues[v], "trade");
			char key[256], passbuf[256];
			const char *pass = bad->passphrase.len ? passbuf : NULL;

			/* Copies: setting credentials wipes the ones the client holds. */
			snprintf(key, sizeof(key), "%s", bad->api_key.data);
			snprintf(passbuf, sizeof(passbuf), "%s",
			         bad->passphrase.len ? bad->passphrase.data : "");
			cr_assert_eq(q_exchange_set_credentials(bad, key, "not-the-secret", 14,
			                                        pass, &err),
			             0);
			cr_expect_eq(q_exchange_balances(bad, a, &bal, &n, &err), -1);
			cr_expect_eq(err.code, Q_E_EX_AUTH, "%s bad secret: %s", venues[v],
			             err.msg);
			q_err_clear(&err);
			cr_assert_eq(
			        q_exchange_set_credentials(bad, "no-such-key", "x", 1, pass, &err),
			        0);
			cr_expect_eq(q_exchange_balances(bad, a, &bal, &n, &err), -1);
			cr_expect_eq(err.code, Q_E_EX_AUTH, "%s unknown key: %s", venues[v],
			             err.msg);
			q_err_clear(&err);
			q_exchange_free(bad);
		}

		/* A read-only key cannot trade. */
		next_cid(cid);
		market_buy(&req, cid);
		cr_expect_eq(q_exchange_place_order(ro, &o, &req, &err), -1);
		cr_expect_eq(err.code, Q_E_EX_AUTH, "%s read-only place: %s", venues[v], err.msg);
		q_err_clear(&err);
		cr_expect_eq(sim_orders_with(cid, NULL), 0, "%s", venues[v]);

		/* More than the account holds. */
		next_cid(cid);
		market_buy(&req, cid);
		req.quote_qty = D("5000000");
		cr_expect_eq(q_exchange_place_order(ex, &o, &req, &err), -1);
		cr_expect_eq(err.code, Q_E_EX_INSUFFICIENT, "%s insufficient: %s", venues[v],
		             err.msg);
		q_err_clear(&err);

		/* Below the minimum notional (the connector's own check bypassed on purpose). */
		next_cid(cid);
		resting_buy(ex, &req, cid);
		req.qty = D("0.00001");
		cr_expect_eq(q_exchange_place_order(ex, &o, &req, &err), -1);
		cr_expect_eq(err.code, Q_E_EX_FILTER, "%s min notional: %s", venues[v], err.msg);
		q_err_clear(&err);

		/* A client order id used twice. */
		next_cid(cid);
		market_buy(&req, cid);
		cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), 0, "%s: %s", venues[v],
		             err.msg);
		cr_expect_eq(q_exchange_place_order(ex, &o, &req, &err), -1);
		cr_expect_eq(err.code, Q_E_CONFLICT, "%s duplicate: %s", venues[v], err.msg);
		q_err_clear(&err);
		cr_expect_eq(sim_orders_with(cid, NULL), 1, "%s", venues[v]);

		/* An order nobody placed. */
		next_cid(cid);
		cr_expect_eq(q_exchange_query_order(ex, &o, "BTCUSDT", cid, &err), -1);
		cr_expect_eq(err.code, Q_E_NOT_FOUND, "%s unknown order: %s", venues[v], err.msg);
		q_err_clear(&err);

		q_arena_destroy(a);
		q_exchange_free(ro);
		q_exchange_free(ex);
	}
}

/* ---- faults ------------------------------------------------------------------------------- */

Test(exchange, an_order_whose_answer_was_lost_is_found_and_never_placed_twice)
{
	static const char *const kinds[] = {"timeout_after_accept", "malformed"};

	for (size_t v = 0; v < NVENUES; v++)
		for (size_t f = 0; f < sizeof(kinds) / sizeof(kinds[0]); f++) {
			struct q_exchange *ex = client(venues[v], "trade");
			struct q_exchange_order_req req;
			struct q_exchange_order o;
			struct q_err err = {0};
			char cid[Q_EX_CLIENT_ID_LEN + 1];
			const char *st;

			long long ms;

			/*
			 * A warm keep-alive connection first: an HTTP client that re-sends a request
			 * when such a connection closes unanswered would place the order twice.
			 */
			cr_assert_eq(q_exchange_server_time(ex, &ms, &err), 0, "%s", err.msg);
			next_cid(cid);
			market_buy(&req, cid);
			fault(venues[v], "place", kinds[f], NULL);
			cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), -1, "%s %s",
			             venues[v], kinds[f]);
			cr_assert_eq(err.code, Q_E_EX_UNKNOWN_OUTCOME, "%s %s: %s", venues[v],
			             kinds[f], err.msg);
			q_err_clear(&err);
			/* The rule: query by client order id, never re-send blind. */
			cr_assert_eq(q_exchange_query_order(ex, &o, "BTCUSDT", cid, &err), 0,
			             "%s %s: %s", venues[v], kinds[f], err.msg);
			cr_expect_eq(o.status, Q_EX_FILLED, "%s %s", venues[v], kinds[f]);
			/* Sending it again anyway is refused by the venue, not doubled. */
			cr_expect_eq(q_exchange_place_order(ex, &o, &req, &err), -1);
			cr_expect_eq(err.code, Q_E_CONFLICT, "%s %s: %s", venues[v], kinds[f],
			             err.msg);
			q_err_clear(&err);
			cr_expect_eq(sim_orders_with(cid, &st), 1, "%s %s", venues[v], kinds[f]);
			cr_expect_str_eq(st, "FILLED");
			q_exchange_free(ex);
		}
}

Test(exchange, an_order_lost_before_the_venue_took_it_is_not_found)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		struct q_exchange_order_req req;
		struct q_exchange_order o;
		struct q_err err = {0};
		char cid[Q_EX_CLIENT_ID_LEN + 1];
		long long ms;

		cr_assert_eq(q_exchange_server_time(ex, &ms, &err), 0, "%s", err.msg); /* warm */
		next_cid(cid);
		market_buy(&req, cid);
		fault(venues[v], "place", "timeout", NULL);
		cr_assert_eq(q_exchange_place_order(ex, &o, &req, &err), -1);
		cr_assert_eq(err.code, Q_E_EX_UNKNOWN_OUTCOME, "%s: %s", venues[v], err.msg);
		q_err_clear(&err);
		cr_expect_eq(q_exchange_query_order(ex, &o, "BTCUSDT", cid, &err), -1);
		cr_expect_eq(err.code, Q_E_NOT_FOUND, "%s: %s", venues[v], err.msg);
		q_err_clear(&err);
		/* Known not to exist: placing it now is safe, and happens once. */
		cr_expect_eq(q_exchange_place_order(ex, &o, &req, &err), 0, "%s: %s", venues[v],
		             err.msg);
		cr_expect_eq(sim_orders_with(cid, NULL), 1, "%s", venues[v]);
		q_exchange_free(ex);
	}
}

Test(exchange, a_5xx_is_unknown_for_an_order_and_unavailable_for_a_read)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		struct q_exchange_order_req req;
		struct q_exchange_order o;
		struct q_exchange_kline *k;
		struct q_arena *a = q_arena_new();
		struct q_err err = {0};
		char cid[Q_EX_CLIENT_ID_LEN + 1];
		size_t n;

		next_cid(cid);
		market_buy(&req, cid);
		fault(venues[v], "place", "5xx", "\"status\":503");
		cr_expect_eq(q_exchange_place_order(ex, &o, &req, &err), -1);
		cr_expect_eq(err.code, Q_E_EX_UNKNOWN_OUTCOME, "%s: %s", venues[v], err.msg);
		cr_expect_eq(ex->last.http_status, 503, "%s", venues[v]);
		q_err_clear(&err);
		fault(venues[v], "klines", "5xx", NULL);
		cr_expect_eq(q_exchange_klines(ex, a, &k, &n, "BTCUSDT", "1h", 0, 5, &err), -1);
		cr_expect_eq(err.code, Q_E_EXCHANGE_UNAVAILABLE, "%s: %s", venues[v], err.msg);
		q_err_clear(&err);
		cr_expect_eq(q_exchange_klines(ex, a, &k, &n, "BTCUSDT", "1h", 0, 5, &err), 0, "%s",
		             err.msg);
		q_arena_destroy(a);
		q_exchange_free(ex);
	}
}

/*
 * After a 429 the connector sends nothing until Retry-After has passed. The simulator bans any
 * request inside the wait (as Binance answers 418), so calling in a loop proves the point: every
 * call inside the wait fails locally, and the first one after it succeeds, never banned.
 */
Test(exchange, after_a_429_the_connector_waits_and_never_earns_a_418)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		struct q_arena *a = q_arena_new();
		struct q_exchange_balance *bal;
		struct q_err err = {0};
		struct timespec t0, t1;
		int refused = 0;
		size_t n;

		fault(venues[v], "*", "rate_limit", "\"retry_after\":2,\"ban_s\":600");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		cr_assert_eq(q_exchange_balances(ex, a, &bal, &n, &err), -1);
		cr_assert_eq(err.code, Q_E_EX_RATE_LIMITED, "%s: %s", venues[v], err.msg);
		cr_expect_eq(ex->last.http_status, 429, "%s", venues[v]);
		cr_expect_geq(ex->last.retry_after_s, 2, "%s", venues[v]);
		for (;;) {
			q_err_clear(&err);
			if (q_exchange_balances(ex, a, &bal, &n, &err) == 0)
				break;
			cr_assert_eq(err.code, Q_E_EX_RATE_LIMITED, "%s: %s", venues[v], err.msg);
			cr_assert_eq(ex->last.http_status, 0, "%s: sent during the wait",
			             venues[v]);
			refused++;
			usleep(100000);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		cr_expect_geq(refused, 10, "%s: %d calls refused locally", venues[v], refused);
		cr_expect_geq((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000,
		              1900, "%s waited", venues[v]);
		q_arena_destroy(a);
		q_exchange_free(ex);
	}
}

Test(exchange, a_ban_stops_every_request_until_it_ends)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		long long ms;
		struct q_err err = {0};

		fault(venues[v], "time", "ban", "\"ban_s\":1");
		cr_assert_eq(q_exchange_server_time(ex, &ms, &err), -1);
		cr_assert_eq(err.code, Q_E_EX_BANNED, "%s: %s", venues[v], err.msg);
		q_err_clear(&err);
		cr_expect_eq(q_exchange_server_time(ex, &ms, &err), -1);
		cr_expect_eq(err.code, Q_E_EX_BANNED, "%s: %s", venues[v], err.msg);
		cr_expect_eq(ex->last.http_status, 0, "%s: sent while banned", venues[v]);
		q_err_clear(&err);
		usleep(1300000);
		cr_expect_eq(q_exchange_server_time(ex, &ms, &err), 0, "%s: %s", venues[v],
		             err.msg);
		q_exchange_free(ex);
	}
}

Test(exchange, a_skewed_venue_clock_is_learned_and_signed_calls_succeed)
{
	for (size_t v = 0; v < NVENUES; v++) {
		struct q_exchange *ex = client(venues[v], "trade");
		struct q_arena *a = q_arena_new();
		struct q_exchange_balance *bal;
		struct q_err err = {0};
		char body[128];
		size_t n;

		snprintf(body, sizeof(body), "{\"venue\":\"%s\",\"skew_ms\":45000}", venues[v]);
		sim_ok("POST", "/_sim/exchange/clock", body);
		cr_assert_eq(q_exchange_balances(ex, a, &bal, &n, &err), 0, "%s: %s", venues[v],
		             err.msg);
		cr_expect(ex->clock_synced, "%s resynced", venues[v]);
		cr_expect(llabs(ex->clock_offset_ms - 45000) < 2000, "%s offset %lld", venues[v],
		          ex->clock_offset_ms);
		snprintf(body, sizeof(body), "{\"venue\":\"%s\",\"skew_ms\":0}", venues[v]);
		sim_ok("POST", "/_sim/exchange/clock", body);
		q_arena_destroy(a);
		q_exchange_free(ex);
	}
}

Test(exchange, the_simulated_market_is_reproducible_and_meets_every_phase)
{
	struct it_resp r1, r2;
	const char *phases[] = {"CALM", "NORMAL", "VOLATILE", "CRASH"};
	int seen[4] = {0};
	long long t = 1796000000000LL;

	sim_call(&r1, "GET", "/_sim/exchange/market?symbol=BTCUSDT&t=1790000000000", NULL);
	sim_call(&r2, "GET", "/_sim/exchange/market?symbol=BTCUSDT&t=1790000000000", NULL);
	cr_assert_eq(r1.status, 200);
	cr_expect_str_eq(json_string_value(json_object_get(r1.json, "price")),
	                 json_string_value(json_object_get(r2.json, "price")));
	it_release(&r1);
	it_release(&r2);
	/* Ninety days, a sample every six hours: every phase shows up. */
	for (int i = 0; i < 360; i++, t -= 6 * 3600000LL) {
		char path[128];
		const char *ph;

		snprintf(path, sizeof(path), "/_sim/exchange/market?symbol=BTCUSDT&t=%lld", t);
		sim_call(&r1, "GET", path, NULL);
		ph = json_string_value(json_object_get(r1.json, "phase"));
		for (int k = 0; k < 4; k++)
			if (ph && strcmp(ph, phases[k]) == 0)
				seen[k] = 1;
		it_release(&r1);
	}
	for (int k = 0; k < 4; k++)
		cr_expect(seen[k], "phase %s never seen in 90 days", phases[k]);
}
