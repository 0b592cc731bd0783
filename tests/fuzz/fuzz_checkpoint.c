/*
 * libFuzzer target for the checkpoint note parser: q_checkpoint_parse, q_checkpoint_verify and
 * q_checkpoint_open. Built apart from the Makefile:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     $(pkg-config --cflags libsodium) tests/fuzz/fuzz_checkpoint.c lib/q_checkpoint.c \
 *     lib/q_crypto.c lib/q_buf.c lib/q_err.c lib/q_mem.c $(pkg-config --libs libsodium) \
 *     -o build/fuzz_checkpoint
 * Besides memory errors it checks the contract: a refusal is Q_E_BAD_REQUEST and leaves the
 * struct zeroed; what parses has a valid origin, a body that ends with "\n" inside the note,
 * 1 to 16 signatures whose names lie inside the note; a signature check fails only with
 * Q_E_UNAUTHORIZED; and re-signing what parsed with our key gives a note that opens again
 * with the same origin, size and hash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "q_buf.h"
#include "q_checkpoint.h"
#include "q_crypto.h"
#include "q_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pk[Q_ED25519_PK_LEN], sk[Q_ED25519_SK_LEN];
static struct q_checkpoint_key key;

static void
init_once(void)
{
	static int done;
	uint8_t seed[Q_ED25519_SEED_LEN] = {7};

	if (done)
		return;
	q_crypto_init();
	q_ed25519_seed_keypair(pk, sk, seed);
	if (q_checkpoint_key_init(&key, "quantor.local/audit", pk, NULL) < 0)
		abort();
	done = 1;
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *note = (const char *)data;
	struct q_checkpoint cp, again;
	struct q_err err = {0};
	struct q_buf resigned = Q_BUF_INIT;

	init_once();
	if (q_checkpoint_parse(&cp, note, size, &err) < 0) {
		if (err.code != Q_E_BAD_REQUEST || !all_zero(&cp, sizeof(cp)))
			abort();
		return 0;
	}
	if (!q_checkpoint_name_ok(cp.origin) || cp.body_len == 0 || cp.body_len >= size ||
	    note[cp.body_len - 1] != '\n' || note[cp.body_len] != '\n' || cp.nsigs == 0 ||
	    cp.nsigs > Q_CHECKPOINT_MAX_SIGS || cp.size > (unsigned long long)INT64_MAX)
		abort();
	for (size_t i = 0; i < cp.nsigs; i++)
		if (cp.sigs[i].name < note || cp.sigs[i].name + cp.sigs[i].name_len > note + size ||
		    cp.sigs[i].name_len == 0)
			abort();
	q_err_clear(&err);
	if (q_checkpoint_verify(&cp, note, &key, &err) < 0 && err.code != Q_E_UNAUTHORIZED)
		abort();
	if (q_checkpoint_sign(&resigned, cp.origin, cp.size, cp.hash, key.name, sk, NULL) < 0)
		abort();
	if (q_checkpoint_open(&again, resigned.data, resigned.len, &key, cp.origin, NULL) < 0 ||
	    strcmp(again.origin, cp.origin) != 0 || again.size != cp.size ||
	    memcmp(again.hash, cp.hash, sizeof(cp.hash)) != 0)
		abort();
	q_buf_release(&resigned);
	return 0;
}
