"""The gateway: one front door that authenticates, authorises and forwards to the four services."""

__version__ = "0.1.0"
