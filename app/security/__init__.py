"""Keys and encryption: the data key, its wrapping under passwords, and sealed files."""
