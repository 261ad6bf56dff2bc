"""Process management of the local stack: start, check and stop a Prefect server, the
served deployments and the portal as child processes (`processes`), and `dueprocess up`
built on them (`up`)."""
