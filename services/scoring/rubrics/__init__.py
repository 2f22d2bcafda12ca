"""Rubric versions (测评体系): drafts, publication, and which version each round is scored on."""
