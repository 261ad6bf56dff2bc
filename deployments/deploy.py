"""Register every dueprocess deployment on a process work pool, from Python.

    python -m deployments.deploy [--pool dueprocess]

The same as `prefect deploy --all --prefect-file deployments/prefect.yaml`; creates the
process work pool when it does not exist. Workers then run the flows:
`prefect worker start --pool dueprocess --type process` on each worker host.
"""

from __future__ import annotations

import argparse
import contextlib

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists

from deployments.definitions import deploy_to_work_pool
from dueprocess.settings import get_ops_settings


def ensure_process_pool(name: str) -> None:
    # Created before: fine.
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool", default=get_ops_settings().work_pool,
                        help="process work pool (DUEPROCESS_WORK_POOL)")
    args = parser.parse_args()
    ensure_process_pool(args.pool)
    for name in deploy_to_work_pool(args.pool):
        print(f"deployed {name} to work pool {args.pool}")


if __name__ == "__main__":
    main()
