-- 0001_init: the whole schema of DESIGN.md section 5 (MariaDB 10.11, InnoDB, utf8mb4).
--
-- Conventions:
--   * ids are BIGINT UNSIGNED AUTO_INCREMENT; Telegram ids are BIGINT (chat ids can be negative).
--   * money and quantities are DECIMAL(36,18), never FLOAT/DOUBLE.
--   * times are DATETIME(6) in UTC: every Quantor session sets time_zone = '+00:00', so
--     CURRENT_TIMESTAMP(6) defaults are UTC too. (TIMESTAMP would stop at 2038.)
--   * identifiers that are compared byte for byte (client order ids, hashes, symbols, candle
--     intervals where '1m' is a minute and '1M' a month) are ascii_bin.
--   * trading history is never deleted by a cascade: orders, fills and daily_pnl restrict the
--     deletion of their bot; a bot with history is retired with bots.deleted_at.
--   * schema_migrations is created by the migration runner itself, not here.

CREATE TABLE users (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	telegram_id BIGINT NOT NULL,
	username VARCHAR(64) NULL,
	first_name VARCHAR(255) NULL,
	last_name VARCHAR(255) NULL,
	language VARCHAR(16) NULL,
	plan ENUM('FREE', 'STARTER', 'PRO', 'TEAMS') NOT NULL DEFAULT 'FREE',
	frozen TINYINT(1) NOT NULL DEFAULT 0,
	chat_id BIGINT NULL COMMENT 'set when the user starts the bot chat: telegram linked',
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY uk_users_telegram_id (telegram_id),
	CONSTRAINT ck_users_telegram_id CHECK (telegram_id > 0),
	CONSTRAINT ck_users_frozen CHECK (frozen IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE subscriptions (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id BIGINT UNSIGNED NOT NULL,
	plan ENUM('FREE', 'STARTER', 'PRO', 'TEAMS') NOT NULL,
	provider ENUM('lemonsqueezy', 'cryptocloud', 'telegram_stars', 'manual') NOT NULL,
	provider_sub_id VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NULL,
	status ENUM('pending', 'on_trial', 'active', 'past_due', 'paused', 'unpaid', 'cancelled',
		'expired') NOT NULL DEFAULT 'pending',
	current_period_end DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY uk_subscriptions_provider_sub (provider, provider_sub_id),
	KEY ix_subscriptions_user (user_id, status),
	CONSTRAINT fk_subscriptions_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE billing_events (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	provider ENUM('lemonsqueezy', 'cryptocloud', 'telegram_stars', 'manual') NOT NULL,
	event_id VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	type VARCHAR(64) NOT NULL,
	user_id BIGINT UNSIGNED NULL,
	payload JSON NOT NULL,
	received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	applied_at DATETIME(6) NULL,
	PRIMARY KEY (id),
	UNIQUE KEY uk_billing_events_provider_event (provider, event_id),
	KEY ix_billing_events_user (user_id),
	CONSTRAINT fk_billing_events_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE exchange_keys (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id BIGINT UNSIGNED NOT NULL,
	exchange ENUM('binance', 'okx', 'bybit', 'bitget') NOT NULL,
	label VARCHAR(64) NOT NULL DEFAULT '',
	enc_blob VARBINARY(4096) NOT NULL COMMENT 'envelope-encrypted key+secret(+passphrase)',
	key_last4 VARCHAR(4) NOT NULL,
	verified TINYINT(1) NOT NULL DEFAULT 0,
	verified_at DATETIME(6) NULL,
	permissions JSON NULL COMMENT 'permissions the venue reported at the last verification',
	ip_restricted TINYINT(1) NOT NULL DEFAULT 0,
	kek_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	KEY ix_exchange_keys_user (user_id, exchange),
	KEY ix_exchange_keys_kek (kek_id),
	CONSTRAINT fk_exchange_keys_user FOREIGN KEY (user_id) REFERENCES users (id),
	CONSTRAINT ck_exchange_keys_verified CHECK (verified IN (0, 1)),
	CONSTRAINT ck_exchange_keys_ip CHECK (ip_restricted IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE bots (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id BIGINT UNSIGNED NOT NULL,
	exchange_key_id BIGINT UNSIGNED NULL COMMENT 'NULL for PAPER, or after the key was deleted',
	exchange ENUM('binance', 'okx', 'bybit', 'bitget') NOT NULL,
	strategy ENUM('EMA', 'BREAKOUT_V1', 'TS_MOMENTUM_V1', 'ADAPTIVE_PRO', 'RSI_REVERSION_V1',
		'CUSTOM') NOT NULL,
	symbol VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	candle_interval VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	mode ENUM('PAPER', 'LIVE', 'LIVE_ADVANCED') NOT NULL DEFAULT 'PAPER',
	params JSON NOT NULL,
	notional DECIMAL(36,18) NOT NULL,
	status ENUM('stopped', 'running', 'halted') NOT NULL DEFAULT 'stopped',
	halt_reason VARCHAR(64) NULL,
	halted_until DATETIME(6) NULL,
	state JSON NULL COMMENT 'the strategy state saved after the last candle',
	last_candle_open_time DATETIME(6) NULL,
	started_at DATETIME(6) NULL,
	deleted_at DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	KEY ix_bots_user (user_id, status),
	KEY ix_bots_tick (status, exchange, symbol, candle_interval),
	KEY ix_bots_key (exchange_key_id),
	CONSTRAINT fk_bots_user FOREIGN KEY (user_id) REFERENCES users (id),
	CONSTRAINT fk_bots_key FOREIGN KEY (exchange_key_id) REFERENCES exchange_keys (id)
		ON DELETE SET NULL,
	CONSTRAINT ck_bots_notional CHECK (notional >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE orders (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	bot_id BIGINT UNSIGNED NOT NULL,
	user_id BIGINT UNSIGNED NOT NULL,
	client_order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	exchange ENUM('binance', 'okx', 'bybit', 'bitget') NOT NULL,
	mode ENUM('PAPER', 'LIVE', 'LIVE_ADVANCED') NOT NULL,
	symbol VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	side ENUM('BUY', 'SELL') NOT NULL,
	type ENUM('MARKET', 'LIMIT') NOT NULL,
	qty DECIMAL(36,18) NOT NULL,
	price DECIMAL(36,18) NULL COMMENT 'limit price; NULL for MARKET',
	state ENUM('intent', 'sent', 'open', 'filled', 'cancelled', 'rejected', 'unknown')
		NOT NULL DEFAULT 'intent',
	exchange_order_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
	filled_qty DECIMAL(36,18) NOT NULL DEFAULT 0,
	avg_price DECIMAL(36,18) NULL,
	fee DECIMAL(36,18) NOT NULL DEFAULT 0,
	fee_asset VARCHAR(16) NULL,
	attempts INT UNSIGNED NOT NULL DEFAULT 0,
	error VARCHAR(512) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY uk_orders_client_order_id (client_order_id),
	KEY ix_orders_bot (bot_id, created_at),
	KEY ix_orders_user (user_id, created_at),
	KEY ix_orders_state (state, updated_at),
	KEY ix_orders_exchange_id (exchange, exchange_order_id),
	CONSTRAINT fk_orders_bot FOREIGN KEY (bot_id) REFERENCES bots (id),
	CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
	CONSTRAINT ck_orders_qty CHECK (qty > 0),
	CONSTRAINT ck_orders_price CHECK (price IS NULL OR price > 0),
	CONSTRAINT ck_orders_limit_price CHECK (type <> 'LIMIT' OR price IS NOT NULL),
	CONSTRAINT ck_orders_filled CHECK (filled_qty >= 0),
	CONSTRAINT ck_orders_fee CHECK (fee >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE fills (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	order_id BIGINT UNSIGNED NOT NULL,
	bot_id BIGINT UNSIGNED NOT NULL,
	trade_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
		COMMENT 'the venue trade id; synthetic for PAPER',
	qty DECIMAL(36,18) NOT NULL,
	price DECIMAL(36,18) NOT NULL,
	fee DECIMAL(36,18) NOT NULL DEFAULT 0,
	fee_asset VARCHAR(16) NULL,
	ts DATETIME(6) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY uk_fills_order_trade (order_id, trade_id),
	KEY ix_fills_bot (bot_id, ts),
	CONSTRAINT fk_fills_order FOREIGN KEY (order_id) REFERENCES orders (id),
	CONSTRAINT fk_fills_bot FOREIGN KEY (bot_id) REFERENCES bots (id),
	CONSTRAINT ck_fills_qty CHECK (qty > 0),
	CONSTRAINT ck_fills_price CHECK (price > 0),
	CONSTRAINT ck_fills_fee CHECK (fee >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE positions (
	bot_id BIGINT UNSIGNED NOT NULL,
	qty DECIMAL(36,18) NOT NULL DEFAULT 0 COMMENT 'spot only: never short',
	avg_entry DECIMAL(36,18) NOT NULL DEFAULT 0,
	realized_pnl DECIMAL(36,18) NOT NULL DEFAULT 0,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (bot_id),
	CONSTRAINT fk_positions_bot FOREIGN KEY (bot_id) REFERENCES bots (id) ON DELETE CASCADE,
	CONSTRAINT ck_positions_qty CHECK (qty >= 0),
	CONSTRAINT ck_positions_entry CHECK (avg_entry >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE daily_pnl (
	bot_id BIGINT UNSIGNED NOT NULL,
	day DATE NOT NULL COMMENT 'UTC day',
	user_id BIGINT UNSIGNED NOT NULL,
	realized DECIMAL(36,18) NOT NULL DEFAULT 0,
	unrealized DECIMAL(36,18) NOT NULL DEFAULT 0,
	equity_start DECIMAL(36,18) NOT NULL DEFAULT 0,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (bot_id, day),
	KEY ix_daily_pnl_user (user_id, day),
	CONSTRAINT fk_daily_pnl_bot FOREIGN KEY (bot_id) REFERENCES bots (id),
	CONSTRAINT fk_daily_pnl_user FOREIGN KEY (user_id) REFERENCES users (id),
	CONSTRAINT ck_daily_pnl_equity CHECK (equity_start >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE equity (
	bot_id BIGINT UNSIGNED NOT NULL,
	ts DATETIME(6) NOT NULL,
	equity DECIMAL(36,18) NOT NULL,
	PRIMARY KEY (bot_id, ts),
	CONSTRAINT fk_equity_bot FOREIGN KEY (bot_id) REFERENCES bots (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE candles (
	exchange ENUM('binance', 'okx', 'bybit', 'bitget') NOT NULL,
	symbol VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	candle_interval VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	open_time DATETIME(6) NOT NULL,
	close_time DATETIME(6) NOT NULL,
	open DECIMAL(36,18) NOT NULL,
	high DECIMAL(36,18) NOT NULL,
	low DECIMAL(36,18) NOT NULL,
	close DECIMAL(36,18) NOT NULL,
	volume DECIMAL(36,18) NOT NULL DEFAULT 0,
	PRIMARY KEY (exchange, symbol, candle_interval, open_time),
	CONSTRAINT ck_candles_time CHECK (close_time > open_time),
	CONSTRAINT ck_candles_prices CHECK (low > 0 AND low <= open AND low <= close
		AND high >= open AND high >= close),
	CONSTRAINT ck_candles_volume CHECK (volume >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE regime_snapshots (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	symbol VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	regime ENUM('CALM', 'NORMAL', 'VOLATILE', 'DANGEROUS', 'UNKNOWN') NOT NULL,
	realized_vol DECIMAL(20,10) NULL COMMENT 'annualized, 1.0 = 100 %',
	drawdown DECIMAL(20,10) NULL COMMENT 'fall from the high, 0.3 = 30 %',
	computed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	stale TINYINT(1) NOT NULL DEFAULT 0,
	PRIMARY KEY (id),
	KEY ix_regime_snapshots_symbol (symbol, computed_at),
	CONSTRAINT ck_regime_snapshots_vol CHECK (realized_vol IS NULL OR realized_vol >= 0),
	CONSTRAINT ck_regime_snapshots_dd CHECK (drawdown IS NULL OR drawdown BETWEEN 0 AND 1),
	CONSTRAINT ck_regime_snapshots_stale CHECK (stale IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE settings (
	name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	value JSON NOT NULL,
	updated_by VARCHAR(128) NULL,
	reason VARCHAR(512) NULL,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The hash chain (DESIGN.md section 9). The application user may only SELECT and INSERT here;
-- seq and prev_hash are unique so a fork cannot be stored. payload holds the exact canonical
-- bytes that were hashed (utf8mb4_bin: stored and compared byte for byte).
CREATE TABLE audit_log (
	seq BIGINT UNSIGNED NOT NULL,
	prev_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	ts DATETIME(6) NOT NULL,
	actor VARCHAR(128) NOT NULL,
	type VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	user_id BIGINT UNSIGNED NULL,
	payload MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE KEY uk_audit_log_prev_hash (prev_hash),
	UNIQUE KEY uk_audit_log_hash (hash),
	KEY ix_audit_log_user (user_id, seq),
	CONSTRAINT ck_audit_log_seq CHECK (seq > 0),
	CONSTRAINT ck_audit_log_prev_hash CHECK (prev_hash REGEXP '^[0-9a-f]{64}$'),
	CONSTRAINT ck_audit_log_hash CHECK (hash REGEXP '^[0-9a-f]{64}$'),
	CONSTRAINT ck_audit_log_payload CHECK (JSON_VALID(payload))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row: the chain head. An append locks it (SELECT ... FOR UPDATE) in its transaction.
CREATE TABLE audit_head (
	id TINYINT UNSIGNED NOT NULL,
	seq BIGINT UNSIGNED NOT NULL,
	hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	CONSTRAINT ck_audit_head_one_row CHECK (id = 1),
	CONSTRAINT ck_audit_head_hash CHECK (hash REGEXP '^[0-9a-f]{64}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, REPEAT('0', 64));

CREATE TABLE audit_checkpoints (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	size BIGINT UNSIGNED NOT NULL COMMENT 'chain length (the head seq) the checkpoint covers',
	hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'head hash, hex',
	note TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'the signed note',
	signed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	published_at DATETIME(6) NULL,
	PRIMARY KEY (id),
	KEY ix_audit_checkpoints_size (size),
	CONSTRAINT ck_audit_checkpoints_hash CHECK (hash REGEXP '^[0-9a-f]{64}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE heartbeats (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	service VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	host VARCHAR(255) NOT NULL,
	pid INT UNSIGNED NOT NULL,
	binary_digest CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
	at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY uk_heartbeats_service_host (service, host),
	KEY ix_heartbeats_at (service, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE pulse_runs (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	actor VARCHAR(128) NULL,
	started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	finished_at DATETIME(6) NULL,
	ok TINYINT(1) NULL,
	results JSON NULL,
	PRIMARY KEY (id),
	KEY ix_pulse_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Telegram messages to send, drained by the trader: pick state = 'pending' and
-- next_attempt_at <= now in order. dedupe_key makes "tell the user once" idempotent.
CREATE TABLE outbox (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id BIGINT UNSIGNED NULL,
	chat_id BIGINT NOT NULL,
	text TEXT NOT NULL,
	parse_mode VARCHAR(16) NULL,
	reply_markup JSON NULL,
	dedupe_key VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NULL,
	state ENUM('pending', 'sent', 'failed') NOT NULL DEFAULT 'pending',
	attempts INT UNSIGNED NOT NULL DEFAULT 0,
	next_attempt_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	last_error VARCHAR(512) NULL,
	sent_at DATETIME(6) NULL,
	created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	UNIQUE KEY uk_outbox_dedupe (dedupe_key),
	KEY ix_outbox_drain (state, next_attempt_at, id),
	KEY ix_outbox_user (user_id),
	CONSTRAINT fk_outbox_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE telegram_updates (
	update_id BIGINT NOT NULL,
	received_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (update_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
