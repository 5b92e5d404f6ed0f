"""Models of the places app."""
