DROP TABLE restored_records;
