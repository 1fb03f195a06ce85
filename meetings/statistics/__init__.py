"""Statistics of a community, a street or all streets over a period (issue 17)."""
