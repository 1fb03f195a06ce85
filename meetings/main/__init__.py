"""The front page and site-wide preferences."""
