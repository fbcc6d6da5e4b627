"""Temporal workflows. `ReturnWorkflow` (return_workflow.py) carries one return from request to outcome."""
