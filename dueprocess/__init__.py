"""dueprocess: statutory decision procedures as Prefect flows that cannot be skipped."""

__version__ = "0.1.0"
