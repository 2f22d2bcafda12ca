"""Rounds: the list of rounds, each round's dashboard (every figure from services.reporting.stats)
and its charts."""
