"""The intake of scoring's findings: one problem per event, however often it is delivered."""
