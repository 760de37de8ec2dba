DROP TABLE IF EXISTS test_runs;
DROP TABLE IF EXISTS validations;
DROP TABLE IF EXISTS build_components;
DROP TABLE IF EXISTS release_builds;
