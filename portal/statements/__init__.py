"""Yearly statements of each body: cotisation or socle contribution, subscribed services, payment calendar."""
