DROP TABLE trellis_processes;
