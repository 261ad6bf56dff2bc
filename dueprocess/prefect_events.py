"""Prefect events feature: every case event becomes a `dueprocess.*` Prefect event after
its transaction commits."""
