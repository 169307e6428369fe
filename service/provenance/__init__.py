"""Where a clip came from: its marks and signatures, the outputs registry, and verify."""
