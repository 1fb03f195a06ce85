"""Resident requests (居民诉求): raised by residents, answered by the secretary."""
