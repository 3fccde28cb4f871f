"""kopf handlers, one module per kind (children.py: every child kind alike); importing this
package registers them all."""

from arcdesk.engine.handlers import children, courses, lifecycle, profiles, seats, storage

__all__ = ["children", "courses", "lifecycle", "profiles", "seats", "storage"]
