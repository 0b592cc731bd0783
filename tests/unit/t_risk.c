/* Every gate: passes, refuses, and its boundaries; then the chain's order and the modes. */
#include <criterion/criterion.h>
#include <string.h>

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
}

Test(risk, modes_parse)
{
	cr_assert_eq(q_bot_mode_parse("LIVE_ADVANCED"), Q_MODE_LIVE_ADVANCED);
	cr_assert_eq(q_bot_mode_parse("live"), -1);
	cr_assert_str_eq(q_bot_mode_name(Q_MODE_PAPER), "PAPER");
}
