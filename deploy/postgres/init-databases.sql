-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d):
-- one database per process, so no process can read another's tables.
CREATE DATABASE gateway;
CREATE DATABASE sampling;
CREATE DATABASE scoring;
CREATE DATABASE rectification;
CREATE DATABASE notify;
CREATE DATABASE reporting;
CREATE DATABASE evidence;
