"""The tools, one module per group; each exposes `register(server)`."""
