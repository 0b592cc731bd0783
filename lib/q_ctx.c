#include "q_ctx.h"
#include "q_buf.h"
#include "q_crypto.h"
#include "q_db.h"
#include "q_log.h"

#include <stdlib.h>
#include <string.h>

const char *
q_ctx_config_path(void)
{
	const char *p = getenv("QUANTOR_CONFIG");

	return p && *p ? p : "/etc/quantor/quantor.conf";
}

int
q_ctx_init(struct q_ctx *ctx, const char *prog, const char *path, struct q_err *err)
{
	const char *lvl;
	int dev = 0, l;

	memset(ctx, 0, sizeof(*ctx));
	ctx->prog = prog;
	q_log_init(prog, Q_LOG_INFO);
	q_crypto_init();
	ctx->cfg = q_config_load(path ? path : q_ctx_config_path(), err);
	if (ctx->cfg == NULL)
		return -1;
	if (q_config_get_bool(ctx->cfg, "general", "dev", 0, &dev, err) < 0)
		goto fail;
	ctx->dev = dev;
	lvl = q_config_get(ctx->cfg, "general", "log_level", NULL);
	if (lvl) {
		if ((l = q_log_level_parse(lvl)) < 0) {
			q_err_set(err, Q_E_CONFIG,
			          "%s: [general] log_level = %s: use debug, info, warn or error",
			          q_config_path(ctx->cfg), lvl);
			goto fail;
		}
		if (getenv("QUANTOR_LOG_LEVEL") == NULL)
			q_log_set_level((enum q_log_level)l);
	}
	return 0;
fail:
	q_config_free(ctx->cfg);
	ctx->cfg = NULL;
	return -1;
}

struct q_db *
q_ctx_db(struct q_ctx *ctx, int admin, struct q_err *err)
{
	struct q_db_opts o;
	struct q_buf pw = Q_BUF_INIT;

	if (ctx->db)
		return ctx->db;
	/* Lazy: the handle exists even while the server is down, connects on first use and
	 * reconnects by itself, so a worker started during an outage recovers without a restart. */
	if (q_db_opts_from_config(&o, ctx->cfg, admin, &pw, err) == 0)
		ctx->db = q_db_open_lazy(&o, err);
	q_buf_release_secret(&pw);
	return ctx->db;
}

void
q_ctx_release(struct q_ctx *ctx)
{
	q_db_free(ctx->db);
	ctx->db = NULL;
	q_config_free(ctx->cfg);
	ctx->cfg = NULL;
}
