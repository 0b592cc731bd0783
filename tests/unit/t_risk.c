/* Every gate: passes, refuses, and its boundaries; then the chain's order and the modes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "q_config.h"
#include "q_risk.h"

static const char *const symbols[] = {"BTCUSDT", "ETHUSDT"};

static struct q_dec
dec(const char *s)
{
	struct q_dec d;

	cr_assert_eq(q_dec_parse_str(&d, s, NULL), 0, "%s", s);
	return d;
}

/* A LIVE start on the PRO plan that every gate lets through. */
static struct q_risk_input
good(void)
{
	struct q_risk_input in;

	memset(&in, 0, sizeof(in));
	in.mode = Q_MODE_LIVE;
	in.symbol = "BTCUSDT";
	in.strategy = "EMA";
	in.notional = dec("1000");
	in.regime = "NORMAL";
	in.live_enabled = 1;
	in.allowlisted = 1;
	in.symbols = symbols;
	in.nsymbols = 2;
	in.plan = q_plan_get("PRO");
	in.subscription_status = "active";
	in.now_us = 1800000000000000LL;
	in.subscription_end_us = in.now_us + 86400000000LL;
	in.running_bots = 0;
	in.telegram_linked = 1;
	in.key_present = 1;
	in.key_verified = 1;
	in.loss_today = dec("0");
	in.equity_start = dec("10000");
	return in;
}

static void
refused(const struct q_risk_input *in, enum q_code code, int gate)
{
	struct q_err err = {0};

	cr_assert_eq(q_risk_check(in, &err), -1, "passed, expected %s", q_err_name(code));
	cr_assert_eq(err.code, code, "got %s (%s), expected %s", q_err_name(err.code), err.msg,
	             q_err_name(code));
	cr_assert_eq(q_err_gate(err.code), gate);
	cr_assert_eq(q_err_http_status(err.code), 403);
	cr_assert(err.msg[0] != '\0');
}

static void
passes(const struct q_risk_input *in)
{
	struct q_err err = {0};

	cr_assert_eq(q_risk_check(in, &err), 0, "refused: %s %s", q_err_name(err.code), err.msg);
}

Test(risk, the_good_start_passes_every_gate)
{
	struct q_risk_input in = good();

	passes(&in);
}

Test(risk, gates_are_in_design_order)
{
	size_t n;
	const struct q_gate *g = q_risk_gates(&n);
	int last = 0;

	cr_assert_eq(n, 15);
	for (size_t i = 0; i < n; i++) {
		if (g[i].number == 0)
			continue; /* PLAN_NO_PAPER, PAPER only */
		cr_assert_eq(g[i].number, last + 1, "gate %d after %d", g[i].number, last);
		last = g[i].number;
	}
	cr_assert_eq(last, 14);
}

Test(risk, gate1_symbol)
{
	struct q_risk_input in = good();

	in.symbol = "PUMPUSDT";
	refused(&in, Q_E_SYMBOL_NOT_ALLOWED, 1);
	in.symbol = "btcusdt"; /* exact match only */
	refused(&in, Q_E_SYMBOL_NOT_ALLOWED, 1);
}

Test(risk, gate2_regime_fails_closed)
{
	struct q_risk_input in = good();
	const char *ok[] = {"CALM", "NORMAL", "VOLATILE"};

	for (size_t i = 0; i < 3; i++) {
		in.regime = ok[i];
		passes(&in);
	}
	in.regime = "DANGEROUS";
	refused(&in, Q_E_REGIME_DANGEROUS, 2);
	in.regime = "UNKNOWN";
	refused(&in, Q_E_REGIME_DANGEROUS, 2);
	in.regime = NULL;
	refused(&in, Q_E_REGIME_DANGEROUS, 2);
}

Test(risk, gate3_kill_switch)
{
	struct q_risk_input in = good();

	in.live_enabled = 0;
	refused(&in, Q_E_LIVE_DISABLED, 3);
}

Test(risk, gate4_allowlist)
{
	struct q_risk_input in = good();

	in.allowlisted = 0;
	refused(&in, Q_E_USER_NOT_ALLOWLISTED, 4);
}

Test(risk, gate5_notional_above_zero)
{
	struct q_risk_input in = good();

	in.notional = dec("0");
	refused(&in, Q_E_ZERO_NOTIONAL, 5);
	in.notional = dec("-5");
	refused(&in, Q_E_ZERO_NOTIONAL, 5);
	in.notional = dec("0.000000000000000001");
	passes(&in);
}

