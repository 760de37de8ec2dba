DROP TABLE org_health_samples;
DROP TABLE regression_policies;
