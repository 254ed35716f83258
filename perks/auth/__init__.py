"""Who may act: brand users and passwords, API tokens, the login throttle."""
