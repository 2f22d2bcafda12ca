"""Shared infrastructure for every service and the gateway. No business rules live here."""
