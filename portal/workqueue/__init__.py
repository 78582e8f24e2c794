"""The staff work queue: every item that waits for a CDG agent, from every area, computed by queries."""
