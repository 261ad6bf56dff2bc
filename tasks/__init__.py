"""Prefect tasks: thin wrappers that give each side effect of a flow a task run.

The work itself lives in `dueprocess` service functions, idempotent against the database,
so the tasks need no result caching: a rerun flow body calls them again harmlessly.
"""
