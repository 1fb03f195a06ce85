"""Minutes (会议纪要): drafted from the meeting, versioned, confirmed by the
attendees, published to residents."""
