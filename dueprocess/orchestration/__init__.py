"""Everything that talks to Prefect: starting and resuming a case's flow run, keeping
every open case driven (recovery), and turning case events into Prefect events.

The flows and tasks themselves are in the top-level `flows/` and `tasks/`; they call the
case services, and these modules call Prefect's client.
"""
