-- Regression runs may be scheduled as often as every hour: the interval
-- is kept in hours (every_days stays readable through the API, rounded).
ALTER TABLE regression_policies ADD COLUMN every_hours integer NOT NULL DEFAULT 168 CHECK (every_hours BETWEEN 1 AND 2160);
UPDATE regression_policies SET every_hours = every_days * 24;
ALTER TABLE regression_policies DROP COLUMN every_days;
