/*
 * Helpers shared by the integration tests. They run against the stack that
 * scripts/test-integration.sh started, whose var/test/stack.env is in the environment.
 */
#ifndef Q_ITEST_H
#define Q_ITEST_H

#include <jansson.h>
#include <stddef.h>

#include "q_buf.h"
#include "q_http.h"

/* The value of a stack.env variable; fails the test when it is missing. */
const char *it_env(const char *name);

/* The build directory under test: $QUANTOR_BUILD, else $QUANTOR_SRC/build. */
const char *it_build_dir(void);

struct it_resp {
	long status;
	struct q_http_resp raw;
	json_t *json; /* parsed body, NULL when it is not JSON */
};

/*
 * method path (relative to QUANTOR_URL) with an optional body and extra headers
 * (NULL-terminated). Fails the test on a transport error. Release with it_release.
 */
void it_request(struct it_resp *r, const char *method, const char *path, const char *body,
                size_t body_len, const char *const *headers);
void it_release(struct it_resp *r);

/* A valid initData for Telegram user id ("Ann"), signed with token at auth_date when. */
void it_init_data(struct q_buf *out, const char *token, long long id, const char *first,
                  long long when);

/* method path as Telegram user id: Authorization with initData for this bot, signed now. */
void it_as_user(struct it_resp *r, const char *method, const char *path, long long id,
                const char *body);

/* Header of the response, or NULL. */
const char *it_header(struct it_resp *r, const char *name);

/* Assert the single error shape with this code; returns the message. */
const char *it_assert_error(struct it_resp *r, long status, const char *code);

/* Run a command through sh -c from the repository root; returns its exit status. */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