Test(risk, gate6_subscription_current_to_the_microsecond)
{
	struct q_risk_input in = good();

	in.subscription_end_us = in.now_us + 1;
	passes(&in);
	in.subscription_end_us = in.now_us; /* expiring this very moment: no longer current */
	refused(&in, Q_E_SUBSCRIPTION_INACTIVE, 6);
	in.subscription_end_us = in.now_us + 1;
	in.subscription_status = "past_due";
	refused(&in, Q_E_SUBSCRIPTION_INACTIVE, 6);
	in.subscription_status = NULL;
	refused(&in, Q_E_SUBSCRIPTION_INACTIVE, 6);
	in.subscription_status = "on_trial";
	passes(&in);
	/* Ended a second ago, or ends a second from now. */
	in.subscription_status = "active";
	in.subscription_end_us = in.now_us - 1000000;
	refused(&in, Q_E_SUBSCRIPTION_INACTIVE, 6);
	in.subscription_end_us = in.now_us + 1000000;
	passes(&in);
	/* Cancelled (or paused, unpaid...) is not active, even inside the paid period. */
	in.subscription_status = "cancelled";
	refused(&in, Q_E_SUBSCRIPTION_INACTIVE, 6);
}

Test(risk, gate6_a_free_plan_needs_no_subscription)
{
	struct q_risk_input in = good();

	in.plan = q_plan_get("FREE");
	in.subscription_status = NULL;
	in.subscription_end_us = 0;
	/* Gate 6 passes; the first refusal is the plan's own, gate 8. */
	refused(&in, Q_E_PLAN_NO_LIVE, 8);
	in.plan = NULL; /* an unknown plan is not free */
	refused(&in, Q_E_SUBSCRIPTION_INACTIVE, 6);
}

Test(risk, gate7_frozen_and_bot_limit)
{
	struct q_risk_input in = good();

	in.running_bots = in.plan->max_bots - 1;
	passes(&in);
	in.running_bots = in.plan->max_bots;
	refused(&in, Q_E_BOT_LIMIT_REACHED, 7);
	in.running_bots = 0;
	in.frozen = 1;
	refused(&in, Q_E_ACCOUNT_FROZEN, 7);
	/* Both: frozen is said first. */
	in.running_bots = in.plan->max_bots + 5;
	refused(&in, Q_E_ACCOUNT_FROZEN, 7);
	/* Each plan's own limit. */
	in = good();
	in.plan = q_plan_get("TEAMS");
	in.running_bots = 49;
	passes(&in);
	in.running_bots = 50;
	refused(&in, Q_E_BOT_LIMIT_REACHED, 7);
}

Test(risk, gate8_plan_live)
{
	struct q_risk_input in = good();

	in.plan = q_plan_get("FREE");
	refused(&in, Q_E_PLAN_NO_LIVE, 8);
	/* STARTER: LIVE with EMA only. */
	in = good();
	in.plan = q_plan_get("STARTER");
	in.notional = dec("250");
	passes(&in);
	in.strategy = "RSI_REVERSION_V1";
	in.strategy_advanced = 1;
	refused(&in, Q_E_PLAN_NO_LIVE, 8);
	in.strategy = NULL;
	refused(&in, Q_E_PLAN_NO_LIVE, 8);
	/* PRO and TEAMS: any strategy (in the right mode). */
	in = good();
	in.plan = q_plan_get("TEAMS");
	in.mode = Q_MODE_LIVE_ADVANCED;
	in.strategy = "CUSTOM";
	in.strategy_advanced = 1;
	passes(&in);
	in.plan = NULL; /* no known plan: no LIVE */
	refused(&in, Q_E_PLAN_NO_LIVE, 8);
}

Test(risk, gate9_advanced_needs_the_feature)
{
	struct q_risk_input in = good();

	in.plan = q_plan_get("STARTER");
	in.notional = dec("100");
	in.mode = Q_MODE_LIVE_ADVANCED;
	refused(&in, Q_E_ADVANCED_NOT_ALLOWED, 9);
	in = good();
	in.mode = Q_MODE_LIVE_ADVANCED;
	in.strategy = "BREAKOUT_V1";
	in.strategy_advanced = 1;
	passes(&in);
	{
		/* A plan with LIVE for every strategy but no advanced feature: an advanced
		 * strategy is refused here even in plain LIVE mode, before gate 11. */
		struct q_plan plain = *q_plan_get("PRO");

		plain.advanced = 0;
		in = good();
		in.plan = &plain;
		in.strategy = "TS_MOMENTUM_V1";
		in.strategy_advanced = 1;
		refused(&in, Q_E_ADVANCED_NOT_ALLOWED, 9);
		in.strategy = "EMA";
		in.strategy_advanced = 0;
		passes(&in);
	}
}

