/*
 * quantorctl audit: the operator's view of the audit chain.
 *   audit head                           the chain's last seq and hash
 *   audit verify [--checkpoint FILE|URL]  recompute the chain, check it extends every stored
 *                                        checkpoint and each given one
 *   audit checkpoint                     sign the head and store the checkpoint
 *   audit keygen [--out FILE]            write a new signing key, print its public key
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "q_audit.h"
#include "q_checkpoint.h"
#include "q_crypto.h"
#include "q_http.h"

#define ACTOR "operator:quantorctl"
#define MAX_CHECKPOINTS 32

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
audit_head(struct ctl *c)
{
	struct q_err err = {0};
	struct q_audit_entry head;
	struct q_db *db = ctl_db(c, 0, &err);
	int rc = 1;

	if (db == NULL || q_audit_head(db, &head, &err) < 0)
		goto out;
	printf("%llu %s\n", head.seq, head.hash);
	rc = 0;
out:
	q_db_free(db);
	return rc ? ctl_fail(&err) : 0;
}

/* A file, or an http(s) URL whose body is a note or the JSON of GET /api/v1/audit/checkpoint. */
static int
load_note(const char *src, struct q_buf *out, struct q_err *err)
{
	if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0) {
		struct q_http *h = q_http_new();
		struct q_http_resp resp;
		struct q_http_req req = {0};
		json_t *j = NULL;
		int rc = -1;

		q_http_resp_init(&resp);
		req.url = src;
		req.max_response = (size_t)Q_CHECKPOINT_MAX_NOTE * 4;
		if (q_http_do(h, &resp, &req, err) < 0)
			goto out;
		if (resp.status != 200) {
			q_err_set(err, Q_E_HTTP, "%s answered %ld", src, resp.status);
			goto out;
		}
		if (resp.body.len > 0 && resp.body.data[0] == '{') {
			const char *note;

			j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
			note = json_string_value(json_object_get(j, "note"));
			if (note == NULL) {
				q_err_set(err, Q_E_BAD_REQUEST,
				          "%s: JSON without a \"note\" string", src);
				goto out;
			}
			q_buf_adds(out, note);
		} else {
			q_buf_add(out, resp.body.data, resp.body.len);
		}
		rc = 0;
	out:
		json_decref(j);
		q_http_resp_release(&resp);
		q_http_free(h);
		return rc;
	}
	{
		FILE *f = fopen(src, "rb");
		char chunk[4096];
		size_t n;

		if (f == NULL)
			return q_err_set(err, Q_E_IO, "%s: %s", src, strerror(errno));
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
		       out->len <= Q_CHECKPOINT_MAX_NOTE)
			q_buf_add(out, chunk, n);
		fclose(f);
	}
	return 0;
}

static int
audit_verify(int argc, char **argv, struct ctl *c)
{
	const char *given[MAX_CHECKPOINTS];
	int ngiven = 0, rc = 1;
	struct q_err err = {0};
	struct q_audit_conf conf;
	struct q_audit_verify_result res;
	const struct q_config *cfg;
	struct q_db *db = NULL;
	unsigned long long stored = 0;
	int have_conf = 0;
	double t0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--checkpoint") == 0 && i + 1 < argc &&
		    ngiven < MAX_CHECKPOINTS)
			given[ngiven++] = argv[++i];
		else
			return ctl_usage("audit");
	}
	cfg = ctl_config(c, &err);
	if (cfg == NULL || q_audit_conf_load(&conf, cfg, 0, &err) < 0)
		goto out;
	have_conf = 1;
	db = ctl_db(c, 0, &err);
	if (db == NULL)
		goto out;
	t0 = now_s();
	if (q_audit_verify(db, 0, &res, &err) < 0)
		goto out;
	if (!res.ok) {
		q_err_set(&err, Q_E_AUDIT_BROKEN, "audit chain broken at seq %llu: %s",
		          res.first_bad_seq, res.reason);
		goto out;
	}
	printf("chain: ok, %llu entries, head %s (%.3f s)\n", res.seq, res.head, now_s() - t0);
	if (!conf.have_pk) {
		struct q_arena *a = q_arena_new();
		struct q_audit_checkpoint latest;
		int found = q_audit_checkpoint_latest(db, a, &latest, &err);

		q_arena_destroy(a);
		if (found < 0)
			goto out;
		/* Nothing to check is fine; checkpoints that cannot be checked are not. */
		if (found > 0 || ngiven > 0) {
			q_err_set(&err, Q_E_CONFIG,
			          "cannot check checkpoints: set [audit] public_key or "
			          "public_key_file");
			goto out;
		}
		printf("checkpoints: none stored, none given\n");
		rc = 0;
		goto out;
	}
	if (q_audit_checkpoint_check_stored(db, &conf, &stored, &err) < 0)
		goto out;
	printf("stored checkpoints: %llu, each extended by the chain\n", stored);
	for (int i = 0; i < ngiven; i++) {
		struct q_buf note = Q_BUF_INIT;
		struct q_checkpoint cp = {0};
		struct q_err e = {0};

		if (load_note(given[i], &note, &e) == 0)
			q_audit_checkpoint_check(db, &conf, note.data, note.len, &cp, &e);
		q_buf_release(&note);
		if (e.code != Q_OK) {
			q_err_set(&err, e.code, "checkpoint %s: %s", given[i], e.msg);
			goto out;
		}
		printf("checkpoint %s: size %llu, extended by the chain\n", given[i], cp.size);
	}
	rc = 0;
