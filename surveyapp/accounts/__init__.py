"""Users, roles, organisational units, login and permission checks."""
