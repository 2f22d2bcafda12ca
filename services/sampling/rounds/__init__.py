"""Rounds (督查批次): plans, the frozen frame, verifiable draws, teams, visits and publication."""
