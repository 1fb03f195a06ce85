"""Proposals (方案) with their discussion, and polls (表决) with ballots that
cannot be lost or doubled."""
