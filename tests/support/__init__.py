"""Test data builders shared by the tiers (no tests here)."""
