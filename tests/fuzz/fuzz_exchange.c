/*
 * libFuzzer target for the exchange response parsers: q_exchange_parse() of every venue and
 * every operation over hostile bytes. Built apart from the Makefile:
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     tests/fuzz/fuzz_exchange.c lib/q_exchange.c lib/exchange/[a-z]*.c lib/q_config.c lib/q_decimal.c \
 *     lib/q_http.c lib/q_crypto.c lib/q_arena.c lib/q_buf.c lib/q_err.c lib/q_log.c \
 *     lib/q_mem.c $(pkg-config --cflags --libs jansson libsodium libcurl) -o build/fuzz_exchange
 * The first byte picks the venue, the second the operation, the third the HTTP status; the rest
 * is the body. Besides memory errors it checks the contract: a failure always has a code, a
 * success of a mutating call never comes from a 5xx, and klines come out oldest first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "q_exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = {200, 400, 401, 403, 404, 418, 429, 500, 503};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct q_exchange_ops *ops;
	struct q_exchange_order_req order = {0};
	struct q_exchange_args args = {0};
	struct q_exchange_result res;
	struct q_exchange_venue_err ve;
	struct q_http_resp resp;
	struct q_err err = {0};
	struct q_arena *a;
	enum q_exchange_op op;
	int rc;

	if (size < 3)
		return 0;
	ops = q_exchange_venue(data[0] % 4);
	op = (enum q_exchange_op)(data[1] % Q_EX_OP__COUNT);
	if (ops->op[op].parse == NULL)
		return 0;
	q_http_resp_init(&resp);
	resp.status = statuses[data[2] % (sizeof(statuses) / sizeof(statuses[0]))];
	q_buf_add(&resp.body, data + 3, size - 3);
	q_buf_adds(&resp.headers, "HTTP/1.1 200 OK\r\nRetry-After: 7\r\n\r\n");
	snprintf(order.symbol, sizeof(order.symbol), "BTCUSDT");
	order.side = Q_EX_BUY;
	order.type = Q_EX_LIMIT;
	q_dec_parse_str(&order.qty, "0.001", NULL);
	q_dec_parse_str(&order.price, "50000", NULL);
	snprintf(order.client_id, sizeof(order.client_id), "qt0000000000001000000000001");
	args.symbol = "BTCUSDT";
	args.interval = "1h";
	args.limit = 100;
	args.client_id = order.client_id;
	args.order = &order;
	args.now_ms = 1796000000000LL;
	a = q_arena_new();
	rc = q_exchange_parse(&res, &ve, ops, &ops->op[op], &args, &resp, a, &err);
	if (rc < 0 && err.code == Q_OK)
		abort();
	if (rc == 0 && resp.status >= 500)
		abort();
	if (rc == 0 && op == Q_EX_OP_KLINES)
		for (size_t i = 1; i < res.nklines; i++)
			if (res.klines[i].open_ms < res.klines[i - 1].open_ms)
				abort();
	q_arena_destroy(a);
	q_http_resp_release(&resp);
	return 0;
}
