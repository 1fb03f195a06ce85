"""Notifications: an outbox written with the change that causes it, read in
the in-app inbox and delivered by e-mail by a worker."""
