"""Public search (issue 17): meetings, answered requests, projects and
published minutes, found by an inverted index of words (``search_token``)."""
