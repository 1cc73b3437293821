"""Monitoring: drift, prediction drift and performance of the champion on each new partition."""
