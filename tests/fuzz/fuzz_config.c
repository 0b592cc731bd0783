/*
 * libFuzzer target for q_config_parse. Built apart from the Makefile:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     tests/fuzz/fuzz_config.c lib/q_config.c lib/q_arena.c lib/q_buf.c lib/q_err.c \
 *     lib/q_log.c lib/q_mem.c $(pkg-config --cflags --libs libsodium) -o build/fuzz_config
 * Besides memory errors it checks the contract: a refusal is Q_E_CONFIG naming the file, and
 * every key that the iterators list can be read back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "q_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static void
exercise(const struct q_config *cfg)
{
	const char *sections[16], *keys[16];
	int ns = q_config_sections(cfg, NULL, sections, 16);

	for (int i = 0; i < ns && i < 16; i++) {
		int nk = q_config_keys(cfg, sections[i], keys, 16);

		if (nk < 0 || q_config_sections(cfg, sections[i], NULL, 0) < 1)
			abort();
		for (int k = 0; k < nk && k < 16; k++) {
			struct q_err err = {0};
			long long n;
			int b;

			if (q_config_get(cfg, sections[i], keys[k], NULL) == NULL)
				abort();
			if (q_config_get_int(cfg, sections[i], keys[k], 0, -1000, 1000, &n, &err) <
			            0 &&
			    err.code != Q_E_CONFIG)
				abort();
			memset(&err, 0, sizeof(err));
			if (q_config_get_bool(cfg, sections[i], keys[k], 0, &b, &err) < 0 &&
			    err.code != Q_E_CONFIG)
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct q_err err = {0};
	struct q_config *cfg = q_config_parse((const char *)data, size, NAME, &err);

	if (cfg == NULL) {
		if (err.code != Q_E_CONFIG || strncmp(err.msg, NAME ":", strlen(NAME ":")) != 0)
			abort();
		return 0;
	}
	exercise(cfg);
	q_config_free(cfg);
	return 0;
}
