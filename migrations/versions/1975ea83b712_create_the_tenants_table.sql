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
CREATE TABLE tenants (
    id UUID PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- migrate:upgrade dialect=mysql
CREATE TABLE tenants (
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

-- migrate:downgrade
DROP TABLE tenants;
