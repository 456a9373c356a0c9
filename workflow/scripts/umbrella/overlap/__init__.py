"""The overlap stage: corrected covered area (cca), figures and files (stage)."""
