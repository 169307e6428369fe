"""The toy model's world: synthetic clips of moving shapes, with captions and short prompts."""
