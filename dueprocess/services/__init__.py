"""Case services: what happens to a case in the case database, with no Prefect call.

Open cases, record evidence (the one recording function every channel uses), revise
drafts, assign people, advance a case through its gates, escalate missed deadlines,
authenticate people, and read a case back (its rule snapshot, status view and archive).
The gate rules they apply are in `dueprocess.rules`.
"""
