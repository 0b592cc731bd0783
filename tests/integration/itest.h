/*
 * Helpers shared by the integration tests. They run against the stack that
 * scripts/test-integration.sh started, whose var/test/stack.env is in the environment.
 */
#ifndef Q_ITEST_H
#define Q_ITEST_H

#include <jansson.h>
#include <stddef.h>

#include "q_buf.h"
#include "q_db.h"
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

/*
 * The application's database as the stack's config names it (least-privileged user), opened
 * on first use and kept for the test process. Fails the test when it cannot be had.
 */
struct q_db *it_db(void);

/* The one number sql returns for one integer parameter ("SELECT COUNT(*) ... WHERE x = ?"). */
long long it_count(const char *sql, long long arg);

/* The users.id of a Telegram id; fails the test when there is none. */
long long it_user_id(long long telegram_id);

/* POST a JSON body to path on quantor-sim; fails the test unless it answers 200. */
void it_sim_post(const char *path, const char *body);

/* GET path on quantor-sim, its JSON body as a new reference; fails the test when not JSON. */
json_t *it_sim_get(const char *path);

/* Run a command through sh -c from the repository root; returns its exit status. */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
