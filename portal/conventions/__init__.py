"""Partner conventions: framework agreements, local contracts, their follow-up and renewal alerts."""
