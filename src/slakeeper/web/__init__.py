"""Server-rendered pages (Jinja2 + CSS, SVG drawn on the server, no JavaScript build)."""
