"""Alembic migrations of the metadata database (run with ``crossdock db upgrade``)."""
