"""The CDG's catalogue of services: missions obligatoires, socle commun, missions facultatives, yearly tariffs."""
