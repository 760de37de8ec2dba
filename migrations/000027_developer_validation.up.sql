-- Whether developers may validate their own work item's change set
-- against a stage (check-only, the stage's test level): on by default,
-- off for stages whose org is production.
ALTER TABLE pipeline_stages ADD COLUMN developer_validation boolean NOT NULL DEFAULT true;
UPDATE pipeline_stages s SET developer_validation = false FROM orgs o WHERE o.id = s.org_id AND o.kind = 'production';
