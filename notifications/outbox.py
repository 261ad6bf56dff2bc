"""Notification outbox feature: queues notices in the transaction of the case event that
causes them."""
