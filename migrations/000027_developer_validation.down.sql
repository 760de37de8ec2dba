ALTER TABLE pipeline_stages DROP COLUMN developer_validation;
