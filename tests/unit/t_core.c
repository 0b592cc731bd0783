#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "q_arena.h"
#include "q_buf.h"
#include "q_err.h"
#include "q_log.h"

Test(err, table_has_status_and_name)
{
	cr_assert_eq(q_err_http_status(Q_E_NOT_FOUND), 404);
	cr_assert_str_eq(q_err_name(Q_E_NOT_FOUND), "NOT_FOUND");
	cr_assert_eq(q_err_http_status(Q_E_DB_UNAVAILABLE), 503);
	cr_assert_eq(q_err_http_status(Q_E_PAYLOAD_TOO_LARGE), 413);
	cr_assert_eq(q_err_gate(Q_E_MAX_NOTIONAL_EXCEEDED), 13);
	cr_assert_eq(q_err_gate(Q_E_SYMBOL_NOT_ALLOWED), 1);
	cr_assert_eq(q_err_gate(Q_E_NOT_FOUND), 0);
	cr_assert_eq(q_err_from_name("DAILY_LOSS_LIMIT"), Q_E_DAILY_LOSS_LIMIT);
	cr_assert_eq(q_err_from_name("NOPE"), -1);
	/* Out of range reads as INTERNAL instead of indexing past the table. */
	cr_assert_eq(q_err_http_status((enum q_code)9999), 500);
}

Test(err, every_gate_1_to_14_has_a_code)
{
	int seen[15] = {0};

	for (int c = 0; c < Q_ERR__COUNT; c++)
		seen[q_err_gate((enum q_code)c)]++;
	for (int g = 1; g <= 14; g++)
		cr_assert_geq(seen[g], 1, "gate %d has no code", g);
}

Test(err, first_error_wins_and_records_where)
{
	struct q_err e = {0};
	char where[128];
	int line = __LINE__ + 1;
	int rc = q_err_set(&e, Q_E_NOT_FOUND, "bot %d not found", 12);

	cr_assert_eq(rc, -1);
	q_err_set(&e, Q_E_INTERNAL, "later");
	cr_assert_eq(e.code, Q_E_NOT_FOUND);
	cr_assert_str_eq(e.msg, "bot 12 not found");
	cr_assert_eq(e.line, line);
	cr_assert(strstr(e.func, "first_error_wins_and_records_where") != NULL);
	q_err_where(&e, where, sizeof(where));
	cr_assert(strstr(where, "t_core.c:") != NULL);
	q_err_clear(&e);
	cr_assert_eq(e.code, Q_OK);
	q_err_set_field(&e, "symbol", Q_E_BAD_REQUEST, "bad symbol");
	cr_assert_str_eq(e.field, "symbol");
	cr_assert_eq(q_err_set(NULL, Q_E_INTERNAL, "dropped"), -1);
}

static int cleanup_order[4];
static int cleanup_n;

static void
record(void *p)
{
	cleanup_order[cleanup_n++] = *(int *)p;
}

Test(arena, allocations_are_aligned_and_distinct)
{
	struct q_arena *a = q_arena_new();
	char *p[100];

	for (int i = 0; i < 100; i++) {
		p[i] = q_arena_alloc(a, (size_t)i * 37 + 1);
		cr_assert_eq((uintptr_t)p[i] % 16, 0);
		memset(p[i], i, (size_t)i * 37 + 1);
	}
	for (int i = 0; i < 100; i++)
		cr_assert_eq((unsigned char)p[i][i * 37], (unsigned char)i);
	/* A large block does not disturb small allocations around it. */
	char *big = q_arena_zalloc(a, 1 << 20);
	cr_assert_eq(big[(1 << 20) - 1], 0);
	cr_assert_str_eq(q_arena_printf(a, "%s-%d", "x", 42), "x-42");
	cr_assert_str_eq(q_arena_strndup(a, "abcdef", 3), "abc");
	cr_assert_geq(q_arena_used(a), (size_t)(1 << 20));
	q_arena_destroy(a);
}

Test(arena, cleanups_run_in_reverse_on_destroy_and_reset)
{
	struct q_arena *a = q_arena_new();
	int v[3] = {1, 2, 3};

	cleanup_n = 0;
	for (int i = 0; i < 3; i++)
		q_arena_cleanup_add(a, record, &v[i]);
	q_arena_reset(a);
	cr_assert_eq(cleanup_n, 3);
	cr_assert_eq(cleanup_order[0], 3);
	cr_assert_eq(cleanup_order[2], 1);
	cr_assert_eq(q_arena_used(a), 0);
	q_arena_cleanup_add(a, record, &v[0]);
	q_arena_destroy(a);
	cr_assert_eq(cleanup_n, 4);
	q_arena_destroy(NULL);
}

Test(buf, grows_and_stays_terminated)
{
	struct q_buf b = Q_BUF_INIT;

	cr_assert_str_eq(b.data, "");
	for (int i = 0; i < 1000; i++)
		q_buf_printf(&b, "%d,", i);
	cr_assert_eq(b.len, strlen(b.data));
	cr_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	q_buf_truncate(&b, 2);
	cr_assert_str_eq(b.data, "0,");
	q_buf_add(&b, "a\0b", 3);
	cr_assert_eq(b.len, 5);
	cr_assert_eq(b.data[3], '\0');
	cr_assert_eq(b.data[5], '\0');
	size_t n;
	char *d = q_buf_detach(&b, &n);
	cr_assert_eq(n, 5);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	free(d);
	q_buf_release(&b);
}

Test(log, redacts_secret_keys_and_registered_values)
{
	char line[512];

	q_log_init("t", Q_LOG_INFO);
	q_log_format(line, sizeof(line), Q_LOG_INFO, "x",
	             "user=7 bot_token=123:ABC api_secret=\"a b\"");
	cr_assert(strstr(line, "user=7") != NULL);
	cr_assert(strstr(line, "123:ABC") == NULL, "%s", line);
	cr_assert(strstr(line, "a b") == NULL, "%s", line);
	cr_assert(strstr(line, "bot_token=[redacted]") != NULL, "%s", line);

	q_log_secret("hunter2hunter2");
	q_log_format(line, sizeof(line), Q_LOG_INFO, "x", "msg=\"oops hunter2hunter2 leaked\"");
	cr_assert(strstr(line, "hunter2") == NULL, "%s", line);
	q_log_secrets_clear();
}

Test(log, one_event_is_one_line)
{
	char line[512];

	q_log_format(line, sizeof(line), Q_LOG_WARN, "x", "path=/a\nts=forged level=error");
	cr_assert(strchr(line, '\n') == NULL, "%s", line);
	cr_assert(strstr(line, "\\n") != NULL);
	cr_assert(strstr(line, "level=warn") != NULL);
}
