"""How a notice leaves the machine: Apprise channels and their checks (public addresses
only), the HTTP transport Apprise's plugins are given, and a loopback webhook receiver for
the demo, tests and benchmarks."""