out:
	if (have_conf)
		q_audit_conf_release(&conf);
	q_db_free(db);
	return rc ? ctl_fail(&err) : 0;
}

static int
audit_checkpoint(struct ctl *c)
{
	struct q_err err = {0};
	struct q_audit_conf conf;
	struct q_audit_checkpoint cp;
	struct q_buf note = Q_BUF_INIT;
	const struct q_config *cfg = ctl_config(c, &err);
	struct q_db *db = NULL;
	int rc = 1, have_conf = 0;

	if (cfg == NULL || q_audit_conf_load(&conf, cfg, 1, &err) < 0)
		goto out;
	have_conf = 1;
	db = ctl_db(c, 0, &err);
	if (db == NULL || q_audit_checkpoint_sign(db, &conf, ACTOR, &note, &cp, &err) < 0)
		goto out;
	fwrite(note.data, 1, note.len, stdout);
	fprintf(stderr, "checkpoint %llu stored: size %llu, head %s\n", cp.id, cp.size, cp.hash);
	rc = 0;
out:
	if (have_conf)
		q_audit_conf_release(&conf);
	q_buf_release(&note);
	q_db_free(db);
	return rc ? ctl_fail(&err) : 0;
}

/* Where keygen writes: --out FILE, else [audit] checkpoint_key_file next to the config. */
static int
key_path(struct ctl *c, const char *out, struct q_buf *path, struct q_err *err)
{
	const struct q_config *cfg;
	const char *name, *cp, *slash;

	if (out != NULL) {
		q_buf_adds(path, out);
		return 0;
	}
	cfg = ctl_config(c, err);
	if (cfg == NULL)
		return -1;
	name = q_config_get(cfg, "audit", "checkpoint_key_file", NULL);
	if (name == NULL || *name == '\0')
		return q_err_set(err, Q_E_CONFIG,
		                 "give --out FILE or set [audit] checkpoint_key_file in %s",
		                 q_config_path(cfg));
	cp = q_config_path(cfg);
	slash = strrchr(cp, '/');
	if (name[0] == '/' || slash == NULL)
		q_buf_adds(path, name);
	else
		q_buf_printf(path, "%.*s/%s", (int)(slash - cp), cp, name);
	return 0;
}

static int
audit_keygen(int argc, char **argv, struct ctl *c)
{
	struct q_err err = {0};
	struct q_buf path = Q_BUF_INIT;
	uint8_t seed[Q_ED25519_SEED_LEN], pk[Q_ED25519_PK_LEN], sk[Q_ED25519_SK_LEN];
	char hex[2 * Q_ED25519_SEED_LEN + 2], pkhex[2 * Q_ED25519_PK_LEN + 1];
	const char *out = NULL;
	int fd = -1, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			return ctl_usage("audit");
	}
	if (key_path(c, out, &path, &err) < 0)
		goto out;
	/* O_EXCL: an existing key is never overwritten (its checkpoints would stop verifying). */
	fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		q_err_set(&err, Q_E_IO, "%s: %s%s", path.data, strerror(errno),
		          errno == EEXIST ? " (refusing to overwrite a signing key)" : "");
		goto out;
	}
	q_random(seed, sizeof(seed));
	q_ed25519_seed_keypair(pk, sk, seed);
	q_hex_encode(hex, seed, sizeof(seed));
	hex[sizeof(hex) - 2] = '\n';
	hex[sizeof(hex) - 1] = '\0';
	if (fchmod(fd, 0600) < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) ||
	    fsync(fd) < 0) {
		q_err_set(&err, Q_E_IO, "%s: %s", path.data, strerror(errno));
		unlink(path.data);
		goto out;
	}
	q_hex_encode(pkhex, pk, sizeof(pk));
	printf("%s\n", pkhex);
	fprintf(stderr,
	        "wrote the checkpoint signing key to %s (mode 600); set [audit] public_key = %s\n",
	        path.data, pkhex);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	q_wipe(seed, sizeof(seed));
	q_wipe(sk, sizeof(sk));
	q_wipe(hex, sizeof(hex));
	q_buf_release(&path);
	return rc ? ctl_fail(&err) : 0;
}

int
cmd_audit(int argc, char **argv, struct ctl *c)
{
	if (argc < 2)
		return ctl_usage("audit");
	if (strcmp(argv[1], "head") == 0 && argc == 2)
		return audit_head(c);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1, c);
	if (strcmp(argv[1], "checkpoint") == 0 && argc == 2)
		return audit_checkpoint(c);
	if (strcmp(argv[1], "keygen") == 0)
		return audit_keygen(argc - 1, argv + 1, c);
	return ctl_usage("audit");
}
