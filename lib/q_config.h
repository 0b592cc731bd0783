/*
 * q_config: the INI file every program reads at startup (/etc/quantor/quantor.conf, or
 * $QUANTOR_CONFIG), and the secret files it names.
 *
 *   # comment            ; comment too (full lines only: "k = v # x" is the value "v # x")
 *   [exchange.binance]   section names and keys use only a-z 0-9 _ . -
 *   base_url = "https://api.binance.com"     one pair of enclosing double quotes is stripped
 *   api_key_file = binance.key               secrets are never inline: the config names a file
 *
 * Whitespace around keys and values is trimmed; a UTF-8 BOM and CRLF line ends are accepted. A
 * section may be reopened later in the file, but a key may be set only once per section. Any
 * malformed line stops loading with Q_E_CONFIG and a message "FILE:LINE: what is wrong; the fix".
 * Lines are capped at Q_CONFIG_MAX_LINE bytes and the file at Q_CONFIG_MAX_SIZE.
 *
 * A loaded config is immutable: every string it returns lives until q_config_free().
 */
#ifndef Q_CONFIG_H
#define Q_CONFIG_H

#include <stddef.h>

#include "q_buf.h"
#include "q_err.h"

#define Q_CONFIG_MAX_LINE 4096    /* bytes per line, without the line end */
#define Q_CONFIG_MAX_SIZE 1048576 /* bytes per file (1 MiB) */
#define Q_CONFIG_MAX_SECRET 65536 /* bytes per secret file (64 KiB) */

struct q_config;

/*
 * Read and parse the file at path. Returns NULL with err set (Q_E_CONFIG) when the file cannot
 * be opened or read, is not a regular file, is too large, or has a malformed line. The path is
 * kept: messages name it and relative secret files resolve against its directory.
 */
struct q_config *q_config_load(const char *path, struct q_err *err);

/*
 * Parse len bytes of text (NUL bytes are rejected, no terminator needed). name stands for the
 * file in messages and, as with q_config_load, its directory anchors relative secret files.
 * Returns NULL with err set (Q_E_CONFIG) on the first malformed line.
 */
struct q_config *q_config_parse(const char *text, size_t len, const char *name, struct q_err *err);

/* Free the config and every string it handed out. NULL-safe. */
void q_config_free(struct q_config *cfg);

/* The path (or name) the config was loaded from. */
const char *q_config_path(const struct q_config *cfg);

/* The value of section.key with quotes stripped, or def when it is not set. Never fails. */
const char *q_config_get(const struct q_config *cfg, const char *section, const char *key,
                         const char *def);

/*
 * section.key as a decimal integer (optional sign, nothing else) in [min, max] into *out;
 * def (not range-checked) when the key is not set. Returns 0, or -1 with Q_E_CONFIG naming
 * FILE:LINE, section.key, the value and the allowed range when it is not such an integer.
 */
int q_config_get_int(const struct q_config *cfg, const char *section, const char *key,
                     long long def, long long min, long long max, long long *out,
                     struct q_err *err);

/*
 * section.key as a boolean into *out (1 or 0): true/yes/on/1 or false/no/off/0, in any case;
 * def when the key is not set. Returns 0, or -1 with Q_E_CONFIG naming FILE:LINE and section.key.
 */
int q_config_get_bool(const struct q_config *cfg, const char *section, const char *key, int def,
                      int *out, struct q_err *err);

/*
 * Load the secret held in the file that section.key names (e.g. telegram.bot_token_file) and
 * append it to out (normally empty). An absolute name is used as is; a relative one is looked up
 * in $CREDENTIALS_DIRECTORY (systemd LoadCredential=) first, then in the config file's directory.
 * The file is opened once and checked with fstat: it must be a regular file with no group or
 * other permission bit set (mode & 077 == 0), at most Q_CONFIG_MAX_SECRET bytes and not empty once
 * one trailing "\n" or "\r\n" is stripped. The secret may hold any bytes (out->len is its length)
 * and is registered with q_log_secret() so logs never show it.
 * Returns 0, or -1 with Q_E_CONFIG (key missing or empty, file missing, unreadable, too open,
 * too large, empty) naming section.key and the file and saying how to fix it; out is unchanged
 * on error. No message ever contains the secret. Release out with q_buf_release_secret().
 */
int q_config_secret(const struct q_config *cfg, const char *section, const char *key,
                    struct q_buf *out, struct q_err *err);

/*
 * The sections whose name starts with prefix (NULL or "" for all), in file order: the first max
 * names go into names (owned by cfg). Returns how many sections match, which may exceed max (as
 * snprintf does), so q_config_sections(cfg, "exchange.", NULL, 0) counts them.
 */
int q_config_sections(const struct q_config *cfg, const char *prefix, const char **names, int max);

/* The keys set in section, in file order, with the same convention. 0 for an unknown section. */
int q_config_keys(const struct q_config *cfg, const char *section, const char **keys, int max);

#endif
