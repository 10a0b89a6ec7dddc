-- Insert the system tenant
--
-- Revision ID: 8c2b4e6f1a90
-- Revises: 1975ea83b712
-- Branch Labels:
-- Depends On:
-- Create Date: 2026-11-25 07:31:00.000000
--
-- Purpose: the application's own jobs and records run as the tenant `system`, whose id
--   00000000-0000-0000-0000-000000000001 is fixed so that code can name it.
-- Impact: inserts one row into tenants. Idempotent: when a row with that id already exists
--   (inserted by hand, or by an earlier run of this migration) it is left as it is.
--   PostgreSQL and SQLite skip the duplicate with ON CONFLICT (id) DO NOTHING; MySQL/MariaDB,
--   which lack that clause, with ON DUPLICATE KEY UPDATE, which unlike INSERT IGNORE still
--   fails on any other error.
-- Downgrade: deletes the system tenant's row, and only that row.

-- migrate:upgrade dialect=sqlite,postgresql
INSERT INTO tenants (id, name)
VALUES ('00000000-0000-0000-0000-000000000001', 'system')
ON CONFLICT (id) DO NOTHING;

-- migrate:upgrade dialect=mysql
INSERT INTO tenants (id, name)
VALUES ('00000000-0000-0000-0000-000000000001', 'system')
ON DUPLICATE KEY UPDATE id = id;

-- migrate:downgrade
DELETE FROM tenants WHERE id = '00000000-0000-0000-0000-000000000001';
