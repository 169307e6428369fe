"""The OpenAI-compatible HTTP API: protocol (request/response models), views (Video objects),
routes (thin), errors (one table from domain errors to one envelope), app (wiring, lifespan)."""
