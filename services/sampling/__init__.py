"""Sampling (抽样): the site directory, inspection rounds and verifiable draws."""

__version__ = "0.1.0"
