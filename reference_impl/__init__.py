"""NumPy reference implementations with hand-derived backward passes."""
