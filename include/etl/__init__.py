"""ETL stage: source extraction, partitions, validation, curated datasets on lakeFS."""
