"""The `dueprocess` command line, one module per command group (as Prefect's own `cli/`).

`app` is the root; `cases`, `procedure`, `ledger` and `stack` each add their commands with
`register(app)`. Commands parse and print; what they do is in `dueprocess.services`,
`dueprocess.orchestration` and `dueprocess.stack`.
"""
