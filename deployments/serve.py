"""Serve the dueprocess deployments from this process (`dueprocess serve`, `dueprocess up`).

Flow runs execute in subprocesses started by Prefect's runner; a suspended run holds no
process until it is resumed. The deployments, their triggers and schedules are defined
in `deployments.definitions` (the same ones `prefect.yaml` deploys to a work pool):
major-decision, resume-case, deadline-watchdog, and the delivery flow as notify-reviewers,
publish-decision and deliver-notices.
"""

from __future__ import annotations

from prefect import serve

from deployments.definitions import DELIVER_NOTICES, MAJOR_DECISION, served_deployments

__all__ = ["DELIVER_NOTICES", "MAJOR_DECISION", "main"]


def main() -> None:
    serve(*served_deployments(), limit=None)


if __name__ == "__main__":
    main()