Test(risk, gate10_telegram_linked)
{
	struct q_risk_input in = good();

	in.telegram_linked = 0;
	refused(&in, Q_E_TELEGRAM_NOT_LINKED, 10);
}

Test(risk, gate11_advanced_strategies_run_in_live_advanced_only)
{
	struct q_risk_input in = good();

	in.strategy = "ADAPTIVE_PRO";
	in.strategy_advanced = 1;
	refused(&in, Q_E_STRATEGY_NOT_PERMITTED, 11);
	in.mode = Q_MODE_LIVE_ADVANCED;
	passes(&in);
	in.strategy = "";
	refused(&in, Q_E_STRATEGY_NOT_PERMITTED, 11);
}

Test(risk, gate12_keys)
{
	struct q_risk_input in = good();

	in.key_verified = 0;
	refused(&in, Q_E_KEYS_NOT_VERIFIED, 12);
	in.key_verified = 1;
	in.key_can_withdraw = 1;
	refused(&in, Q_E_KEYS_NOT_VERIFIED, 12);
	in.key_can_withdraw = 0;
	in.key_present = 0;
	refused(&in, Q_E_KEYS_NOT_VERIFIED, 12);
	/* Can withdraw is refused even while the key still reads as verified. */
	in.key_present = 1;
	in.key_verified = 1;
	in.key_can_withdraw = 1;
	refused(&in, Q_E_KEYS_NOT_VERIFIED, 12);
	in.key_can_withdraw = 0;
	passes(&in);
}

Test(risk, gate13_notional_exactly_at_the_cap_passes)
{
	struct q_risk_input in = good();

	in.notional = dec("5000");
	passes(&in);
	in.notional = dec("5000.000000000000000001");
	refused(&in, Q_E_MAX_NOTIONAL_EXCEEDED, 13);
	in.plan = q_plan_get("TEAMS");
	passes(&in);
	in.notional = dec("25000.01");
	refused(&in, Q_E_MAX_NOTIONAL_EXCEEDED, 13);
	in.notional = dec("25000");
	passes(&in);
	/* STARTER's cap, exactly and one unit of 10^-18 above. */
	in = good();
	in.plan = q_plan_get("STARTER");
	in.notional = dec("250");
	passes(&in);
	in.notional = dec("250.000000000000000001");
	refused(&in, Q_E_MAX_NOTIONAL_EXCEEDED, 13);
	{
		/* A LIVE plan without a cap is a broken catalog: refused, never unlimited. */
		struct q_plan nocap = *q_plan_get("PRO");

		nocap.max_notional = NULL;
		in = good();
		in.plan = &nocap;
		refused(&in, Q_E_MAX_NOTIONAL_EXCEEDED, 13);
	}
}

Test(risk, gate14_loss_exactly_at_the_limit_refuses)
{
	struct q_risk_input in = good(); /* PRO: 5 % of 10000 = 500 */

	in.loss_today = dec("499.999999999999999999");
	passes(&in);
	in.loss_today = dec("500");
	refused(&in, Q_E_DAILY_LOSS_LIMIT, 14);
	in.loss_today = dec("12000");
	refused(&in, Q_E_DAILY_LOSS_LIMIT, 14);
	/* No loss is never a breach, even before the day's equity is known. */
	in.loss_today = dec("0");
	in.equity_start = dec("0");
	passes(&in);
	/* Any loss with no starting equity is at the limit (0). */
	in.loss_today = dec("0.01");
	refused(&in, Q_E_DAILY_LOSS_LIMIT, 14);
	/* STARTER: 2 % of 12345.67 is 246.9134, exactly. */
	in = good();
	in.plan = q_plan_get("STARTER");
	in.notional = dec("250");
	in.equity_start = dec("12345.67");
	in.loss_today = dec("246.913399999999999999");
	passes(&in);
	in.loss_today = dec("246.9134");
	refused(&in, Q_E_DAILY_LOSS_LIMIT, 14);
}

Test(risk, the_first_failing_gate_is_reported)
{
	struct q_risk_input in = good();

	in.regime = "DANGEROUS";   /* 2 */
	in.telegram_linked = 0;    /* 10 */
	in.notional = dec("9999"); /* 13 */
	refused(&in, Q_E_REGIME_DANGEROUS, 2);
	in.regime = "CALM";
	refused(&in, Q_E_TELEGRAM_NOT_LINKED, 10);
	in.telegram_linked = 1;
	refused(&in, Q_E_MAX_NOTIONAL_EXCEEDED, 13);
}

