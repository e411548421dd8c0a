"""The JSON API under /api (DESIGN 3.4), one router per resource."""
