#include "q_config.h"
#include "q_arena.h"
#include "q_log.h"
#include "q_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_CHARS "a-z, 0-9, '_', '.' and '-'"

struct section {
	const char *name;
};

struct entry {
	const char *key;
	const char *value;
	int section;
	int line;
};

/* Open addressing over (hash, index + 1); id 0 marks an empty slot. */
struct slot {
	uint32_t hash;
	uint32_t id;
};

struct index {
	struct slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t used;
};

struct q_config {
	struct q_arena *arena; /* owns the struct itself and every string */
	const char *path;
	const char *dir;
	struct section *sections;
	int nsections, capsections;
	struct entry *entries;
	int nentries, capentries;
	struct index section_ix, entry_ix;
};

struct parser {
	struct q_config *cfg;
	const char *name;
	int line;
	int section; /* -1 before the first [section] */
	struct q_err *err;
};

/* Every parse error names FILE:LINE first; a macro so q_err records the real call site. */
#define parse_err(p, fmt, ...)                                                                     \
	q_err_set((p)->err, Q_E_CONFIG, "%s:%d: " fmt, (p)->name, (p)->line, ##__VA_ARGS__)

static uint32_t
fnv1a(uint32_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static uint32_t
section_hash(const char *name, size_t n)
{
	return fnv1a(2166136261u, name, n);
}

static uint32_t
entry_hash(int section, const char *key, size_t n)
{
	uint32_t s = (uint32_t)section;

	return fnv1a(fnv1a(2166136261u, (const char *)&s, sizeof(s)), key, n);
}

static void
index_put(struct q_arena *a, struct index *ix, uint32_t hash, int idx)
{
	if ((ix->used + 1) * 2 > ix->cap) {
		struct index nx = {NULL, ix->cap ? ix->cap * 2 : 64, 0};

		/* The old table stays in the arena: growth is geometric, so the waste is bounded. */
		nx.slots = q_arena_zalloc(a, nx.cap * sizeof(*nx.slots));
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->slots[i].id)
				index_put(a, &nx, ix->slots[i].hash, (int)ix->slots[i].id - 1);
		*ix = nx;
	}
	for (size_t i = hash & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		if (ix->slots[i].id == 0) {
			ix->slots[i].hash = hash;
			ix->slots[i].id = (uint32_t)idx + 1;
			ix->used++;
			return;
		}
	}
}

static int
find_section(const struct q_config *cfg, const char *name, size_t n)
{
	const struct index *ix = &cfg->section_ix;
	uint32_t h = section_hash(name, n);

	if (ix->cap == 0)
		return -1;
	for (size_t i = h & (ix->cap - 1); ix->slots[i].id; i = (i + 1) & (ix->cap - 1)) {
		const char *s = cfg->sections[ix->slots[i].id - 1].name;

		if (ix->slots[i].hash == h && strncmp(s, name, n) == 0 && s[n] == '\0')
			return (int)ix->slots[i].id - 1;
	}
	return -1;
}

static const struct entry *
find_entry_n(const struct q_config *cfg, int section, const char *key, size_t n)
{
	const struct index *ix = &cfg->entry_ix;
	uint32_t h = entry_hash(section, key, n);

	if (ix->cap == 0)
		return NULL;
	for (size_t i = h & (ix->cap - 1); ix->slots[i].id; i = (i + 1) & (ix->cap - 1)) {
		const struct entry *e = &cfg->entries[ix->slots[i].id - 1];

		if (ix->slots[i].hash == h && e->section == section &&
		    strncmp(e->key, key, n) == 0 && e->key[n] == '\0')
			return e;
	}
	return NULL;
}

static const struct entry *
find_entry(const struct q_config *cfg, const char *section, const char *key)
{
	int s;

	if (section == NULL || key == NULL)
		return NULL;
	s = find_section(cfg, section, strlen(section));
	return s < 0 ? NULL : find_entry_n(cfg, s, key, strlen(key));
}

static int
add_section(struct q_config *cfg, const char *name, size_t n)
{
	int idx = find_section(cfg, name, n);

	if (idx >= 0)
		return idx;
	if (cfg->nsections == cfg->capsections) {
		struct section *ns;

		cfg->capsections = cfg->capsections ? cfg->capsections * 2 : 16;
		ns = q_arena_alloc(cfg->arena, (size_t)cfg->capsections * sizeof(*ns));
		if (cfg->nsections)
			memcpy(ns, cfg->sections, (size_t)cfg->nsections * sizeof(*ns));
		cfg->sections = ns;
	}
	idx = cfg->nsections++;
	cfg->sections[idx].name = q_arena_strndup(cfg->arena, name, n);
	index_put(cfg->arena, &cfg->section_ix, section_hash(name, n), idx);
	return idx;
}

static void
add_entry(struct q_config *cfg, int section, const char *key, size_t klen, const char *val,
          size_t vlen, int line)
{
	struct entry *e;
	int idx;

	if (cfg->nentries == cfg->capentries) {
		struct entry *ne;

		cfg->capentries = cfg->capentries ? cfg->capentries * 2 : 32;
		ne = q_arena_alloc(cfg->arena, (size_t)cfg->capentries * sizeof(*ne));
		if (cfg->nentries)
			memcpy(ne, cfg->entries, (size_t)cfg->nentries * sizeof(*ne));
		cfg->entries = ne;
	}
	idx = cfg->nentries++;
	e = &cfg->entries[idx];
	e->key = q_arena_strndup(cfg->arena, key, klen);
	e->value = q_arena_strndup(cfg->arena, val, vlen);
	e->section = section;
	e->line = line;
	index_put(cfg->arena, &cfg->entry_ix, entry_hash(section, key, klen), idx);
}

static int
is_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return n > 0;
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* Names and keys are echoed back at most this long, so a message keeps its fix in 256 bytes. */
#define ECHO(n) ((int)((n) > 48 ? 48 : (n)))

static int
parse_section(struct parser *p, const char *s, const char *e)
{
	const char *rb = memchr(s, ']', (size_t)(e - s));
	const char *ns = s + 1, *ne = rb;

	if (rb == NULL)
		return parse_err(p, "unterminated section header; write it as \"[name]\"");
	if (rb + 1 != e)
		return parse_err(
		        p, "unexpected text after \"]\"; put comments on a line of their own");
	trim(&ns, &ne);
	if (ns == ne)
		return parse_err(p, "empty section name; write it as \"[name]\"");
	if (!is_name(ns, (size_t)(ne - ns)))
		return parse_err(p, "bad section name \"%.*s\"; use only " NAME_CHARS,
		                 ECHO(ne - ns), ns);
	p->section = add_section(p->cfg, ns, (size_t)(ne - ns));
	return 0;
}

static int
parse_pair(struct parser *p, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *ks = s, *ke = eq, *vs, *ve = e;
	const struct entry *dup;

	if (eq == NULL)
		return parse_err(p, "expected \"key = value\" or \"[section]\"; fix or remove this "
		                    "line");
	vs = eq + 1;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke)
		return parse_err(p, "missing key before \"=\"; write \"key = value\"");
	if (!is_name(ks, (size_t)(ke - ks)))
		return parse_err(p, "bad key \"%.*s\"; use only " NAME_CHARS, ECHO(ke - ks), ks);
	if (p->section < 0)
		return parse_err(p,
		                 "key \"%.*s\" is outside any section; add a \"[section]\" line "
		                 "above it",
		                 ECHO(ke - ks), ks);
	if (vs < ve && *vs == '"') {
		if (ve - vs < 2 || ve[-1] != '"')
			return parse_err(p,
			                 "value of \"%.*s\" opens a double quote but does not "
			                 "close it; end the value with \"",
			                 ECHO(ke - ks), ks);
		vs++;
		ve--;
	}
	dup = find_entry_n(p->cfg, p->section, ks, (size_t)(ke - ks));
	if (dup)
		return parse_err(p,
		                 "duplicate key \"%.*s\" in [%s], first set on line %d; keep "
		                 "only one",
		                 ECHO(ke - ks), ks, p->cfg->sections[p->section].name, dup->line);
	add_entry(p->cfg, p->section, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs), p->line);
	return 0;
}

