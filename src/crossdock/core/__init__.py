"""Shared value types used by every layer (standard library only)."""
