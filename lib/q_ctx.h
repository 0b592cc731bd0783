/*
 * q_ctx: the process-lifetime state every program holds once: the loaded config, the dev
 * flag and the database connection (opened lazily, so a responder can start while the
 * database is down and report it through /api/v1/health instead of refusing to start).
 */
#ifndef Q_CTX_H
#define Q_CTX_H

#include "q_config.h"
#include "q_err.h"

struct q_db;

struct q_ctx {
	const char *prog;
	struct q_config *cfg;
	struct q_db *db; /* NULL until q_ctx_db() first succeeds */
	int dev;         /* [general] dev = true: development-only features are on */
};

/* The config path: $QUANTOR_CONFIG, else /etc/quantor/quantor.conf. */
const char *q_ctx_config_path(void);

/*
 * Load the config (path NULL: q_ctx_config_path()), set up logging (prog name, [general]
 * log_level) and libsodium. -1 with Q_E_CONFIG naming the file and line on a broken config.
 */
int q_ctx_init(struct q_ctx *ctx, const char *prog, const char *path, struct q_err *err);

/*
 * The database handle, created on first use with the [db] settings as the least-privileged
 * application user (admin != 0: as the migration owner; the first call decides). The handle
 * connects lazily and reconnects by itself, so it is returned even while the server is down:
 * calls on it then fail with Q_E_DB_UNAVAILABLE. NULL only for a broken [db] config.
 */
struct q_db *q_ctx_db(struct q_ctx *ctx, int admin, struct q_err *err);

/* Close the connection and free the config. */
void q_ctx_release(struct q_ctx *ctx);

#endif
