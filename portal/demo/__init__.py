"""Demonstration data for the CDG of Lot-et-Garonne: official registry, synthetic headcounts, demo accounts."""
