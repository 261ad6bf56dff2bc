"""After the decision (Decree 713 Art. 34–37), for every decided case: the implementing
unit's items and milestones, progress reports, supervision of overdue milestones, residents'
comments and ratings, the yearly supervision report (with the filing of normative documents
and the reply rate to judicial recommendations), evaluation after the decision, and
adjustment or stop through the procedure again.

Tables are in `models.implementation` and `models.follow_up`; every row is a
transparency-log record. The composition root (`dueprocess.composition`) mounts its pages,
registers its commands and adds its sweeps to the deadline watchdog.
"""
