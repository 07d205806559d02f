"""The ground floor: the shared vocabulary (statuses and their lifecycles, priorities, roles,
privacy rules) that every layer may import and that imports nothing of Gridline's above it."""
