"""Campaigns: yearly collections the CDG runs with every body in a scope (headcounts, groupements de commandes…)."""
