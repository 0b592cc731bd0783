/*
 * quantorctl live on|off --reason TEXT: the LIVE kill switch, as POST /api/v1/admin/live
 *   flips it: recorded in settings (who, why) and as "killswitch.flipped" in the audit chain;
 *   the API and the trader read it on their next request or tick.
 * quantorctl live status: whether LIVE trading is on, who set it last and why.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "q_json.h"
#include "q_settings.h"

void
ctl_operator(char actor[64])
{
	const struct passwd *pw = getpwuid(getuid());
	const char *login = pw && pw->pw_name ? pw->pw_name : "";
	size_t n = strlen(login);

	/* The audit chain takes printable ASCII actors; anything else is named generically. */
	for (size_t i = 0; i < n; i++)
		if (login[i] <= ' ' || login[i] > '~')
			n = 0;
	snprintf(actor, 64, "operator:%s", n > 0 && n <= 48 ? login : "quantorctl");
}

static int
status(struct ctl *c)
{
	struct q_err err = {0};
	struct q_setting_meta meta;
	struct q_db *db = ctl_db(c, 0, &err);
	char at[32] = "never";
	int on = 0;

	if (db == NULL || q_settings_live(db, &on, &meta, &err) < 0) {
		q_db_free(db);
		return ctl_fail(&err);
	}
	if (meta.updated_at_us)
		q_json_time_rfc3339(at, (time_t)(meta.updated_at_us / 1000000));
	printf("LIVE trading: %s\nset: %s by %s\nreason: %s\n", on ? "on" : "off", at,
	       meta.updated_by[0] ? meta.updated_by : "nobody (off until someone says why)",
	       meta.reason[0] ? meta.reason : "-");
	q_db_free(db);
	return 0;
}

int
cmd_live(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const char *reason = NULL;
	char actor[64];
	struct q_db *db;
	int on, rc;

	if (argc == 2 && strcmp(argv[1], "status") == 0)
		return status(c);
	if (argc < 2 || (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0))
		return ctl_usage("live");
	on = strcmp(argv[1], "on") == 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			reason = argv[++i];
		else if (strncmp(argv[i], "--reason=", 9) == 0)
			reason = argv[i] + 9;
		else
			return ctl_usage("live");
	}
	if (reason == NULL) {
		(void)fputs("quantorctl: say why: live on|off --reason TEXT (it is recorded)\n",
		            stderr);
		return 2;
	}
	ctl_operator(actor);
	db = ctl_db(c, 0, &err);
	rc = db == NULL || q_settings_set_live(db, on, actor, reason, &err) < 0;
	q_db_free(db);
	if (rc)
		return ctl_fail(&err);
	printf("LIVE trading is now %s (recorded as %s: %s)\n", on ? "ON" : "OFF", actor, reason);
	return 0;
}
