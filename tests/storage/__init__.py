"""Tests for bot.storage (SqlStore on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set)."""
