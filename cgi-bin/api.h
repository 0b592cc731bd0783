/*
 * quantor-api internals: the request, the route table and the helpers handlers use.
 * Handlers are thin (parse, call lib, render): no SQL and no business rules here.
 */
#ifndef Q_API_H
#define Q_API_H

#include <fcgiapp.h>
#include <jansson.h>
#include <stddef.h>

#include "q_arena.h"
#include "q_ctx.h"
#include "q_err.h"
#include "q_identity.h"
#include "q_telegram.h"
#include "q_vault.h"

enum q_route_flags {
	Q_ROUTE_AUTH = 1 << 0,  /* needs a valid Authorization: tma <initData> */
	Q_ROUTE_ADMIN = 1 << 1, /* ... from a Telegram id in telegram.admin_ids */
	Q_ROUTE_JSON = 1 << 2,  /* takes a JSON object body, parsed into r->json */
	Q_ROUTE_DEV = 1 << 3,   /* exists only when [general] dev = true */
};

#define Q_REQ_MAX_PARAMS 4

/* What every worker loads once at startup, besides the config in struct q_ctx. */
struct q_api_conf {
	struct q_identity_conf id; /* bot token, initData age, admins */
	struct q_telegram_conf tg; /* webhook secret, Mini App URL */
	struct q_vault vault;      /* the public half only: seal, never open */
};

struct q_req {
	FCGX_Request *fcgx;
	struct q_arena *arena;
	struct q_ctx *ctx;
	const struct q_api_conf *conf;
	const char *method;
	const char *path;
	const char *query;                    /* "" when none */
	const char *params[Q_REQ_MAX_PARAMS]; /* {name} segments of the matched pattern */
	int nparams;
	const char *body; /* NUL-terminated copy, arena-owned; NULL when empty */
	size_t body_len;
	json_t *json; /* the parsed body of a Q_ROUTE_JSON route, arena-owned */
	int status;   /* response status, 200 unless a handler sets another */
	json_t *out;  /* response body, arena-owned */
	struct q_err err;
	/* The authenticated caller of a Q_ROUTE_AUTH or Q_ROUTE_ADMIN route (user_id = user.id). */
	struct q_user user;
	long long user_id;
};

typedef int (*q_handler_fn)(struct q_req *r);

struct q_route {
	const char *method;
	const char *pattern; /* "/api/v1/bots/{id}/start": {x} matches one non-empty segment */
	q_handler_fn fn;
	unsigned flags;
};

/*
 * Find the route for method + path, filling r->params. NULL when none matches, with
 * *status set to 404 (no path matches) or 405 (the path exists with other methods, listed
 * in allow as "GET, POST").
 */
const struct q_route *q_route_lookup(struct q_req *r, int *status, char *allow, size_t allowlen);

/* A request header by its CGI name (HTTP_AUTHORIZATION); NULL when absent. */
const char *q_req_param(const struct q_req *r, const char *name);

/* Set the response: status and body (the reference is stolen and owned by the arena). */
int q_reply(struct q_req *r, int status, json_t *body);

/* Handlers. */
int h_health_get(struct q_req *r);
int h_audit_head_get(struct q_req *r);
int h_audit_verify_get(struct q_req *r);
int h_audit_checkpoint_get(struct q_req *r);
int h_audit_events_get(struct q_req *r);
int h_dev_init_data(struct q_req *r);
int h_me_get(struct q_req *r);
int h_hooks_telegram_post(struct q_req *r);
int h_admin_live_post(struct q_req *r);
int h_egress_get(struct q_req *r);
int h_egress_wellknown_get(struct q_req *r);
int h_market_regime_get(struct q_req *r);
int h_strategies_get(struct q_req *r);
int h_keys_get(struct q_req *r);
int h_keys_post(struct q_req *r);
int h_keys_delete(struct q_req *r);
int h_status_get(struct q_req *r);
int h_plans_get(struct q_req *r);
int h_bots_list(struct q_req *r);
int h_bots_create(struct q_req *r);
int h_bots_get(struct q_req *r);
int h_bots_delete(struct q_req *r);
int h_bots_start(struct q_req *r);
int h_bots_stop(struct q_req *r);
int h_admin_allowlist_get(struct q_req *r);
int h_admin_allowlist_put(struct q_req *r);
int h_bot_orders_get(struct q_req *r);
int h_bot_trades_get(struct q_req *r);
int h_bot_equity_get(struct q_req *r);

#endif