Test(risk, paper_runs_gate1_and_plan_no_paper_only)
{
	struct q_risk_input in;

	memset(&in, 0, sizeof(in));
	in.mode = Q_MODE_PAPER;
	in.symbol = "BTCUSDT";
	in.symbols = symbols;
	in.nsymbols = 2;
	in.plan = q_plan_get("FREE");
	in.regime = "DANGEROUS"; /* PAPER is unaffected by the regime and every LIVE gate */
	passes(&in);
	/* Everything a LIVE start needs is missing or wrong; PAPER still starts. */
	in.live_enabled = 0;
	in.allowlisted = 0;
	in.notional = dec("0");
	in.frozen = 1;
	in.running_bots = 99;
	in.strategy = "ADAPTIVE_PRO";
	in.strategy_advanced = 1;
	in.loss_today = dec("1000000");
	passes(&in);
	in.symbol = "SHIBUSDT";
	refused(&in, Q_E_SYMBOL_NOT_ALLOWED, 1);
	{
		struct q_plan no_paper = *q_plan_get("FREE");

		in.symbol = "BTCUSDT";
		no_paper.paper = 0;
		in.plan = &no_paper;
		refused(&in, Q_E_PLAN_NO_PAPER, 0);
	}
}

Test(risk, the_order_recheck_runs_gates_2_3_13_14)
{
	struct q_risk_input in = good();
	struct q_err err = {0};

	in.telegram_linked = 0; /* not re-checked per order */
	cr_assert_eq(q_risk_check_order(&in, &err), 0, "%s", err.msg);
	in.live_enabled = 0;
	cr_assert_eq(q_risk_check_order(&in, &err), -1);
	cr_assert_eq(err.code, Q_E_LIVE_DISABLED);
	q_err_clear(&err);
	in.live_enabled = 1;
	in.loss_today = dec("600");
	cr_assert_eq(q_risk_check_order(&in, &err), -1);
	cr_assert_eq(err.code, Q_E_DAILY_LOSS_LIMIT);
	/* In order: the regime before the kill switch before the cap before the loss. */
	q_err_clear(&err);
	in.notional = dec("5000.5");
	cr_assert_eq(q_risk_check_order(&in, &err), -1);
	cr_assert_eq(err.code, Q_E_MAX_NOTIONAL_EXCEEDED);
	q_err_clear(&err);
	in.live_enabled = 0;
	cr_assert_eq(q_risk_check_order(&in, &err), -1);
	cr_assert_eq(err.code, Q_E_LIVE_DISABLED);
	q_err_clear(&err);
	in.regime = "UNKNOWN";
	cr_assert_eq(q_risk_check_order(&in, &err), -1);
	cr_assert_eq(err.code, Q_E_REGIME_DANGEROUS);
}

Test(risk, every_live_gate_runs_in_both_live_modes_and_paper_runs_two)
{
	size_t n, paper = 0, live = 0, adv = 0;
	const struct q_gate *g = q_risk_gates(&n);

	for (size_t i = 0; i < n; i++) {
		paper += (g[i].modes >> Q_MODE_PAPER) & 1;
		live += (g[i].modes >> Q_MODE_LIVE) & 1;
		adv += (g[i].modes >> Q_MODE_LIVE_ADVANCED) & 1;
		cr_assert_not_null(g[i].fn);
		cr_assert_not_null(g[i].name);
	}
	cr_assert_eq(paper, 2);
	cr_assert_eq(live, 14);
	cr_assert_eq(adv, 14);
	cr_assert_eq(g[0].number, 1);
	cr_assert_eq(g[1].number, 0, "PLAN_NO_PAPER right after gate 1");
	cr_assert_eq(g[1].modes, 1u << Q_MODE_PAPER);
}

/* ---- the plan catalog, as DESIGN.md section 7 has it ------------------------------------- */

