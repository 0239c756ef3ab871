"""Persistence behind narrow interfaces: SQL metadata (SQLite now, PostgreSQL later) and blobs."""
