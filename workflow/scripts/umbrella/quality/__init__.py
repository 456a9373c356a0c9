"""The quality stage: AMSTAR-2 ratings (rating), their figures (figures) and files (stage)."""
