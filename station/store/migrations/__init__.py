"""Alembic migrations of the station store (configured in code: see station.store.migrate)."""
