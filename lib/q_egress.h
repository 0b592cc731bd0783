/*
 * q_egress: the addresses the trader calls exchanges from, published so that users can pin
 * their API keys to them. During a rotation the previous list stays valid until a published
 * date, so a key pinned to the old addresses keeps working while its owner adds the new ones.
 *
 * Config [egress]: current = CIDR, CIDR...; previous = CIDR...; previous_valid_until = an
 * RFC 3339 UTC time ("2026-12-31T00:00:00Z").
 */
#ifndef Q_EGRESS_H
#define Q_EGRESS_H

#include <jansson.h>
#include <time.h>

#include "q_config.h"
#include "q_err.h"

/*
 * Parse and check [egress] (every entry an IPv4 or IPv6 CIDR; previous needs
 * previous_valid_until). On success *out is {"current":[...],"previous":[...],
 * "previous_valid_until":"..."|null} with previous emptied once that time is past (at now).
 * -1 with Q_E_CONFIG naming the bad entry.
 */
int q_egress_load(json_t **out, const struct q_config *cfg, time_t now, struct q_err *err);

/* The JSON array of every CIDR valid now: current, then previous while it is still valid. */
json_t *q_egress_all(const json_t *egress);

/* 1 when s is a valid IPv4 or IPv6 CIDR in canonical form (address/prefix). */
int q_egress_cidr_ok(const char *s);

#endif
