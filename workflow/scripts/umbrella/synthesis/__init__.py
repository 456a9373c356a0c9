"""The synthesis stage: implementation and experiences (findings), the PRISMA flow (prisma), figures and files
(stage)."""
