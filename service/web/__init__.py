"""What people see: one Jinja2 environment, the templates and the static files of the
public pages (and, later, of the staff console), plus the HTTP rules pages share."""
