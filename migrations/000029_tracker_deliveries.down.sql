DROP TABLE tracker_deliveries;
ALTER TABLE tracker_links DROP COLUMN lease_owner;
ALTER TABLE tracker_links DROP COLUMN lease_until;
