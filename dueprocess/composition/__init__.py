"""The composition root: the one place that knows every capability and wires it in.

Each entry point assembles the application here, explicitly: the CLI (`cli`), the portal
(`portal`), the flow runs and served deployments (`journal`, `sweeps`), and the tests (which
call `journal.wire()` in their session fixture). The core (models, rules, services, ledger,
orchestration, the web kit) imports no capability; capabilities import the core, and one
another only through a `public` module; only this package and the entry points above it
(`dueprocess.commands`, `dueprocess.stack`, `dueprocess.demo`, `flows`, `tasks`,
`deployments`) may import a capability's other modules. `tests/test_architecture.py`
holds that.
"""
