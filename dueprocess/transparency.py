"""Transparency log feature (see issue: tamper-evident evidence log); subscribes to
case events and appends each as a Merkle leaf in the same transaction."""
