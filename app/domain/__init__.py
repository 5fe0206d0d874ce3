"""Pure Python rules of the casebook: the Code, categories, statuses and errors."""
