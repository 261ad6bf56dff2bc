"""Public comments at scale: the portal form (`submission`), intake by group commit
(`intake`), bulk upload of comments received elsewhere (`upload`), mass-comment campaign
clusters (`clusters`), the rules every comment meets (`rules`) and `dueprocess comments …`
(`cli`)."""
