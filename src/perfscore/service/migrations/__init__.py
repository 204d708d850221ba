"""Alembic migrations of the service's database, newest last in ``versions/``."""
