"""The one SQLAlchemy ``MetaData`` every table module registers with.

Table definitions are declarative schema (constants), so they live at module level in
``identity_tables.py`` and ``registry_tables.py``; nothing here connects to a database.
Alembic migrations (``migrations/``) are the only way the schema reaches a database.
"""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