static int
parse_line(struct parser *p, const char *s, const char *e)
{
	if ((size_t)(e - s) > Q_CONFIG_MAX_LINE)
		return parse_err(p, "line is longer than %d bytes; shorten it", Q_CONFIG_MAX_LINE);
	for (const char *c = s; c < e; c++) {
		unsigned char ch = (unsigned char)*c;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return parse_err(p, "control character 0x%02x in column %d; remove it", ch,
			                 (int)(c - s) + 1);
	}
	trim(&s, &e);
	if (s == e || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_section(p, s, e);
	return parse_pair(p, s, e);
}

static struct q_config *
config_new(const char *name)
{
	struct q_arena *a = q_arena_new();
	struct q_config *cfg = q_arena_zalloc(a, sizeof(*cfg));
	const char *slash = strrchr(name, '/');

	cfg->arena = a;
	cfg->path = q_arena_strdup(a, name);
	if (slash == NULL)
		cfg->dir = ".";
	else if (slash == name)
		cfg->dir = "/";
	else
		cfg->dir = q_arena_strndup(a, name, (size_t)(slash - name));
	return cfg;
}

struct q_config *
q_config_parse(const char *text, size_t len, const char *name, struct q_err *err)
{
	struct parser p = {NULL, name ? name : "<config>", 0, -1, err};
	const char *s = text, *end = text + len;

	if (len > Q_CONFIG_MAX_SIZE) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: file is %zu bytes, over the %d byte limit; is this the right file?",
		          p.name, len, Q_CONFIG_MAX_SIZE);
		return NULL;
	}
	p.cfg = config_new(p.name);
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		p.line++;
		if (e > s && e[-1] == '\r')
			e--;
		if (parse_line(&p, s, e) < 0) {
			q_config_free(p.cfg);
			return NULL;
		}
		s = nl ? nl + 1 : end;
	}
	return p.cfg;
}

