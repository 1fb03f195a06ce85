"""Browser end-to-end tests: the four stories of DESIGN.md in Chromium (``make test-e2e``)."""