Test(plans, the_catalog_is_designs_table)
{
	static const struct {
		const char *id, *price, *strategies, *cap, *loss;
		int live, advanced, bots;
	} want[] = {
	        {"FREE", "0", "none", NULL, "1", 0, 0, 1},
	        {"STARTER", "19", "EMA", "250", "2", 1, 0, 3},
	        {"PRO", "49", "all", "5000", "5", 1, 1, 10},
	        {"TEAMS", "149", "all", "25000", "10", 1, 1, 50},
	};
	size_t n;
	const struct q_plan *p = q_plans_all(&n);

	cr_assert_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(p[i].id, want[i].id);
		cr_assert_eq(q_plan_get(want[i].id), &p[i]);
		cr_assert_str_eq(p[i].price_usd, want[i].price);
		cr_assert_eq(q_plan_is_paid(&p[i]), i > 0);
		cr_assert_eq(p[i].paper, 1);
		cr_assert_eq(p[i].live, want[i].live);
		cr_assert_str_eq(q_plan_live_strategies(&p[i]), want[i].strategies);
		cr_assert_eq(p[i].advanced, want[i].advanced);
		if (want[i].cap)
			cr_assert_str_eq(p[i].max_notional, want[i].cap);
		else
			cr_assert_null(p[i].max_notional);
		cr_assert_str_eq(p[i].daily_loss_pct, want[i].loss);
		cr_assert_eq(p[i].max_bots, want[i].bots);
	}
	cr_assert_null(q_plan_get("pro"));
	cr_assert_null(q_plan_get(NULL));
}

Test(plans, json_shape)
{
	json_t *j = q_plans_json(), *pro;
	char *s;

	cr_assert_eq(json_array_size(json_object_get(j, "plans")), 4);
	pro = json_array_get(json_object_get(j, "plans"), 2);
	s = json_dumps(pro, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(s, "{\"advanced\":true,\"daily_loss_pct\":\"5\",\"id\":\"PRO\","
	                    "\"live\":true,\"live_strategies\":\"all\",\"max_bots\":10,"
	                    "\"max_notional_usd\":\"5000\",\"name\":\"Pro\",\"paper\":true,"
	                    "\"price_usd_month\":\"49\"}");
	free(s);
	cr_assert(json_is_null(json_object_get(json_array_get(json_object_get(j, "plans"), 0),
	                                       "max_notional_usd")));
	json_decref(j);
}

/* ---- [trading] symbols ---------------------------------------------------------------------- */

static int
load_symbols(const char *conf, struct q_risk_symbols *s, struct q_err *err)
{
	struct q_config *cfg = q_config_parse(conf, strlen(conf), "t.conf", err);
	int rc;

	cr_assert_not_null(cfg, "%s", err->msg);
	rc = q_risk_symbols_load(s, cfg, err);
	q_config_free(cfg);
	return rc;
}

Test(symbols, default_list_and_configured_list)
{
	struct q_risk_symbols s;
	struct q_err err = {0};

	cr_assert_eq(load_symbols("[general]\ndev = true\n", &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s.n, 2);
	cr_assert(q_risk_symbols_has(&s, "BTCUSDT"));
	cr_assert(q_risk_symbols_has(&s, "ETHUSDT"));
	cr_assert_not(q_risk_symbols_has(&s, "SOLUSDT"));
	cr_assert_eq(
	        load_symbols("[trading]\nsymbols = BTCUSDT,ETHUSDT, SOLUSDT  XRPUSDT\n", &s, &err),
	        0, "%s", err.msg);
	cr_assert_eq(s.n, 4);
	cr_assert_str_eq(s.v[3], "XRPUSDT");
	cr_assert(q_risk_symbols_has(&s, "SOLUSDT"));
	cr_assert_not(q_risk_symbols_has(&s, "solusdt"));
	cr_assert_not(q_risk_symbols_has(&s, NULL));
}

Test(symbols, a_broken_list_is_a_config_error)
{
	static const char *const bad[] = {
	        "[trading]\nsymbols = btcusdt\n",
	        "[trading]\nsymbols = BTC-USDT\n",
	        "[trading]\nsymbols = ,\n",
	        "[trading]\nsymbols = B\n",
	        "[trading]\nsymbols = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	};
	struct q_risk_symbols s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct q_err err = {0};

		cr_assert_eq(load_symbols(bad[i], &s, &err), -1, "%s", bad[i]);
		cr_assert_eq(err.code, Q_E_CONFIG, "%s", bad[i]);
		cr_assert(strstr(err.msg, "[trading] symbols") != NULL, "%s", err.msg);
	}
	cr_assert(q_risk_symbol_valid("BTCUSDT"));
	cr_assert(q_risk_symbol_valid("1000PEPEUSDT"));
	cr_assert_not(q_risk_symbol_valid(""));
	cr_assert_not(q_risk_symbol_valid(NULL));
}

Test(risk, modes_parse)
{
	cr_assert_eq(q_bot_mode_parse("LIVE_ADVANCED"), Q_MODE_LIVE_ADVANCED);
	cr_assert_eq(q_bot_mode_parse("live"), -1);
	cr_assert_str_eq(q_bot_mode_name(Q_MODE_PAPER), "PAPER");
}
