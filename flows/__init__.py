"""Prefect flows: one flow per module."""
