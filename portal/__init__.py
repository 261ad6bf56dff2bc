"""The public web portal: case pages, comments, subscriptions, Atom feed and JSON API."""
