#include "q_risk.h"

#include <stdio.h>
#include <string.h>

#define PAPER (1u << Q_MODE_PAPER)
#define LIVE ((1u << Q_MODE_LIVE) | (1u << Q_MODE_LIVE_ADVANCED))

static int
symbol_allowed(const struct q_risk_input *in, struct q_err *err)
{
	for (size_t i = 0; i < in->nsymbols; i++)
		if (in->symbol && strcmp(in->symbols[i], in->symbol) == 0)
			return 0;
	return q_err_set(err, Q_E_SYMBOL_NOT_ALLOWED,
	                 "%s is not one of the liquid pairs Quantor trades",
	                 in->symbol ? in->symbol : "");
}

static int
plan_paper(const struct q_risk_input *in, struct q_err *err)
{
	if (in->plan && in->plan->paper)
		return 0;
	return q_err_set(err, Q_E_PLAN_NO_PAPER, "the %s plan has no paper trading",
	                 in->plan ? in->plan->name : "current");
}

static int
regime(const struct q_risk_input *in, struct q_err *err)
{
	/* UNKNOWN (no data, or stale data) counts as DANGEROUS: fail closed. */
	if (in->regime && (strcmp(in->regime, "CALM") == 0 || strcmp(in->regime, "NORMAL") == 0 ||
	                   strcmp(in->regime, "VOLATILE") == 0))
		return 0;
	return q_err_set(err, Q_E_REGIME_DANGEROUS,
	                 "the market regime is %s: LIVE bots do not start until it calms down",
	                 in->regime ? in->regime : "UNKNOWN");
}

static int
kill_switch(const struct q_risk_input *in, struct q_err *err)
{
	if (in->live_enabled)
		return 0;
	return q_err_set(err, Q_E_LIVE_DISABLED, "LIVE trading is switched off for everyone");
}

static int
allowlist(const struct q_risk_input *in, struct q_err *err)
{
	if (in->allowlisted)
		return 0;
	return q_err_set(err, Q_E_USER_NOT_ALLOWLISTED,
	                 "your account is not on the LIVE allowlist");
}

static int
nonzero_notional(const struct q_risk_input *in, struct q_err *err)
{
	if (q_dec_sign(in->notional) > 0)
		return 0;
	return q_err_set(err, Q_E_ZERO_NOTIONAL, "a LIVE bot needs a notional above zero");
}

static int
subscription(const struct q_risk_input *in, struct q_err *err)
{
	const char *st = in->subscription_status;

	if (in->plan && !q_plan_is_paid(in->plan))
		return 0;
	/* Current means the paid period ends after now: a subscription ending this very
	 * microsecond no longer is. */
	if (st && (strcmp(st, "active") == 0 || strcmp(st, "on_trial") == 0) &&
	    in->subscription_end_us > in->now_us)
		return 0;
	return q_err_set(err, Q_E_SUBSCRIPTION_INACTIVE,
	                 "the %s plan needs an active subscription (%s)",
	                 in->plan ? in->plan->name : "paid", st ? st : "none");
}

static int
account(const struct q_risk_input *in, struct q_err *err)
{
	if (in->frozen)
		return q_err_set(err, Q_E_ACCOUNT_FROZEN, "your account is frozen");
	if (in->plan && in->running_bots >= in->plan->max_bots)
		return q_err_set(err, Q_E_BOT_LIMIT_REACHED,
		                 "the %s plan runs at most %d bot%s at once (running or halted); "
		                 "stop one first",
		                 in->plan->name, in->plan->max_bots,
		                 in->plan->max_bots == 1 ? "" : "s");
	return 0;
}

static int
plan_live(const struct q_risk_input *in, struct q_err *err)
{
	if (in->plan == NULL || !in->plan->live)
		return q_err_set(err, Q_E_PLAN_NO_LIVE, "the %s plan trades on paper only",
		                 in->plan ? in->plan->name : "current");
	if (in->plan->live_ema_only && (in->strategy == NULL || strcmp(in->strategy, "EMA") != 0))
		return q_err_set(err, Q_E_PLAN_NO_LIVE,
		                 "the %s plan trades LIVE with the EMA strategy only",
		                 in->plan->name);
	return 0;
}

