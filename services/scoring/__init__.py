"""Scoring (评分): Rubrics (测评体系), score sheets (评分表), results and rankings."""

__version__ = "0.1.0"
