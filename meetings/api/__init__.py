"""The JSON API, version 1 (``/api/v1``): shared plumbing for every domain's ``api.py``."""
