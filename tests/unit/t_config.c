#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "q_buf.h"
#include "q_config.h"
#include "q_err.h"
#include "q_log.h"

#define CONF "/etc/quantor/quantor.conf"
#define SECRET "8123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

static char tmpdir[64];

static struct q_config *
parse(const char *text, struct q_err *err)
{
	q_err_clear(err);
	return q_config_parse(text, strlen(text), CONF, err);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/t_config.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void
remove_tmpdir(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	q_log_secrets_clear();
}

/* Write dir/name with exactly this mode (fchmod, so the umask does not interfere). */
static void
write_file(const char *dir, const char *name, const char *text, size_t len, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0, "open %s", path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
write_str(const char *dir, const char *name, const char *text, mode_t mode)
{
	write_file(dir, name, text, strlen(text), mode);
}

/* Load tmpdir/quantor.conf holding text. */
static struct q_config *
load_conf(const char *text)
{
	char path[512];
	struct q_err err = {0};
	struct q_config *cfg;

	write_str(tmpdir, "quantor.conf", text, 0644);
	snprintf(path, sizeof(path), "%s/quantor.conf", tmpdir);
	cfg = q_config_load(path, &err);
	cr_assert_not_null(cfg, "%s", err.msg);
	return cfg;
}

Test(config, happy_path)
{
	static const char text[] = "\xef\xbb\xbf# Quantor\n"
	                           "; also a comment\n"
	                           "\n"
	                           "[db]\n"
	                           "  host   =   localhost  \n"
	                           "\tport\t=\t3306\r\n"
	                           "name = \"quantor db\"\n"
	                           "padded = \"  a  \"\n"
	                           "empty =\n"
	                           "quoted_empty = \"\"\n"
	                           "dsn_like = a=b;c=d\n"
	                           "hash = not # a comment\n"
	                           "[exchange.binance]\n"
	                           "base_url = \"https://api.binance.com\"\n"
	                           "[ billing.lemonsqueezy ]\n"
	                           "store-id = 42\n"
	                           "[db]\n"
	                           "user = quantor";
	struct q_err err;
	struct q_config *cfg = parse(text, &err);

	cr_assert_not_null(cfg, "%s", err.msg);
	cr_assert_str_eq(q_config_path(cfg), CONF);
	cr_assert_str_eq(q_config_get(cfg, "db", "host", NULL), "localhost");
	cr_assert_str_eq(q_config_get(cfg, "db", "port", NULL), "3306");
	cr_assert_str_eq(q_config_get(cfg, "db", "name", NULL), "quantor db");
	cr_assert_str_eq(q_config_get(cfg, "db", "padded", NULL), "  a  ");
	cr_assert_str_eq(q_config_get(cfg, "db", "empty", "def"), "");
	cr_assert_str_eq(q_config_get(cfg, "db", "quoted_empty", "def"), "");
	cr_assert_str_eq(q_config_get(cfg, "db", "dsn_like", NULL), "a=b;c=d");
	cr_assert_str_eq(q_config_get(cfg, "db", "hash", NULL), "not # a comment");
	cr_assert_str_eq(q_config_get(cfg, "db", "user", NULL), "quantor");
	cr_assert_str_eq(q_config_get(cfg, "exchange.binance", "base_url", NULL),
	                 "https://api.binance.com");
	cr_assert_str_eq(q_config_get(cfg, "billing.lemonsqueezy", "store-id", NULL), "42");
	cr_assert_str_eq(q_config_get(cfg, "db", "missing", "fallback"), "fallback");
	cr_assert_null(q_config_get(cfg, "nosuch", "host", NULL));
	cr_assert_null(q_config_get(cfg, "exchange", "base_url", NULL));
	cr_assert_eq(err.code, Q_OK);
	q_config_free(cfg);
	q_config_free(NULL);
}

Test(config, empty_input_is_an_empty_config)
{
	struct q_err err;
	struct q_config *cfg = parse("", &err);

	cr_assert_not_null(cfg);
	cr_assert_eq(q_config_sections(cfg, NULL, NULL, 0), 0);
	q_config_free(cfg);
	cfg = q_config_parse(NULL, 0, NULL, &err);
	cr_assert_not_null(cfg);
	cr_assert_str_eq(q_config_path(cfg), "<config>");
	q_config_free(cfg);
}

Test(config, sections_and_keys_are_listed_in_file_order)
{
	struct q_err err;
	struct q_config *cfg = parse("[db]\nhost = h\nport = 1\n"
	                             "[exchange.okx]\n[exchange.binance]\nkey_file = b\n"
	                             "[exchanges]\n[db]\nuser = u\n",
	                             &err);
	const char *names[8];
	int n;

	cr_assert_not_null(cfg, "%s", err.msg);
	n = q_config_sections(cfg, "exchange.", names, 8);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "exchange.okx");
	cr_assert_str_eq(names[1], "exchange.binance");
	cr_assert_eq(q_config_sections(cfg, NULL, NULL, 0), 4, "a reopened section counts once");
	cr_assert_eq(q_config_sections(cfg, "", names, 1), 4, "the total, even past max");
	cr_assert_str_eq(names[0], "db");
	cr_assert_eq(q_config_sections(cfg, "nope", names, 8), 0);

	n = q_config_keys(cfg, "db", names, 8);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(names[0], "host");
	cr_assert_str_eq(names[1], "port");
	cr_assert_str_eq(names[2], "user");
	cr_assert_eq(q_config_keys(cfg, "exchange.okx", names, 8), 0);
	cr_assert_eq(q_config_keys(cfg, "nosuch", names, 8), 0);
	cr_assert_eq(q_config_keys(cfg, "db", NULL, 0), 3);
	q_config_free(cfg);
}

struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int line;
	const char *says;
};

