"""Accounts, communities, login and permissions."""

# The application package loads first, so that whichever of the two is
# imported first, their modules meet in the same order.
import meetings  # noqa: F401
