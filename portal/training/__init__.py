"""Training of elected officials (Élu Numérique Rural): sessions, registrations, waiting lists, attendance, rights."""
