"""Affiliation to the CDG under the 350-agent rule: status, explanations, history, decisions."""
