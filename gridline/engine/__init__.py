"""The engine: all time-driven work (jobs, the reconciler, sweeps, retention).

Nothing below imports it. The job queue (``gridline.storage.jobs``) is a plain queue handed the
engine's job functions by the composition root.
"""
