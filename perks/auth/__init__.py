"""Who may act: brand users and passwords, API tokens, the login throttle."""

# A stdlib-only home, so the CLI can offer the choices without loading the models.
# An operator runs the perks install (the shared pool, erasing accounts, removal requests) and
# can do everything an admin can; brands' users are admin, manager or reviewer.
ROLES = ("operator", "admin", "manager", "reviewer")
BRAND_ROLES = ROLES[1:]