static void
check_bad(const struct bad_case *c)
{
	char prefix[64];
	struct q_err err = {0};
	struct q_config *cfg;

	cfg = q_config_parse(c->text, c->len ? c->len : strlen(c->text), CONF, &err);
	cr_assert_null(cfg, "accepted: %s", c->text);
	cr_assert_eq(err.code, Q_E_CONFIG);
	snprintf(prefix, sizeof(prefix), CONF ":%d: ", c->line);
	cr_assert(strncmp(err.msg, prefix, strlen(prefix)) == 0, "want %s in: %s", prefix, err.msg);
	cr_assert(strstr(err.msg, c->says) != NULL, "want \"%s\" in: %s", c->says, err.msg);
}

Test(config, every_malformed_line_names_file_line_and_fix)
{
	static const struct bad_case cases[] = {
	        {"[db]\nhost = x\njunk line\n", 0, 3,
	         "expected \"key = value\" or \"[section]\"; fix or remove this line"},
	        {"[db]\n\n[telegram\n", 0, 3,
	         "unterminated section header; write it as \"[name]\""},
	        {"[]\n", 0, 1, "empty section name; write it as \"[name]\""},
	        {"[  ]\n", 0, 1, "empty section name"},
	        {"[Db]\n", 0, 1, "bad section name \"Db\"; use only a-z, 0-9, '_', '.' and '-'"},
	        {"[a b]\n", 0, 1, "bad section name \"a b\""},
	        {"[db] # main\n", 0, 1, "unexpected text after \"]\"; put comments on a line"},
	        {"# top\nhost = x\n[db]\n", 0, 2,
	         "key \"host\" is outside any section; add a \"[section]\" line above it"},
	        {"[db]\n = x\n", 0, 2, "missing key before \"=\"; write \"key = value\""},
	        {"[db]\nHost = x\n", 0, 2, "bad key \"Host\"; use only a-z, 0-9"},
	        {"[db]\nmy key = x\n", 0, 2, "bad key \"my key\""},
	        {"[db]\nk\xc3\xa9y = x\n", 0, 2, "bad key"},
	        {"[db]\nname = \"abc\n", 0, 2,
	         "value of \"name\" opens a double quote but does not "
	         "close it"},
	        {"[db]\nname = \"\n", 0, 2, "opens a double quote"},
	        {"[db]\na = 1\n\n# again\na = 2\n", 0, 5,
	         "duplicate key \"a\" in [db], first set on line 2; keep only one"},
	        {"[db]\na = 1\n[x]\n[db]\na = 2\n", 0, 5, "duplicate key \"a\" in [db]"},
	        {"[db]\na = b\x01"
	         "c\n",
	         0, 2, "control character 0x01 in column 6; remove it"},
	        {"[db]\na = b\rc\n", 0, 2, "control character 0x0d"},
	        {"[db]\na = b\x7f\n", 0, 2, "control character 0x7f"},
	        {"[db]\na = b\0c\n", 12, 2, "control character 0x00"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_bad(&cases[i]);
}

Test(config, long_lines_and_large_files_are_refused)
{
	size_t n = strlen("[db]\nk = ") + Q_CONFIG_MAX_LINE;
	char *text = malloc(Q_CONFIG_MAX_SIZE + 2);
	struct q_err err = {0};
	struct q_config *cfg;
	struct bad_case c;

	/* A line of exactly Q_CONFIG_MAX_LINE bytes is fine, one more is not. */
	memcpy(text, "[db]\nk = ", 9);
	memset(text + 9, 'v', n - 9 - 4);
	text[n - 4] = '\0';
	cfg = q_config_parse(text, strlen(text), CONF, &err);
	cr_assert_not_null(cfg, "%s", err.msg);
	cr_assert_eq(strlen(q_config_get(cfg, "db", "k", "")), Q_CONFIG_MAX_LINE - 4);
	q_config_free(cfg);
	memset(text + 9, 'v', n - 9 + 1);
	text[n + 1] = '\0';
	c = (struct bad_case){text, 0, 2, "line is longer than 4096 bytes; shorten it"};
	check_bad(&c);

	/* The size cap holds even for a text made only of comments. */
	memset(text, '#', Q_CONFIG_MAX_SIZE + 1);
	for (size_t i = 100; i < Q_CONFIG_MAX_SIZE; i += 100)
		text[i] = '\n';
	q_err_clear(&err);
	cfg = q_config_parse(text, Q_CONFIG_MAX_SIZE, CONF, &err);
	cr_assert_not_null(cfg, "%s", err.msg);
	q_config_free(cfg);
	cr_assert_null(q_config_parse(text, Q_CONFIG_MAX_SIZE + 1, CONF, &err));
	cr_assert_eq(err.code, Q_E_CONFIG);
	cr_assert_str_eq(err.msg, CONF ": file is 1048577 bytes, over the 1048576 byte limit; is "
	                               "this the right file?");
	free(text);
}

Test(config, many_keys_stay_distinct)
{
	struct q_buf text = Q_BUF_INIT;
	struct q_err err = {0};
	struct q_config *cfg;
	long long v;

	for (int s = 0; s < 2000; s++) {
		q_buf_printf(&text, "[s%d]\n", s);
		for (int k = 0; k < 5; k++)
			q_buf_printf(&text, "k%d = %d\n", k, s * 10 + k);
	}
	cfg = q_config_parse(text.data, text.len, CONF, &err);
	cr_assert_not_null(cfg, "%s", err.msg);
	cr_assert_eq(q_config_sections(cfg, "s1", NULL, 0), 1111);
	for (int s = 0; s < 2000; s += 7) {
		char sec[16];

		snprintf(sec, sizeof(sec), "s%d", s);
		cr_assert_eq(q_config_get_int(cfg, sec, "k3", -1, 0, 100000, &v, &err), 0);
		cr_assert_eq(v, s * 10 + 3);
		cr_assert_eq(q_config_keys(cfg, sec, NULL, 0), 5);
	}
	q_config_free(cfg);
	q_buf_printf(&text, "[s1999]\nk4 = again\n");
	cr_assert_null(q_config_parse(text.data, text.len, CONF, &err));
	cr_assert(strstr(err.msg,
	                 ":12002: duplicate key \"k4\" in [s1999], first set on line 12000") !=
	                  NULL,
	          "%s", err.msg);
	q_buf_release(&text);
}

Test(config, integers_with_ranges)
{
	struct q_err err;
	struct q_config *cfg = parse("[db]\n"
	                             "port = 3306\n"
	                             "neg = -5\n"
	                             "plus = +7\n"
	                             "quoted = \"12\"\n"
	                             "big = 70000\n"
	                             "words = 12abc\n"
	                             "empty =\n"
	                             "float = 1.5\n"
	                             "hex = 0x10\n"
	                             "space = \" 5\"\n"
	                             "huge = 99999999999999999999\n"
	                             "sign = -\n",
	                             &err);
	long long v = 0;

	cr_assert_not_null(cfg, "%s", err.msg);
	cr_assert_eq(q_config_get_int(cfg, "db", "port", 0, 1, 65535, &v, &err), 0);
	cr_assert_eq(v, 3306);
	cr_assert_eq(q_config_get_int(cfg, "db", "neg", 0, -10, 10, &v, &err), 0);
	cr_assert_eq(v, -5);
	cr_assert_eq(q_config_get_int(cfg, "db", "plus", 0, -10, 10, &v, &err), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(q_config_get_int(cfg, "db", "quoted", 0, 0, 100, &v, &err), 0);
	cr_assert_eq(v, 12);
	cr_assert_eq(q_config_get_int(cfg, "db", "absent", 99, 0, 10, &v, &err), 0);
	cr_assert_eq(v, 99, "the default is returned as is");
	cr_assert_eq(err.code, Q_OK);

	cr_assert_eq(q_config_get_int(cfg, "db", "big", 0, 1, 65535, &v, &err), -1);
	cr_assert_eq(err.code, Q_E_CONFIG);
	cr_assert_str_eq(err.msg,
	                 CONF ":6: db.big = 70000 is out of range; use a whole number from "
	                      "1 to 65535");
	cr_assert_eq(q_config_get_int(cfg, "db", "neg", 0, 0, 10, &v, &err), -1);

	static const struct {
		const char *key;
		int line;
	} bad[] = {{"words", 7}, {"empty", 8},  {"float", 9},
	           {"hex", 10},  {"space", 11}, {"sign", 13}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		q_err_clear(&err);
		v = 1234;
		cr_assert_eq(q_config_get_int(cfg, "db", bad[i].key, 0, 0, 100, &v, &err), -1, "%s",
		             bad[i].key);
		cr_assert_eq(v, 1234, "*out untouched on error");
		snprintf(want, sizeof(want), CONF ":%d: db.%s = \"", bad[i].line, bad[i].key);
		cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
		cr_assert(strstr(err.msg, "is not a whole number; use one from 0 to 100") != NULL,
		          "%s", err.msg);
	}
	q_err_clear(&err);
	cr_assert_eq(q_config_get_int(cfg, "db", "huge", 0, 0, 100, &v, &err), -1);
	cr_assert(strstr(err.msg, ":12: db.huge = 99999999999999999999 is out of range") != NULL,
	          "%s", err.msg);
	q_config_free(cfg);
}

Test(config, booleans)
{
	struct q_err err;
	struct q_config *cfg =
	        parse("[t]\na = true\nb = yes\nc = on\nd = 1\ne = TRUE\nf = false\ng = no\n"
	              "h = off\ni = 0\nj = Off\nk = maybe\nl =\nm = 2\n",
	              &err);
	const char *yes[] = {"a", "b", "c", "d", "e"}, *no[] = {"f", "g", "h", "i", "j"};
	int v;

	cr_assert_not_null(cfg, "%s", err.msg);
	for (int i = 0; i < 5; i++) {
		v = -1;
		cr_assert_eq(q_config_get_bool(cfg, "t", yes[i], 0, &v, &err), 0);
		cr_assert_eq(v, 1, "%s", yes[i]);
		cr_assert_eq(q_config_get_bool(cfg, "t", no[i], 1, &v, &err), 0);
		cr_assert_eq(v, 0, "%s", no[i]);
	}
	cr_assert_eq(q_config_get_bool(cfg, "t", "absent", 1, &v, &err), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(q_config_get_bool(cfg, "t", "absent", 0, &v, &err), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(err.code, Q_OK);
	cr_assert_eq(q_config_get_bool(cfg, "t", "k", 0, &v, &err), -1);
	cr_assert_eq(err.code, Q_E_CONFIG);
	cr_assert_str_eq(err.msg, CONF ":12: t.k = \"maybe\" is not a boolean; use true or false "
	                               "(yes/no, on/off, 1/0 also work)");
	q_err_clear(&err);
	cr_assert_eq(q_config_get_bool(cfg, "t", "l", 0, &v, &err), -1);
	q_err_clear(&err);
	cr_assert_eq(q_config_get_bool(cfg, "t", "m", 0, &v, &err), -1);
	q_config_free(cfg);
}

Test(config, load_reads_a_file_and_reports_what_is_wrong, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	char path[512], want[1024];
	struct q_err err = {0};
	struct q_config *cfg = load_conf("[db]\nhost = h\n");
	char *big;

	cr_assert_str_eq(q_config_get(cfg, "db", "host", NULL), "h");
	snprintf(path, sizeof(path), "%s/quantor.conf", tmpdir);
	cr_assert_str_eq(q_config_path(cfg), path);
	q_config_free(cfg);

	/* A broken line names the real path. */
	write_str(tmpdir, "quantor.conf", "[db]\nhost = h\n\n[db2]\nbroken\n", 0644);
	cr_assert_null(q_config_load(path, &err));
	snprintf(want, sizeof(want), "%s:5: expected \"key = value\"", path);
	cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);

	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	q_err_clear(&err);
	cr_assert_null(q_config_load(path, &err));
	cr_assert_eq(err.code, Q_E_CONFIG);
	snprintf(want, sizeof(want),
	         "cannot open config file %s: No such file or directory; create it or point "
	         "QUANTOR_CONFIG at it",
	         path);
	cr_assert_str_eq(err.msg, want);

	q_err_clear(&err);
	cr_assert_null(q_config_load(tmpdir, &err));
	cr_assert(strstr(err.msg, "is not a regular file") != NULL, "%s", err.msg);

	big = malloc(Q_CONFIG_MAX_SIZE + 1);
	memset(big, '\n', Q_CONFIG_MAX_SIZE + 1);
	write_file(tmpdir, "big.conf", big, Q_CONFIG_MAX_SIZE + 1, 0644);
	free(big);
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	q_err_clear(&err);
	cr_assert_null(q_config_load(path, &err));
	cr_assert(strstr(err.msg, "file is 1048577 bytes, over the 1048576 byte limit") != NULL,
	          "%s", err.msg);
}

/* The secret in a q_buf, or the error message. */
static int
secret(const struct q_config *cfg, const char *key, struct q_buf *out, struct q_err *err)
{
	q_err_clear(err);
	q_buf_release_secret(out);
	return q_config_secret(cfg, "telegram", key, out, err);
}

Test(config, secret_file_0600_is_read_and_scrubbed_from_logs, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	struct q_config *cfg = load_conf("[telegram]\nbot_token_file = bot.token\n");
	struct q_buf out = Q_BUF_INIT;
	struct q_err err;
	char line[512];

	write_str(tmpdir, "bot.token", SECRET "\n", 0600);
	/* The working directory plays no part. */
	cr_assert_eq(chdir("/"), 0);
	cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, SECRET);
	cr_assert_eq(out.len, strlen(SECRET));
	q_log_format(line, sizeof(line), Q_LOG_INFO, "x", "msg=\"got " SECRET " here\"");
	cr_assert(strstr(line, SECRET) == NULL, "%s", line);
	cr_assert(strstr(line, "got [redacted] here") != NULL, "%s", line);

	/* Appended after what out already holds. */
	q_buf_release_secret(&out);
	q_buf_adds(&out, "k=");
	q_err_clear(&err);
	cr_assert_eq(q_config_secret(cfg, "telegram", "bot_token_file", &out, &err), 0);
	cr_assert_str_eq(out.data, "k=" SECRET);
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

Test(config, secret_strips_exactly_one_line_end, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct q_config *cfg = load_conf("[telegram]\ncrlf = crlf\ntwo = two\nnone = none\n"
	                                 "bin = bin\nonly_nl = only_nl\nempty = empty\n");
	struct q_buf out = Q_BUF_INIT;
	struct q_err err;

	write_str(tmpdir, "crlf", "abcdef\r\n", 0600);
	write_str(tmpdir, "two", "abcdef\n\n", 0600);
	write_str(tmpdir, "none", "abc def", 0600);
	write_file(tmpdir, "bin", "ab\0cd\n", 6, 0400);
	write_str(tmpdir, "only_nl", "\n", 0600);
	write_str(tmpdir, "empty", "", 0600);
	cr_assert_eq(secret(cfg, "crlf", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "abcdef");
	cr_assert_eq(secret(cfg, "two", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "abcdef\n");
	cr_assert_eq(secret(cfg, "none", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "abc def");
	cr_assert_eq(secret(cfg, "bin", &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.len, 5);
	cr_assert(memcmp(out.data, "ab\0cd", 6) == 0);
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "empty" : "only_nl";
		char want[1024];

		cr_assert_eq(secret(cfg, key, &out, &err), -1);
		cr_assert_eq(err.code, Q_E_CONFIG);
		snprintf(want, sizeof(want),
		         "secret file %s/%s for telegram.%s is empty; put the secret in it", tmpdir,
		         key, key);
		cr_assert_str_eq(err.msg, want);
		cr_assert_eq(out.len, 0);
	}
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

Test(config, secret_open_to_group_or_others_is_refused, .init = make_tmpdir, .fini = remove_tmpdir)
{
	static const mode_t modes[] = {0640, 0604, 0660, 0602, 0610, 0601, 0644};
	static const char *const shown[] = {"0640", "0604", "0660", "0602", "0610", "0601", "0644"};
	struct q_config *cfg = load_conf("[telegram]\nbot_token_file = bot.token\n");
	struct q_buf out = Q_BUF_INIT;
	struct q_err err;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char want[1024];

		write_str(tmpdir, "bot.token", SECRET "\n", modes[i]);
		cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), -1, "mode %s", shown[i]);
		cr_assert_eq(err.code, Q_E_CONFIG);
		snprintf(
		        want, sizeof(want),
		        "secret file %s/bot.token for telegram.bot_token_file has mode %s, open to "
		        "group or others; run \"chmod 600 %s/bot.token\"",
		        tmpdir, shown[i], tmpdir);
		cr_assert_str_eq(err.msg, want);
		cr_assert(strstr(err.msg, "8123456789") == NULL);
		cr_assert_eq(out.len, 0);
		cr_assert_str_eq(out.data, "");
	}
	/* 0400 and 0600 are fine. */
	write_str(tmpdir, "bot.token", SECRET "\n", 0400);
	cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), 0, "%s", err.msg);
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

Test(config, credentials_directory_beats_the_config_directory, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	struct q_config *cfg =
	        load_conf("[telegram]\nbot_token_file = bot.token\nhook_secret_file = hook\n");
	struct q_buf out = Q_BUF_INIT;
	struct q_err err;
	char creds[600];

	snprintf(creds, sizeof(creds), "%s/creds", tmpdir);
	cr_assert_eq(mkdir(creds, 0700), 0);
	write_str(tmpdir, "bot.token", "from-config-dir\n", 0600);
	write_str(creds, "bot.token", "from-credentials\n", 0600);
	write_str(tmpdir, "hook", "hook-from-config-dir\n", 0600);

	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "from-credentials");
	/* Not among the credentials: the config directory still answers. */
	cr_assert_eq(secret(cfg, "hook_secret_file", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "hook-from-config-dir");
	/* The credentials copy is checked like any other. */
	write_str(creds, "bot.token", "from-credentials\n", 0644);
	cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), -1);
	cr_assert(strstr(err.msg, "/creds/bot.token for telegram.bot_token_file has mode 0644") !=
	                  NULL,
	          "%s", err.msg);

	setenv("CREDENTIALS_DIRECTORY", "", 1);
	cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "from-config-dir");
	unsetenv("CREDENTIALS_DIRECTORY");
	cr_assert_eq(secret(cfg, "bot_token_file", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "from-config-dir");
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

Test(config, secret_paths_relative_and_absolute, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char text[700], sub[600];
	struct q_config *cfg;
	struct q_buf out = Q_BUF_INIT;
	struct q_err err;

	snprintf(sub, sizeof(sub), "%s/secrets", tmpdir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	write_str(sub, "rel", "relative-secret\n", 0600);
	write_str(sub, "abs", "absolute-secret\n", 0600);
	snprintf(text, sizeof(text), "[telegram]\nrel = secrets/rel\nabs = %s/abs\n", sub);
	cfg = load_conf(text);
	cr_assert_eq(chdir("/"), 0);
	cr_assert_eq(secret(cfg, "rel", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "relative-secret");
	/* An absolute name ignores $CREDENTIALS_DIRECTORY. */
	setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
	cr_assert_eq(secret(cfg, "abs", &out, &err), 0, "%s", err.msg);
	cr_assert_str_eq(out.data, "absolute-secret");
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

Test(config, secret_errors_name_the_key_and_file_never_the_secret, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	struct q_config *cfg =
	        load_conf("[telegram]\nbot_token_file = bot.token\nempty_file =\n"
	                  "missing_file = nope.token\nbig_file = big\ndir_file = d\n");
	char want[1024], creds[600];
	struct q_buf out = Q_BUF_INIT;
	struct q_err err;
	char *big;

	cr_assert_eq(secret(cfg, "absent_file", &out, &err), -1);
	cr_assert_eq(err.code, Q_E_CONFIG);
	snprintf(want, sizeof(want),
	         "%s/quantor.conf: telegram.absent_file is not set; set it to the name of the file "
	         "that holds the secret (never the secret itself)",
	         tmpdir);
	cr_assert_str_eq(err.msg, want);
	cr_assert_eq(secret(cfg, "empty_file", &out, &err), -1);
	cr_assert(strstr(err.msg, "telegram.empty_file is not set") != NULL, "%s", err.msg);

	cr_assert_eq(secret(cfg, "missing_file", &out, &err), -1);
	snprintf(want, sizeof(want),
	         "%s/quantor.conf:4: cannot open secret file %s/nope.token for "
	         "telegram.missing_file: No such file or directory",
	         tmpdir, tmpdir);
	cr_assert_str_eq(err.msg, want);
	snprintf(creds, sizeof(creds), "%s/creds", tmpdir);
	cr_assert_eq(mkdir(creds, 0700), 0);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	cr_assert_eq(secret(cfg, "missing_file", &out, &err), -1);
	snprintf(
	        want, sizeof(want),
	        "%s/quantor.conf:4: secret file \"nope.token\" for telegram.missing_file is "
	        "neither in $CREDENTIALS_DIRECTORY nor at %s/nope.token; create it or fix the name",
	        tmpdir, tmpdir);
	cr_assert_str_eq(err.msg, want);
	unsetenv("CREDENTIALS_DIRECTORY");

	/* Too large: the secret was read, and still appears nowhere. */
	big = malloc(Q_CONFIG_MAX_SECRET + 2);
	memset(big, 'S', Q_CONFIG_MAX_SECRET + 1);
	memcpy(big, SECRET, strlen(SECRET));
	write_file(tmpdir, "big", big, Q_CONFIG_MAX_SECRET + 1, 0600);
	cr_assert_eq(secret(cfg, "big_file", &out, &err), -1);
	cr_assert(strstr(err.msg, "is larger than 65536 bytes; it must hold only the secret") !=
	                  NULL,
	          "%s", err.msg);
	cr_assert(strstr(err.msg, "8123456789") == NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, "SSSS") == NULL, "%s", err.msg);
	cr_assert_eq(out.len, 0);
	for (size_t i = 0; i < out.cap; i++)
		cr_assert_eq(out.data[i], '\0', "byte %zu of a refused secret was left behind", i);
	/* A file of exactly the limit, line end included, is accepted. */
	big[Q_CONFIG_MAX_SECRET - 1] = '\n';
	write_file(tmpdir, "big", big, Q_CONFIG_MAX_SECRET, 0600);
	cr_assert_eq(secret(cfg, "big_file", &out, &err), 0, "%s", err.msg);
	cr_assert_eq(out.len, Q_CONFIG_MAX_SECRET - 1);
	free(big);

	snprintf(want, sizeof(want), "%s/d", tmpdir);
	cr_assert_eq(mkdir(want, 0700), 0);
	cr_assert_eq(secret(cfg, "dir_file", &out, &err), -1);
	cr_assert(strstr(err.msg, "/d for telegram.dir_file is not a regular file") != NULL, "%s",
	          err.msg);
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

Test(config, secret_works_on_a_parsed_text_too, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char name[600];
	struct q_err err = {0};
	struct q_config *cfg;
	struct q_buf out = Q_BUF_INIT;
	static const char text[] = "[vault]\nmaster_key_file = master.key\n";

	/* q_config_parse's name anchors relative files as q_config_load's path does. */
	snprintf(name, sizeof(name), "%s/virtual.conf", tmpdir);
	cfg = q_config_parse(text, strlen(text), name, &err);
	cr_assert_not_null(cfg);
	write_str(tmpdir, "master.key", "0123456789abcdef", 0600);
	cr_assert_eq(q_config_secret(cfg, "vault", "master_key_file", &out, &err), 0, "%s",
	             err.msg);
	cr_assert_str_eq(out.data, "0123456789abcdef");
	q_buf_release_secret(&out);
	q_config_free(cfg);
}

/* The example shipped in etc/ is what operators copy: it must load, with the documented keys. */
Test(config, the_shipped_example_loads)
{
	const char *src = getenv("QUANTOR_SRC");
	char path[4096];
	struct q_err err = {0};
	struct q_config *cfg;
	long long workers = 0;

	snprintf(path, sizeof(path), "%s/etc/quantor.conf.example", src && *src ? src : ".");
	cfg = q_config_load(path, &err);
	cr_assert(cfg != NULL, "%s", err.msg);
	cr_assert_eq(q_config_get_int(cfg, "http", "workers", 0, 1, 256, &workers, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(workers, 4);
	cr_assert_str_eq(q_config_get(cfg, "db", "user", ""), "quantor");
	cr_assert_str_eq(q_config_get(cfg, "http", "public_url", ""), "https://quantor.example");
	cr_assert_str_eq(q_config_get(cfg, "telegram", "bot_token_file", ""), "bot_token");
	q_config_free(cfg);
}
