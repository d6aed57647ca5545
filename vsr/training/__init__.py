"""Training PlainUSR (`vsr train`). Free of PyAV so it runs on machines without it."""
