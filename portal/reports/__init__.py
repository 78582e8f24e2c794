"""What the CDG reports to its board: statistics with charts, and the yearly activity report (PDF)."""
