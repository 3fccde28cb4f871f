"""The operator: kopf handlers (handlers/) feed a work queue; runtime.py drains it into
the reconcilers (course_sync, seat_sync), which decide with the pure course_logic and
seat_logic and write through arcdesk.kube."""
