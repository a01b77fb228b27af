"""Storage: the SQLAlchemy store (SQLite or PostgreSQL) and an in-memory store for tests."""
