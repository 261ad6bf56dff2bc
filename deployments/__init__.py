"""Deployments of the dueprocess flows, served by `dueprocess serve` or deployed to a pool."""
