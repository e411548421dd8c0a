"""Server-rendered HTML pages: Jinja2 templates, a session cookie, CSRF-checked forms."""
