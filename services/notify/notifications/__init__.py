"""Notifications as their readers see them: one notification with its deliveries, and each person's inbox."""
