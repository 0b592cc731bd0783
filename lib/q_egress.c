#include "q_egress.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
q_egress_cidr_ok(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1], back[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	char *end;
	long prefix;
	int v6;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr) || slash[1] == '\0')
		return 0;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin) != 1)
		return 0;
	prefix = strtol(slash + 1, &end, 10);
	if (*end != '\0' || prefix < 0 || prefix > (v6 ? 128 : 32) ||
	    !(slash[1] >= '0' && slash[1] <= '9'))
		return 0;
	/* Canonical spelling only, so what users copy is what the exchanges accept. */
	return inet_ntop(v6 ? AF_INET6 : AF_INET, bin, back, sizeof(back)) != NULL &&
	       strcmp(back, addr) == 0;
}

/* "a, b,c" into a JSON array of checked CIDRs. */
static json_t *
parse_list(const struct q_config *cfg, const char *key, struct q_err *err)
{
	const char *v = q_config_get(cfg, "egress", key, ""), *p = v;
	json_t *arr = json_array();

	while (*p) {
		char one[64];
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, ", ");
		if (n == 0)
			break;
		if (n >= sizeof(one)) {
			q_err_set(err, Q_E_CONFIG,
			          "%s: [egress] %s: an entry is too long for a CIDR",
			          q_config_path(cfg), key);
			goto fail;
		}
		memcpy(one, p, n);
		one[n] = '\0';
		if (!q_egress_cidr_ok(one)) {
			q_err_set(err, Q_E_CONFIG,
			          "%s: [egress] %s: \"%s\" is not a CIDR such as 203.0.113.7/32 or "
			          "2001:db8::7/128",
			          q_config_path(cfg), key, one);
			goto fail;
		}
		json_array_append_new(arr, json_string(one));
		p += n;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

int
q_egress_load(json_t **out, const struct q_config *cfg, time_t now, struct q_err *err)
{
	json_t *cur = NULL, *prev = NULL;
	const char *until = q_config_get(cfg, "egress", "previous_valid_until", NULL);
	struct tm tm;
	time_t t = 0;
	char *end;

	*out = NULL;
	if ((cur = parse_list(cfg, "current", err)) == NULL ||
	    (prev = parse_list(cfg, "previous", err)) == NULL)
		goto fail;
	if (until != NULL) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(until, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end == NULL || *end != '\0') {
			q_err_set(err, Q_E_CONFIG,
			          "%s: [egress] previous_valid_until = %s: give a UTC time such as "
			          "2026-12-31T00:00:00Z",
			          q_config_path(cfg), until);
			goto fail;
		}
		t = timegm(&tm);
	} else if (json_array_size(prev) > 0) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: [egress] previous needs previous_valid_until: the date until which "
		          "the old addresses stay in use",
		          q_config_path(cfg));
		goto fail;
	}
	if (until != NULL && now >= t)
		json_array_clear(prev);
	*out = json_pack("{s:o, s:o, s:o}", "current", cur, "previous", prev,
	                 "previous_valid_until",
	                 until && json_array_size(prev) ? json_string(until) : json_null());
	return *out ? 0 : q_err_set(err, Q_E_INTERNAL, "egress JSON could not be built");
fail:
	json_decref(cur);
	json_decref(prev);
	return -1;
}

json_t *
q_egress_all(const json_t *egress)
{
	json_t *all = json_array();

	json_array_extend(all, json_object_get(egress, "current"));
	json_array_extend(all, json_object_get(egress, "previous"));
	return all;
}
