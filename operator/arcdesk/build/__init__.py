"""Pure builders: (course, profile, seat) -> manifests, rendered from templates/ (Jinja)
and the chart's default profiles; the golden files in tests/unit/golden pin them."""
