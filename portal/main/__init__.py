"""Home and dashboards by role."""
