"""Shared configuration: use cases, metadata keys, lineage, alert texts."""
