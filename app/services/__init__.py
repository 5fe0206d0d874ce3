"""Use cases. Each owns its transaction and returns plain records from ``app.domain``."""
