"""Gridline — 有事找网格长: residents reach their grid leader; pages, acknowledgement, escalation."""

__version__ = "0.1.0"
