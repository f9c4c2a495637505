"""Staff API tokens: created with the CLI, stored hashed, carrying scopes."""
