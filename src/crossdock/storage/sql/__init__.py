"""SQLAlchemy Core schema, engine setup and Alembic migrations."""
