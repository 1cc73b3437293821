-- Databases of the compose stack (local placeholder passwords = role names), as DATABASES in scripts/stack.py.
CREATE ROLE airflow LOGIN PASSWORD 'airflow';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE mlflow LOGIN PASSWORD 'mlflow';
CREATE DATABASE mlflow OWNER mlflow;
CREATE ROLE source LOGIN PASSWORD 'source';
CREATE DATABASE source OWNER source;
CREATE ROLE mlops LOGIN PASSWORD 'mlops';
CREATE DATABASE mlops OWNER mlops;
-- lakeFS's KV store (database.type: postgres: the distributed setting, not the embedded local store)
CREATE ROLE lakefs LOGIN PASSWORD 'lakefs';  -- pragma: allowlist secret
CREATE DATABASE lakefs OWNER lakefs;
