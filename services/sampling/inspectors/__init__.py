"""The inspector pool (人员库): the people teams are drawn from, with their home districts."""
