"""Access requests: a secretary not yet on the portal asks for an account; staff accept (she is invited) or refuse."""
