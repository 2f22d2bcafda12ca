"""The recipient directory: people, their contact points and their notification preferences."""
