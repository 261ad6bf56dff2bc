"""Serve the dueprocess deployments from this process (`dueprocess serve`).

Flow runs execute in subprocesses started by Prefect's runner; a suspended run holds no
process until it is resumed.
"""

from __future__ import annotations

from prefect import serve

from flows.major_decision import major_decision

MAJOR_DECISION = "major-decision"


def main() -> None:
    deployment = major_decision.to_deployment(
        name=MAJOR_DECISION,
        description="Drive a decision case through its statutory stages.",
        tags=["dueprocess"],
    )
    serve(deployment, limit=None)  # type: ignore[arg-type]  # sync call returns the deployment


if __name__ == "__main__":
    main()
