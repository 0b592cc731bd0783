/*
 * quantorctl: the operator's command line. One table of subcommands, like git's commands[];
 * each subcommand is in its own cmd_<name>.c. The config comes from $QUANTOR_CONFIG
 * (default /etc/quantor/quantor.conf) and is loaded only by subcommands that need it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "q_crypto.h"
#include "q_log.h"

static int cmd_help(int argc, char **argv, struct ctl *c);

static const struct cmd {
	const char *name;
	int (*fn)(int, char **, struct ctl *);
	const char *usage;
} commands[] = {
        {"help", cmd_help, "help [COMMAND]\n\tlist the commands, or show how to use one"},
        {"migrate", cmd_migrate,
         "migrate [--dir DIR]\n"
         "\tapply the pending sql/migrations as [db] admin_user, then give [db] user its\n"
         "\tleast privileges. DIR: --dir, else $QUANTOR_MIGRATIONS, else [db] migrations_dir,\n"
         "\telse /usr/local/share/quantor/sql/migrations"},
        {"audit", cmd_audit,
         "audit head | verify [--checkpoint FILE|URL]... | checkpoint | keygen [--out FILE]\n"
         "\thead: the chain's last seq and hash. verify: recompute the chain from genesis, then\n"
         "\tcheck that it still extends every stored checkpoint and each one given (a signed\n"
         "\tnote in a file, or a URL serving one or GET /api/v1/audit/checkpoint); exit 1 naming\n"
         "\tthe first bad seq or the checkpoint that no longer matches. checkpoint: sign the head\n"
         "\twith [audit] checkpoint_key_file, store and print the note. keygen: write a new\n"
         "\tsigning key (mode 600, never overwriting) to FILE or [audit] checkpoint_key_file\n"
         "\tand print its public key"},
        {"telegram", cmd_telegram,
         "telegram set-webhook [--url URL]\n"
         "\tpoint the bot's webhook at URL (default [http] public_url + /api/v1/hooks/telegram)\n"
         "\twith [telegram] webhook_secret_file as the secret token Telegram sends back"},
        {"outbox", cmd_outbox,
         "outbox drain [--max N] [--loop SECONDS]\n"
         "\tsend up to N (default 100) queued Telegram messages, honouring retry_after;\n"
         "\twith --loop, again every SECONDS until interrupted"},
        {"keys", cmd_keys,
         "keys gen-master [--out FILE] | rotate [--batch N] | verify\n"
         "\tgen-master: a new vault master key; the private half to FILE (default [vault]\n"
         "\tprivate_key_file; mode 600, never overwritten), the public half printed for\n"
         "\t[vault] public_key. rotate: rewrap every stored exchange key to the current master\n"
         "\tkey, in batches (resumable; keep the old key as previous_private_key_file until\n"
         "\tit says done). verify: ask each key's venue again what it may do; a key that can\n"
         "\tnow withdraw, cannot trade or is refused is marked unverified and its LIVE bots\n"
         "\thalt (exit status 3 when any key was refused or its venue could not be asked)"},
        {"backtest", cmd_backtest,
         "backtest --strategy S --symbol X --interval I --from T --to T [--params JSON]\n"
         "\t[--fee-bps N] [--slippage-bps N] [--exchange NAME] [--json]\n"
         "\trun strategy S over the closed candles of X opening in [--from, --to) (T: YYYY-MM-DD\n"
         "\tor RFC 3339, UTC), as the trader's PAPER mode fills (defaults: fee 10 bps, slippage\n"
         "\t5 bps). Candles come from the database; missing ones are fetched from the venue\n"
         "\t(--exchange, default binance: [exchange.<name>] base_url) and stored. Prints the\n"
         "\ttrades, total return, max drawdown, Sharpe, exposure, trade count and buy-and-hold;\n"
         "\t--json prints one JSON object. Exit status 2 for a bad argument, 1 for a failure"},
        {"live", cmd_live,
         "live on|off --reason TEXT | status\n"
         "\tthe LIVE kill switch: on or off for everyone, recorded with who and why (settings\n"
         "\tand the audit chain); the API and the trader see it on their next request or tick.\n"
         "\tstatus: whether LIVE is on, who set it last and why"},
        {"allowlist", cmd_allowlist,
         "allowlist list | add|remove [--telegram] ID... --reason TEXT\n"
         "\tthe users LIVE trading is open to (gate 4), by Quantor user id (users.id), or by\n"
         "\tTelegram id with --telegram; every change is recorded with who and why"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *
lookup(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
list(FILE *f)
{
	(void)fputs("usage: quantorctl COMMAND [ARGS]\n\n"
	            "Reads the config from $QUANTOR_CONFIG (default " CTL_DEFAULT_CONFIG ").\n"
	            "Commands:\n",
	            f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		(void)fprintf(f, "  %s\n", commands[i].usage);
}

static int
cmd_help(int argc, char **argv, struct ctl *c)
{
	const struct cmd *cmd;

	(void)c;
	if (argc > 2)
		return ctl_usage("help");
	if (argc == 1) {
		list(stdout);
		return 0;
	}
	cmd = lookup(argv[1]);
	if (cmd == NULL) {
		(void)fprintf(stderr, "quantorctl: unknown command '%s'; see quantorctl help\n",
		              argv[1]);
		return 2;
	}
	printf("usage: quantorctl %s\n", cmd->usage);
	return 0;
}

int
ctl_usage(const char *name)
{
	const struct cmd *cmd = lookup(name);

	(void)fprintf(stderr, "usage: quantorctl %s\n", cmd ? cmd->usage : name);
	return 2;
}

int
ctl_fail(const struct q_err *err)
{
	(void)fprintf(stderr, "quantorctl: %s\n", err->msg[0] ? err->msg : q_err_name(err->code));
	return 1;
}

const struct q_config *
ctl_config(struct ctl *c, struct q_err *err)
{
	if (c->cfg == NULL)
		c->cfg = q_config_load(c->config_path, err);
	return c->cfg;
}

struct q_db *
ctl_db(struct ctl *c, int admin, struct q_err *err)
{
	const struct q_config *cfg = ctl_config(c, err);
	struct q_buf password = Q_BUF_INIT;
	struct q_db_opts o;
	struct q_db *db = NULL;

	if (cfg == NULL)
		return NULL;
	if (q_db_opts_from_config(&o, cfg, admin, &password, err) == 0) {
		if (admin)
			o.io_timeout_s = 0;
		db = q_db_open(&o, err);
	}
	q_buf_release_secret(&password);
	return db;
}

int
main(int argc, char **argv)
{
	struct ctl c = {0};
	const struct cmd *cmd;
	const char *env = getenv("QUANTOR_CONFIG");
	int rc;

	(void)signal(SIGPIPE, SIG_IGN);
	q_log_init("quantorctl", Q_LOG_WARN);
	q_crypto_init();
	c.config_path = env && *env ? env : CTL_DEFAULT_CONFIG;
	if (argc < 2) {
		list(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv + 1, &c);
	cmd = lookup(argv[1]);
	if (cmd == NULL) {
		(void)fprintf(stderr, "quantorctl: unknown command '%s'; see quantorctl help\n",
		              argv[1]);
		return 2;
	}
	rc = cmd->fn(argc - 1, argv + 1, &c);
	q_config_free(c.cfg);
	return rc;
}
