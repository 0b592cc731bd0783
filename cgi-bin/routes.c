#include "api.h"

#include <stdio.h>
#include <string.h>

/* The one route table. Order matters only between patterns that could match the same path. */
static const struct q_route routes[] = {
        {"GET", "/api/v1/health", h_health_get, 0},
        {"GET", "/api/v1/egress-ips", h_egress_get, 0},
        {"GET", "/.well-known/egress-ips", h_egress_wellknown_get, 0},
        {"GET", "/api/v1/market/regime", h_market_regime_get, 0},
        {"GET", "/api/v1/strategies", h_strategies_get, 0},
        {"GET", "/api/v1/audit/head", h_audit_head_get, 0},
        {"GET", "/api/v1/audit/verify", h_audit_verify_get, 0},
        {"GET", "/api/v1/audit/checkpoint", h_audit_checkpoint_get, 0},
        {"GET", "/api/v1/audit/events", h_audit_events_get, Q_ROUTE_AUTH},
        {"POST", "/api/v1/dev/init-data", h_dev_init_data, Q_ROUTE_JSON | Q_ROUTE_DEV},
        {"GET", "/api/v1/me", h_me_get, Q_ROUTE_AUTH},
        {"GET", "/api/v1/exchange-keys", h_keys_get, Q_ROUTE_AUTH},
        {"POST", "/api/v1/exchange-keys", h_keys_post, Q_ROUTE_AUTH | Q_ROUTE_JSON},
        {"DELETE", "/api/v1/exchange-keys/{id}", h_keys_delete, Q_ROUTE_AUTH},
        {"GET", "/api/v1/status", h_status_get, 0},
        {"GET", "/api/v1/plans", h_plans_get, 0},
        {"GET", "/api/v1/bots", h_bots_list, Q_ROUTE_AUTH},
        {"POST", "/api/v1/bots", h_bots_create, Q_ROUTE_AUTH | Q_ROUTE_JSON},
        {"GET", "/api/v1/bots/{id}", h_bots_get, Q_ROUTE_AUTH},
        {"DELETE", "/api/v1/bots/{id}", h_bots_delete, Q_ROUTE_AUTH},
        {"POST", "/api/v1/bots/{id}/start", h_bots_start, Q_ROUTE_AUTH},
        {"POST", "/api/v1/bots/{id}/stop", h_bots_stop, Q_ROUTE_AUTH},
        {"GET", "/api/v1/admin/allowlist", h_admin_allowlist_get, Q_ROUTE_ADMIN},
        {"PUT", "/api/v1/admin/allowlist", h_admin_allowlist_put, Q_ROUTE_ADMIN | Q_ROUTE_JSON},
        {"GET", "/api/v1/bots/{id}/orders", h_bot_orders_get, Q_ROUTE_AUTH},
        {"GET", "/api/v1/bots/{id}/trades", h_bot_trades_get, Q_ROUTE_AUTH},
        {"GET", "/api/v1/bots/{id}/equity", h_bot_equity_get, Q_ROUTE_AUTH},
        {"POST", "/api/v1/hooks/telegram", h_hooks_telegram_post, Q_ROUTE_JSON},
        {"POST", "/api/v1/admin/live", h_admin_live_post, Q_ROUTE_ADMIN | Q_ROUTE_JSON},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Match path against pattern segment by segment; {name} takes one non-empty segment. */
static int
match(const char *pattern, const char *path, const char **params, int *nparams, struct q_arena *a)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}'), *se = strchr(s, '/');

			if (pe == NULL)
				return 0;
			if (se == NULL)
				se = s + strlen(s);
			if (se == s || n >= Q_REQ_MAX_PARAMS)
				return 0;
			if (params)
				params[n] = q_arena_strndup(a, s, (size_t)(se - s));
			n++;
			p = pe + 1;
			s = se;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p || *s)
		return 0;
	if (nparams)
		*nparams = n;
	return 1;
}

const struct q_route *
q_route_lookup(struct q_req *r, int *status, char *allow, size_t allowlen)
{
	int path_seen = 0;
	size_t used = 0;

	allow[0] = '\0';
	for (size_t i = 0; i < NROUTES; i++) {
		const struct q_route *rt = &routes[i];

		if ((rt->flags & Q_ROUTE_DEV) && !r->ctx->dev)
			continue;
		if (!match(rt->pattern, r->path, NULL, NULL, NULL))
			continue;
		if (strcmp(rt->method, r->method) == 0) {
			match(rt->pattern, r->path, r->params, &r->nparams, r->arena);
			return rt;
		}
		if (!strstr(allow, rt->method) && used + strlen(rt->method) + 3 < allowlen)
			used += (size_t)snprintf(allow + used, allowlen - used, "%s%s",
			                         path_seen ? ", " : "", rt->method);
		path_seen = 1;
	}
	*status = path_seen ? 405 : 404;
	return NULL;
}
