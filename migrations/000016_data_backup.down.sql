DROP TABLE data_restores;
DROP TABLE data_backup_state;
DROP TABLE data_backup_chunks;
DROP TABLE data_backup_runs;
DROP TABLE data_backup_policies;
