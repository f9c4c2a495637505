"""The public site's data: listings, article pages, head metadata and sitemaps.

Functions take a session and return plain frozen values, so a page is a pure function
of what they return and its ETag can be computed before anything is rendered.
"""
