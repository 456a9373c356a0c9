"""The effects stage: the reviews' pooled results harmonised (harmonise), figures and files (stage)."""
