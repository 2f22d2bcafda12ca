"""Operations: rebuilding the read model from the event store."""
