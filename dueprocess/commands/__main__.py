"""`python -m dueprocess.commands`: the CLI, as the `dueprocess` script runs it."""

from dueprocess.commands.app import main

main()
