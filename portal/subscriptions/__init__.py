"""Subscriptions of collectivités to the CDG's services: request, validation, activation, end."""