static int
advanced(const struct q_risk_input *in, struct q_err *err)
{
	if ((in->mode == Q_MODE_LIVE_ADVANCED || in->strategy_advanced) &&
	    !(in->plan && in->plan->advanced))
		return q_err_set(
		        err, Q_E_ADVANCED_NOT_ALLOWED,
		        "advanced strategies and LIVE_ADVANCED need the Pro or Teams plan");
	return 0;
}

static int
telegram(const struct q_risk_input *in, struct q_err *err)
{
	if (in->telegram_linked)
		return 0;
	return q_err_set(err, Q_E_TELEGRAM_NOT_LINKED,
	                 "start the bot chat first (/start): it is your second way to stop a LIVE "
	                 "bot");
}

static int
strategy_permitted(const struct q_risk_input *in, struct q_err *err)
{
	/* LIVE runs the plain strategies; the advanced ones run in LIVE_ADVANCED only. */
	if (in->strategy == NULL || in->strategy[0] == '\0')
		return q_err_set(err, Q_E_STRATEGY_NOT_PERMITTED, "the bot has no strategy");
	if (in->mode == Q_MODE_LIVE && in->strategy_advanced)
		return q_err_set(err, Q_E_STRATEGY_NOT_PERMITTED,
		                 "%s is an advanced strategy: run it in LIVE_ADVANCED mode",
		                 in->strategy);
	return 0;
}

static int
keys(const struct q_risk_input *in, struct q_err *err)
{
	if (!in->key_present)
		return q_err_set(err, Q_E_KEYS_NOT_VERIFIED, "the bot has no exchange key");
	if (in->key_can_withdraw)
		return q_err_set(
		        err, Q_E_KEYS_NOT_VERIFIED,
		        "the bot's exchange key can withdraw: replace it with a trade-only "
		        "key");
	if (!in->key_verified)
		return q_err_set(err, Q_E_KEYS_NOT_VERIFIED,
		                 "the bot's exchange key is not verified with the exchange");
	return 0;
}

static int
max_notional(const struct q_risk_input *in, struct q_err *err)
{
	struct q_dec cap;
	char n[Q_DEC_STR_MAX];

	if (in->plan == NULL || in->plan->max_notional == NULL ||
	    q_dec_parse_str(&cap, in->plan->max_notional, NULL) < 0)
		return q_err_set(err, Q_E_MAX_NOTIONAL_EXCEEDED,
		                 "the plan allows no LIVE notional");
	if (q_dec_cmp(in->notional, cap) <= 0)
		return 0;
	q_dec_format(n, in->notional);
	return q_err_set(err, Q_E_MAX_NOTIONAL_EXCEEDED,
	                 "notional %s USD is above the %s plan's cap of %s USD", n, in->plan->name,
	                 in->plan->max_notional);
}

static int
daily_loss(const struct q_risk_input *in, struct q_err *err)
{
	struct q_dec pct, hundred = q_dec_from_int(100), limit;
	char l[Q_DEC_STR_MAX], lim[Q_DEC_STR_MAX];

	if (in->plan == NULL || q_dec_parse_str(&pct, in->plan->daily_loss_pct, NULL) < 0 ||
	    q_dec_mul(&limit, in->equity_start, pct, Q_DEC_DOWN, NULL) < 0 ||
	    q_dec_div(&limit, limit, hundred, Q_DEC_DOWN, NULL) < 0)
		return q_err_set(err, Q_E_DAILY_LOSS_LIMIT,
		                 "the daily loss limit cannot be computed");
	/* At the limit is over it: the limit is what may be lost, not one cent more. */
	if (q_dec_sign(in->loss_today) <= 0 || q_dec_cmp(in->loss_today, limit) < 0)
		return 0;
	q_dec_format(l, in->loss_today);
	q_dec_format(lim, limit);
	return q_err_set(err, Q_E_DAILY_LOSS_LIMIT,
	                 "today's loss of %s USD has reached the %s %% daily limit (%s USD); LIVE "
	                 "resumes tomorrow (UTC)",
	                 l, in->plan->daily_loss_pct, lim);
}

