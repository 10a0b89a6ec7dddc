-- Create the tenants table
--
-- Revision ID: 1975ea83b712
-- Revises:
-- Branch Labels:
-- Depends On:
-- Create Date: 2026-11-25 07:30:00.000000
--
-- Purpose: every row of the application belongs to a tenant; this table lists them:
--   id                      the tenant's UUID
--   name                    its display name, at most 255 characters
--   is_active               false for a suspended tenant; new tenants are active
--   created_at, updated_at  timestamps with time zone, defaulting to the current time
-- Dialects: PostgreSQL stores id as UUID and the timestamps as TIMESTAMPTZ. MySQL/MariaDB
--   and SQLite have no UUID type and keep its 36-character text form; MySQL's TIMESTAMP
--   stores UTC, and SQLite keeps ISO 8601 text with an explicit +00:00 offset.
-- Impact: creates one new, empty table; no existing table or data is touched.
-- Downgrade: drops the table and every tenant in it.

-- migrate:upgrade dialect=postgresql
-- The name's 255-character limit is part of the schema's contract (issue 4), so it stays a
-- VARCHAR(255) rather than the text column prefer-text-field suggests.
-- migrate:lint-ignore prefer-text-field
CREATE TABLE tenants (
    id UUID PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:upgrade dialect=mysql
-- MySQL commits the CREATE at once, before the version table is updated: IF NOT EXISTS lets
-- a rerun get past it.
CREATE TABLE IF NOT EXISTS tenants (
    id CHAR(36) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- migrate:upgrade dialect=sqlite
CREATE TABLE tenants (
    id CHAR(36) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

-- migrate:downgrade dialect=postgresql
-- Dropping the table waits for every query on it: give up after a few seconds rather than
-- hold up the queries queued behind the DROP.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';
DROP TABLE tenants;

-- migrate:downgrade dialect=mysql
SET SESSION lock_wait_timeout = 5;
-- The DROP is the downgrade's only change, and migrate deletes the version row right after
-- it; a failure in between is reported with what was left behind.
-- migrate:lint-ignore prefer-robust-stmts
DROP TABLE tenants;

-- migrate:downgrade dialect=sqlite
DROP TABLE tenants;
