"""Consultation meetings (协商议事会): the meeting, its agenda (议程) and who
attends (参会) — invitations, RSVP, check-in and the quorum (法定人数)."""
