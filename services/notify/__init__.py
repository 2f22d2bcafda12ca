"""Notify (通知): Notification intake, templates, inbox, webhooks, email and SMS."""

__version__ = "0.1.0"
