"""Prefect tasks: thin wrappers that give a flow's side effects a task run.

The work itself lives in `dueprocess` functions, idempotent against the database, so the
tasks need no result caching: a rerun flow body calls them again harmlessly.
"""
