ALTER TABLE regression_policies ADD COLUMN every_days integer NOT NULL DEFAULT 7 CHECK (every_days BETWEEN 1 AND 90);
UPDATE regression_policies SET every_days = greatest(1, least(90, (every_hours + 23) / 24));
ALTER TABLE regression_policies DROP COLUMN every_hours;
