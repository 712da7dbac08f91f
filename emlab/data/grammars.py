"""Shipped example data (filled in by the issue that needs it)."""

__all__: list[str] = []
