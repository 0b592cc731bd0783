/*
 * quantorctl: what the subcommands share. main.c holds the command table, loads the config and
 * dispatches; each subcommand lives in its own cmd_<name>.c as
 *   int cmd_<name>(int argc, char **argv, struct ctl *c);
 * with argv[0] the subcommand's name, and returns the process exit status: 0 on success, 1 on
 * failure (print it with ctl_fail), 2 on a usage error (ctl_usage).
 */
#ifndef Q_CTL_H
#define Q_CTL_H

#include "q_config.h"
#include "q_db.h"
#include "q_err.h"

#define CTL_DEFAULT_CONFIG "/etc/quantor/quantor.conf"

struct ctl {
	const char *config_path; /* $QUANTOR_CONFIG, else CTL_DEFAULT_CONFIG */
	struct q_config *cfg;    /* NULL until ctl_config() loads it */
};

/* The config, loaded on first use. NULL with err set (Q_E_CONFIG naming the file). */
const struct q_config *ctl_config(struct ctl *c, struct q_err *err);

/*
 * A database connection from the config's [db] section, as the application user, or as the
 * migration owner when admin is non-zero (then without an I/O timeout: DDL can take long).
 * NULL with err set. Free with q_db_free.
 */
struct q_db *ctl_db(struct ctl *c, int admin, struct q_err *err);

/* Print "quantorctl: <message>" on stderr. Returns 1, the exit status of a failed command. */
int ctl_fail(const struct q_err *err);

/* Print the usage of subcommand name, from the command table, on stderr. Returns 2. */
int ctl_usage(const char *name);

int cmd_migrate(int argc, char **argv, struct ctl *c);
int cmd_audit(int argc, char **argv, struct ctl *c);
int cmd_telegram(int argc, char **argv, struct ctl *c);
int cmd_outbox(int argc, char **argv, struct ctl *c);
int cmd_keys(int argc, char **argv, struct ctl *c);
int cmd_backtest(int argc, char **argv, struct ctl *c);
int cmd_live(int argc, char **argv, struct ctl *c);
int cmd_allowlist(int argc, char **argv, struct ctl *c);

/* The audit actor of the person running quantorctl: "operator:<login>" (cmd_live.c). */
void ctl_operator(char actor[64]);

#endif
