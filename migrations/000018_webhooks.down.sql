ALTER TABLE repositories DROP COLUMN hook_secret;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
