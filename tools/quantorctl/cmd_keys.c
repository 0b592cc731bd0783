/*
 * quantorctl keys gen-master [--out FILE]: a new vault master key (X25519); the private half to
 *   FILE (mode 600, never overwriting), the public half printed for [vault] public_key.
 * quantorctl keys rotate [--batch N]: rewrap every stored key to the current master key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "q_audit.h"
#include "q_crypto.h"
#include "q_keys.h"
#include "q_vault.h"

static int
gen_master(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const char *out = NULL;
	uint8_t pk[Q_VAULT_KEY_LEN], sk[Q_VAULT_KEY_LEN];
	char skhex[2 * Q_VAULT_KEY_LEN + 2], pkhex[2 * Q_VAULT_KEY_LEN + 1], id[17];
	ssize_t w;
	int fd;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			return ctl_usage("keys");
	}
	if (out == NULL) {
		const struct q_config *cfg = ctl_config(c, &err);

		if (cfg == NULL)
			return ctl_fail(&err);
		out = q_config_get(cfg, "vault", "private_key_file", NULL);
		if (out == NULL) {
			q_err_set(&err, Q_E_CONFIG,
			          "say where: --out FILE, or [vault] private_key_file");
			return ctl_fail(&err);
		}
	}
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		q_err_set(&err, Q_E_IO, "cannot create %s: %s%s", out, strerror(errno),
		          errno == EEXIST ? " (a master key is never overwritten)" : "");
		return ctl_fail(&err);
	}
	q_vault_keygen(pk, sk);
	q_hex_encode(skhex, sk, sizeof(sk));
	skhex[(size_t)2 * Q_VAULT_KEY_LEN] = '\n';
	w = write(fd, skhex, 2 * Q_VAULT_KEY_LEN + 1);
	q_wipe(sk, sizeof(sk));
	q_wipe(skhex, sizeof(skhex));
	if (w != 2 * Q_VAULT_KEY_LEN + 1 || fsync(fd) != 0 || close(fd) != 0) {
		q_err_set(&err, Q_E_IO, "cannot write %s: %s", out, strerror(errno));
		unlink(out);
		return ctl_fail(&err);
	}
	q_hex_encode(pkhex, pk, sizeof(pk));
	q_vault_kek_id(id, pk);
	printf("%s\n", pkhex);
	fprintf(stderr,
	        "vault master key %s written to %s (mode 600).\n"
	        "Set [vault] public_key = %s\n"
	        "Only the trader and quantorctl may read the private key file; the API needs the "
	        "public key alone.\n",
	        id, out, pkhex);
	return 0;
}

static int
rotate(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const struct q_config *cfg;
	struct q_vault v;
	struct q_db *db = NULL;
	long long stale = 0, total = 0;
	long batch = 50;
	int done = 0, rc = 1;
	char actor[] = "operator:quantorctl";

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = strtol(argv[++i], NULL, 10);
		else
			return ctl_usage("keys");
	}
	if (batch < 1 || batch > 256)
		return ctl_usage("keys");
	cfg = ctl_config(c, &err);
	if (cfg == NULL)
		return ctl_fail(&err);
	memset(&v, 0, sizeof(v));
	if (q_vault_load_private(&v, cfg, &err) < 0 || (db = ctl_db(c, 0, &err)) == NULL ||
	    q_keys_count_stale(db, &v, &stale, &err) < 0)
		goto out;
	if (stale == 0) {
		printf("every stored key is on master key %s\n", v.current.id);
		rc = 0;
		goto out;
	}
	printf("rewrapping %lld keys to master key %s\n", stale, v.current.id);
	do {
		if (q_keys_rotate_batch(db, &v, (int)batch, &done, &err) < 0)
			goto out;
		total += done;
		printf("  %lld of %lld\n", total, stale);
		fflush(stdout);
	} while (done > 0);
	{
		json_t *data =
		        json_pack("{s:s, s:I}", "kek_id", v.current.id, "keys", (json_int_t)total);

		if (q_audit_append(db, actor, 0, "vault.rotated", data, NULL, &err) < 0) {
			json_decref(data);
			goto out;
		}
		json_decref(data);
	}
	printf("done: every stored key is on master key %s; previous_private_key_file can go\n",
	       v.current.id);
	rc = 0;
out:
	q_db_free(db);
	q_vault_release(&v);
	return rc ? ctl_fail(&err) : 0;
}

static void
verify_progress(const struct q_key *k, const struct q_err *result, void *ud)
{
	int *i = ud;

	printf("  key %lld (%s ...%s): %s%s%s\n", k->id, k->exchange, k->last4,
	       result->code == Q_OK ? "trade-only, verified" : q_err_name(result->code),
	       result->code == Q_OK ? "" : ": ", result->code == Q_OK ? "" : result->msg);
	fflush(stdout);
	(*i)++;
}

/* keys verify: re-run the venue's permission check on every stored key, as the trader daily. */
static int
verify(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	const struct q_config *cfg;
	struct q_keys_verify_stats st;
	struct q_vault v;
	struct q_db *db = NULL;
	int rc = 1, seen = 0;

	if (argc != 2)
		return ctl_usage(argv[0]);
	cfg = ctl_config(c, &err);
	if (cfg == NULL)
		return ctl_fail(&err);
	memset(&v, 0, sizeof(v));
	if (q_vault_load_private(&v, cfg, &err) < 0 || (db = ctl_db(c, 0, &err)) == NULL)
		goto out;
	printf("verifying every stored exchange key with its venue\n");
	if (q_keys_verify_all(db, cfg, &v, "operator:quantorctl", &st, verify_progress, &seen,
	                      &err) < 0)
		goto out;
	printf("done: %d checked, %d verified, %d refused (%d LIVE bots halted), %d venues "
	       "unreachable\n",
	       st.checked, st.verified, st.refused, st.halted_bots, st.unreachable);
	/* An unreachable venue proved nothing: say so in the exit status. */
	rc = st.refused > 0 || st.unreachable > 0 ? 3 : 0;
out:
	q_db_free(db);
	q_vault_release(&v);
	return rc == 1 ? ctl_fail(&err) : rc;
}

int
cmd_keys(int argc, char **argv, struct ctl *c)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify(argc, argv, c);
	if (argc >= 2 && strcmp(argv[1], "gen-master") == 0)
		return gen_master(argc, argv, c);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return rotate(argc, argv, c);
	return ctl_usage("keys");
}