static const struct q_gate gates[] = {
        {1, "symbol allowlist", symbol_allowed, PAPER | LIVE},
        {0, "plan allows paper", plan_paper, PAPER},
        {2, "market regime", regime, LIVE},
        {3, "kill switch", kill_switch, LIVE},
        {4, "LIVE allowlist", allowlist, LIVE},
        {5, "non-zero notional", nonzero_notional, LIVE},
        {6, "active subscription", subscription, LIVE},
        {7, "account and bot limit", account, LIVE},
        {8, "plan allows LIVE", plan_live, LIVE},
        {9, "advanced features", advanced, LIVE},
        {10, "Telegram linked", telegram, LIVE},
        {11, "strategy permitted", strategy_permitted, LIVE},
        {12, "exchange key verified", keys, LIVE},
        {13, "max notional", max_notional, LIVE},
        {14, "daily loss", daily_loss, LIVE},
};

const struct q_gate *
q_risk_gates(size_t *n)
{
	*n = sizeof(gates) / sizeof(gates[0]);
	return gates;
}

int
q_risk_check(const struct q_risk_input *in, struct q_err *err)
{
	for (size_t i = 0; i < sizeof(gates) / sizeof(gates[0]); i++)
		if ((gates[i].modes & (1u << in->mode)) && gates[i].fn(in, err) < 0)
			return -1;
	return 0;
}

int
q_risk_check_order(const struct q_risk_input *in, struct q_err *err)
{
	return regime(in, err) < 0 || kill_switch(in, err) < 0 || max_notional(in, err) < 0 ||
	                       daily_loss(in, err) < 0
	               ? -1
	               : 0;
}

static const char *const mode_names[] = {"PAPER", "LIVE", "LIVE_ADVANCED"};

int
q_bot_mode_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (s && strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

const char *
q_bot_mode_name(enum q_bot_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "?";
}

/* ---- trading.symbols ------------------------------------------------------------------- */

static int
symbol_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int
q_risk_symbol_valid(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!symbol_char(s[n]))
			return 0;
	return n >= 2 && n <= Q_RISK_SYMBOL_MAX;
}

int
q_risk_symbols_load(struct q_risk_symbols *s, const struct q_config *cfg, struct q_err *err)
{
	const char *p = q_config_get(cfg, "trading", "symbols", Q_RISK_DEFAULT_SYMBOLS);

	memset(s, 0, sizeof(*s));
	while (*p) {
		size_t n = strcspn(p, ", \t");

		if (n > 0) {
			char *dst;

			if (s->n == Q_RISK_MAX_SYMBOLS)
				return q_err_set(err, Q_E_CONFIG,
				                 "[trading] symbols lists more than %d symbols",
				                 Q_RISK_MAX_SYMBOLS);
			if (n > Q_RISK_SYMBOL_MAX)
				return q_err_set(err, Q_E_CONFIG,
				                 "[trading] symbols: \"%.40s\" is longer than %d "
				                 "characters",
				                 p, Q_RISK_SYMBOL_MAX);
			dst = s->buf[s->n];
			memcpy(dst, p, n);
			dst[n] = '\0';
			if (!q_risk_symbol_valid(dst))
				return q_err_set(
				        err, Q_E_CONFIG,
				        "[trading] symbols: \"%s\" is not a symbol such as "
				        "BTCUSDT (A-Z and 0-9, separated by commas)",
				        dst);
			s->v[s->n++] = dst;
		}
		p += n;
		p += strspn(p, ", \t");
	}
	if (s->n == 0)
		return q_err_set(
		        err, Q_E_CONFIG,
		        "[trading] symbols is empty: list the liquid pairs bots may trade");
	return 0;
}

int
q_risk_symbols_has(const struct q_risk_symbols *s, const char *symbol)
{
	for (size_t i = 0; symbol && i < s->n; i++)
		if (strcmp(s->v[i], symbol) == 0)
			return 1;
	return 0;
}
