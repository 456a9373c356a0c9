"""The extract stage: tidy tables, counts and the characteristics of the included reviews."""
