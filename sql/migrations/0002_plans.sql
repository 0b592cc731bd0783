-- 0002_plans: the database copy of the plan catalog (DESIGN.md section 7).
--
-- The catalog is defined in code (lib/q_plans.c, the source of truth). `quantorctl migrate`
-- makes this table equal to it on every run (q_plans_seed: insert or update every plan, delete
-- the ones no longer in code), so SQL reports and the billing side can join on it. Nothing
-- else writes it: the application user may only SELECT here (lib/q_migrate.c grants).

CREATE TABLE plans (
	id VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	position TINYINT UNSIGNED NOT NULL COMMENT 'display order',
	name VARCHAR(64) NOT NULL,
	price_usd_month DECIMAL(10,2) NOT NULL,
	paper TINYINT(1) NOT NULL,
	live TINYINT(1) NOT NULL,
	live_strategies ENUM('none', 'EMA', 'all') NOT NULL,
	advanced TINYINT(1) NOT NULL COMMENT 'advanced strategies and LIVE_ADVANCED mode',
	max_notional_usd DECIMAL(36,18) NULL COMMENT 'per LIVE bot; NULL without LIVE',
	daily_loss_pct DECIMAL(5,2) NOT NULL COMMENT 'percent of the equity the day started with',
	max_bots INT UNSIGNED NOT NULL COMMENT 'bots running or halted at once',
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	PRIMARY KEY (id),
	CONSTRAINT ck_plans_price CHECK (price_usd_month >= 0),
	CONSTRAINT ck_plans_flags CHECK (paper IN (0, 1) AND live IN (0, 1) AND advanced IN (0, 1)),
	CONSTRAINT ck_plans_notional CHECK (max_notional_usd IS NULL OR max_notional_usd > 0),
	CONSTRAINT ck_plans_loss CHECK (daily_loss_pct > 0 AND daily_loss_pct <= 100)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
