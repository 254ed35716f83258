"""Who may act: brand users and passwords, API tokens, the login throttle."""

# A stdlib-only home, so the CLI can offer the choices without loading the models.
ROLES = ("admin", "manager", "reviewer")
