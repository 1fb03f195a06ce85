"""履职档案: what a CPPCC member or representative did over a period (issue 17)."""
