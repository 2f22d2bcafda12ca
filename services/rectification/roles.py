"""Role groups the routes allow (what a caller may do); access.py modules add WHERE (the scope)."""

# Everyone who reads problems (each sees only what its scope and role allow).
READERS = ("city_admin", "district_admin", "responsible", "leader", "system", "team_leader", "inspector")
# City and district organisation departments.
ADMINS = ("city_admin", "district_admin")
# Roles that see every problem inside their scope (not beyond it: the scope still applies).
OVERSEERS = ("city_admin", "district_admin", "leader", "system")
# Inspectors and team leaders, who issue problems and verify them.
ISSUERS = ("team_leader", "inspector")
