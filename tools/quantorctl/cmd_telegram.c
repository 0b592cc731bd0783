/*
 * quantorctl telegram set-webhook [--url URL]: point Telegram at this server's webhook, with
 * the secret token Telegram then sends in every update.
 * quantorctl outbox drain [--max N] [--loop SECONDS]: send the queued Telegram messages.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "q_outbox.h"
#include "q_telegram.h"

int
cmd_telegram(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const struct q_config *cfg;
	struct q_tg_api api;
	struct q_telegram_conf tc;
	struct q_http *http = NULL;
	struct q_buf url = Q_BUF_INIT;
	const char *given = NULL;
	json_t *params = NULL, *res = NULL;
	int rc = 1;

	if (argc < 2 || strcmp(argv[1], "set-webhook") != 0)
		return ctl_usage("telegram");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
			given = argv[++i];
		else
			return ctl_usage("telegram");
	}
	cfg = ctl_config(c, &err);
	if (cfg == NULL)
		return ctl_fail(&err);
	memset(&api, 0, sizeof(api));
	memset(&tc, 0, sizeof(tc));
	if (q_tg_api_load(&api, cfg, &err) < 0 || q_telegram_conf_load(&tc, cfg, &err) < 0)
		goto out;
	if (given)
		q_buf_adds(&url, given);
	else
		q_buf_printf(&url, "%s", q_config_get(cfg, "http", "public_url", ""));
	if (!given) {
		while (url.len && url.data[url.len - 1] == '/')
			q_buf_truncate(&url, url.len - 1);
		q_buf_adds(&url, "/api/v1/hooks/telegram");
	}
	params = json_pack("{s:s, s:s, s:[s, s]}", "url", url.data, "secret_token",
	                   tc.webhook_secret.data, "allowed_updates", "message",
	                   "pre_checkout_query");
	http = q_http_new();
	if (q_tg_call(http, &api, "setWebhook", params, &res, NULL, &err) < 0)
		goto out;
	printf("webhook set: %s\n", url.data);
	rc = 0;
out:
	json_decref(params);
	json_decref(res);
	q_http_free(http);
	q_buf_release(&url);
	q_tg_api_release(&api);
	q_telegram_conf_release(&tc);
	return rc ? ctl_fail(&err) : 0;
}

static volatile sig_atomic_t stop;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int
cmd_outbox(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const struct q_config *cfg;
	struct q_tg_api api;
	struct q_outbox_stats st;
	struct q_http *http = NULL;
	struct q_db *db = NULL;
	long max = 100, loop = 0;
	int rc = 1;

	if (argc < 2 || strcmp(argv[1], "drain") != 0)
		return ctl_usage("outbox");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
			max = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--loop") == 0 && i + 1 < argc)
			loop = strtol(argv[++i], NULL, 10);
		else
			return ctl_usage("outbox");
	}
	if (max < 1 || max > 100000 || loop < 0 || loop > 3600)
		return ctl_usage("outbox");
	cfg = ctl_config(c, &err);
	if (cfg == NULL)
		return ctl_fail(&err);
	memset(&api, 0, sizeof(api));
	if (q_tg_api_load(&api, cfg, &err) < 0 || (db = ctl_db(c, 0, &err)) == NULL)
		goto out;
	http = q_http_new();
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	do {
		if (q_outbox_drain(db, http, &api, (int)max, &st, &err) < 0)
			goto out;
		if (st.sent || st.retried || st.failed || !loop)
			printf("outbox: %d sent, %d to retry, %d given up\n", st.sent, st.retried,
			       st.failed);
		fflush(stdout);
		for (long s = 0; loop && s < loop && !stop; s++)
			sleep(1);
	} while (loop && !stop);
	rc = 0;
out:
	q_http_free(http);
	q_db_free(db);
	q_tg_api_release(&api);
	return rc ? ctl_fail(&err) : 0;
}
