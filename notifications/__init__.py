"""Notices to the public and to reviewers, delivered through Apprise."""
