"""Webhook subscriptions: other systems that receive events, signed per the Standard Webhooks specification."""
