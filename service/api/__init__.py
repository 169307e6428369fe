"""The OpenAI-compatible HTTP API: protocol (request/response models), serving (logic),
routers (thin), errors (one envelope), app (wiring and lifespan)."""