struct q_config *
q_config_load(const char *path, struct q_err *err)
{
	struct q_config *cfg = NULL;
	struct q_buf text = Q_BUF_INIT;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		q_err_set(err, Q_E_CONFIG,
		          "cannot open config file %s: %s; create it or point QUANTOR_CONFIG at it",
		          path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		q_err_set(err, Q_E_CONFIG, "cannot stat config file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		q_err_set(err, Q_E_CONFIG, "config file %s is not a regular file", path);
		goto out;
	}
	if (st.st_size > Q_CONFIG_MAX_SIZE) {
		q_err_set(err, Q_E_CONFIG,
		          "%s: file is %lld bytes, over the %d byte limit; is this the right file?",
		          path, (long long)st.st_size, Q_CONFIG_MAX_SIZE);
		goto out;
	}
	/* Read past the limit if the file grew after fstat: q_config_parse refuses it then. */
	q_buf_grow(&text, (size_t)st.st_size + 1);
	while (text.len <= Q_CONFIG_MAX_SIZE) {
		ssize_t n;

		q_buf_grow(&text, 4096);
		n = read(fd, text.data + text.len, text.cap - text.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			q_err_set(err, Q_E_CONFIG, "cannot read config file %s: %s", path,
			          strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		text.len += (size_t)n;
	}
	cfg = q_config_parse(text.data, text.len, path, err);
out:
	if (fd >= 0)
		close(fd);
	q_buf_release(&text);
	return cfg;
}

void
q_config_free(struct q_config *cfg)
{
	if (cfg)
		q_arena_destroy(cfg->arena);
}

const char *
q_config_path(const struct q_config *cfg)
{
	return cfg->path;
}

const char *
q_config_get(const struct q_config *cfg, const char *section, const char *key, const char *def)
{
	const struct entry *e = find_entry(cfg, section, key);

	return e ? e->value : def;
}

int
q_config_get_int(const struct q_config *cfg, const char *section, const char *key, long long def,
                 long long min, long long max, long long *out, struct q_err *err)
{
	const struct entry *e = find_entry(cfg, section, key);
	const char *v, *digits;
	char *end;
	long long n;

	if (e == NULL) {
		*out = def;
		return 0;
	}
	v = e->value;
	digits = (*v == '+' || *v == '-') ? v + 1 : v;
	if (*digits < '0' || *digits > '9')
		goto not_int;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end != '\0')
		goto not_int;
	if (errno == ERANGE || n < min || n > max)
		return q_err_set(err, Q_E_CONFIG,
		                 "%s:%d: %s.%s = %.48s is out of range; use a "
		                 "whole number from %lld to %lld",
		                 cfg->path, e->line, section, key, v, min, max);
	*out = n;
	return 0;
not_int:
	return q_err_set(err, Q_E_CONFIG,
	                 "%s:%d: %s.%s = \"%.48s\" is not a whole number; use one "
	                 "from %lld to %lld",
	                 cfg->path, e->line, section, key, v, min, max);
}

int
q_config_get_bool(const struct q_config *cfg, const char *section, const char *key, int def,
                  int *out, struct q_err *err)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	const struct entry *e = find_entry(cfg, section, key);

	if (e == NULL) {
		*out = def;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return q_err_set(err, Q_E_CONFIG,
	                 "%s:%d: %s.%s = \"%.48s\" is not a boolean; use true or "
	                 "false (yes/no, on/off, 1/0 also work)",
	                 cfg->path, e->line, section, key, e->value);
}

/*
 * Open the secret file named by value: absolute as is, else $CREDENTIALS_DIRECTORY first and
 * the config directory when it is not there. path receives the name tried last.
 */
static int
open_secret(const struct q_config *cfg, const char *value, struct q_buf *path, int *in_creds)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	int fd;

	*in_creds = 0;
	if (value[0] == '/') {
		q_buf_adds(path, value);
		return open(path->data, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (creds && *creds) {
		q_buf_printf(path, "%s/%s", creds, value);
		fd = open(path->data, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		*in_creds = 1;
		q_buf_reset(path);
	}
	q_buf_printf(path, "%s/%s", cfg->dir, value);
	return open(path->data, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int
q_config_secret(const struct q_config *cfg, const char *section, const char *key, struct q_buf *out,
                struct q_err *err)
{
	const struct entry *e = find_entry(cfg, section, key);
	struct q_buf path = Q_BUF_INIT;
	size_t start = out->len, got = 0;
	struct stat st;
	int fd = -1, in_creds, rc = -1;

	if (e == NULL || e->value[0] == '\0') {
		q_err_set(err, Q_E_CONFIG,
		          "%s: %s.%s is not set; set it to the name of the file "
		          "that holds the secret (never the secret itself)",
		          cfg->path, section, key);
		goto out;
	}
	fd = open_secret(cfg, e->value, &path, &in_creds);
	if (fd < 0 && errno == ENOENT && in_creds) {
		q_err_set(err, Q_E_CONFIG,
		          "%s:%d: secret file \"%s\" for %s.%s is neither in "
		          "$CREDENTIALS_DIRECTORY nor at %s; create it or fix the name",
		          cfg->path, e->line, e->value, section, key, path.data);
		goto out;
	}
	if (fd < 0) {
		q_err_set(err, Q_E_CONFIG, "%s:%d: cannot open secret file %s for %s.%s: %s",
		          cfg->path, e->line, path.data, section, key, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		q_err_set(err, Q_E_CONFIG, "cannot stat secret file %s: %s", path.data,
		          strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		q_err_set(err, Q_E_CONFIG, "secret file %s for %s.%s is not a regular file",
		          path.data, section, key);
		goto out;
	}
	if (st.st_mode & 077) {
		q_err_set(err, Q_E_CONFIG,
		          "secret file %s for %s.%s has mode %04o, open to group "
		          "or others; run \"chmod 600 %s\"",
		          path.data, section, key, (unsigned)(st.st_mode & 07777), path.data);
		goto out;
	}
	/* All the room up front: a realloc would leave a stray copy of the secret behind. */
	q_buf_grow(out, Q_CONFIG_MAX_SECRET + 1);
	while (got <= Q_CONFIG_MAX_SECRET) {
		ssize_t n = read(fd, out->data + start + got, Q_CONFIG_MAX_SECRET + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			q_err_set(err, Q_E_CONFIG, "cannot read secret file %s: %s", path.data,
			          strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > Q_CONFIG_MAX_SECRET) {
		q_err_set(err, Q_E_CONFIG,
		          "secret file %s for %s.%s is larger than %d bytes; it "
		          "must hold only the secret",
		          path.data, section, key, Q_CONFIG_MAX_SECRET);
		goto out;
	}
	if (got && out->data[start + got - 1] == '\n') {
		got--;
		if (got && out->data[start + got - 1] == '\r')
			got--;
	}
	if (got == 0) {
		q_err_set(err, Q_E_CONFIG,
		          "secret file %s for %s.%s is empty; put the secret in it", path.data,
		          section, key);
		goto out;
	}
	out->len = start + got;
	out->data[out->len] = '\0';
	q_log_secret(out->data + start);
	rc = 0;
out:
	if (rc < 0 && out->cap) {
		/* Whatever was read (a possibly too large file) must not linger. */
		sodium_memzero(out->data + start, out->cap - start);
		out->len = start;
	}
	if (fd >= 0)
		close(fd);
	q_buf_release(&path);
	return rc;
}

int
q_config_sections(const struct q_config *cfg, const char *prefix, const char **names, int max)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	int n = 0;

	for (int i = 0; i < cfg->nsections; i++) {
		if (strncmp(cfg->sections[i].name, prefix ? prefix : "", plen) != 0)
			continue;
		if (n < max)
			names[n] = cfg->sections[i].name;
		n++;
	}
	return n;
}

int
q_config_keys(const struct q_config *cfg, const char *section, const char **keys, int max)
{
	int s = section ? find_section(cfg, section, strlen(section)) : -1;
	int n = 0;

	if (s < 0)
		return 0;
	for (int i = 0; i < cfg->nentries; i++) {
		if (cfg->entries[i].section != s)
			continue;
		if (n < max)
			keys[n] = cfg->entries[i].key;
		n++;
	}
	return n;
}
