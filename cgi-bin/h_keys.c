#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "q_json.h"
#include "q_keys.h"

static json_t *
key_json(const struct q_key *k)
{
	char at[32] = "", created[32] = "";
	json_t *perms = json_loads(k->permissions ? k->permissions : "[]", 0, NULL);

	if (k->verified_at_us)
		q_json_time_rfc3339(at, (time_t)(k->verified_at_us / 1000000));
	if (k->created_us)
		q_json_time_rfc3339(created, (time_t)(k->created_us / 1000000));
	return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:o, s:b, s:o}", "id", (json_int_t)k->id,
	                 "exchange", k->exchange, "label", k->label, "last4", k->last4, "verified",
	                 k->verified, "verified_at", at[0] ? json_string(at) : json_null(),
	                 "permissions", perms ? perms : json_array(), "ip_restricted",
	                 k->ip_restricted, "created_at",
	                 created[0] ? json_string(created) : json_null());
}

/* GET /api/v1/exchange-keys: the caller's keys, last four characters and flags only. */
int
h_keys_get(struct q_req *r)
{
	struct q_db *db = q_ctx_db(r->ctx, 0, &r->err);
	struct q_key *keys;
	size_t n;
	json_t *list;

	if (db == NULL || q_keys_list(db, r->arena, r->user_id, &keys, &n, &r->err) < 0)
		return -1;
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, key_json(&keys[i]));
	return q_reply(r, 200, json_pack("{s:o}", "keys", list));
}

/* Wipe a secret the parsed body holds, in place. */
static void
wipe_str(const char *s)
{
	if (s)
		sodium_memzero((char *)s, strlen(s));
}

/*
 * POST /api/v1/exchange-keys {exchange, label?, api_key, api_secret, passphrase?}: ask the venue
 * what the key may do, refuse a key that can withdraw or cannot trade, store it sealed.
 */
int
h_keys_post(struct q_req *r)
{
	struct q_key_input in = {0};
	struct q_key k, *keys;
	struct q_db *db;
	char actor[48];
	size_t n;
	int rc = -1;

	if (q_json_unpack(r->json, &r->err, "{s:s, s?s, s:s, s:s, s?s}", "exchange", &in.exchange,
	                  "label", &in.label, "api_key", &in.api_key, "api_secret", &in.api_secret,
	                  "passphrase", &in.passphrase) < 0)
		goto out;
	snprintf(actor, sizeof(actor), "user:%lld", r->user_id);
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL ||
	    q_keys_save(db, r->ctx->cfg, &r->conf->vault, r->user_id, actor, &in, &k, &r->err) < 0)
		goto out;
	/* Answer with the stored row, as GET lists it (permissions as the venue reported them). */
	if (q_keys_list(db, r->arena, r->user_id, &keys, &n, &r->err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (keys[i].id == k.id)
			rc = q_reply(r, 201, json_pack("{s:o}", "key", key_json(&keys[i])));
	if (rc < 0)
		q_err_set(&r->err, Q_E_INTERNAL, "exchange key %lld not found after saving", k.id);
out:
	wipe_str(in.api_secret);
	wipe_str(in.passphrase);
	if (r->body)
		sodium_memzero((char *)r->body, r->body_len);
	return rc;
}

/* DELETE /api/v1/exchange-keys/{id}: refused while a running LIVE bot uses the key. */
int
h_keys_delete(struct q_req *r)
{
	char *end, actor[48];
	long long id = strtoll(r->params[0], &end, 10);
	struct q_db *db;

	if (*end || id <= 0)
		return q_err_set_field(&r->err, "id", Q_E_BAD_REQUEST, "key id must be a number");
	snprintf(actor, sizeof(actor), "user:%lld", r->user_id);
	db = q_ctx_db(r->ctx, 0, &r->err);
	if (db == NULL || q_keys_delete(db, r->user_id, id, actor, &r->err) < 0)
		return -1;
	return q_reply(r, 200, json_pack("{s:b, s:I}", "deleted", 1, "id", (json_int_t)id));
}
