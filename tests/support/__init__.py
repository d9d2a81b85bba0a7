"""Test helpers that start real servers (PostgreSQL) for the tests that need them."""
