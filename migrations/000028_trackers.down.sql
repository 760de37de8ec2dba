ALTER TABLE webhook_events DROP COLUMN origin;
DROP TABLE tracker_cursor;
DROP TABLE tracker_comments;
DROP TABLE tracker_links;
DROP TABLE tracker_status_map;
DROP TABLE tracker_connections;
