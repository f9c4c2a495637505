"""Public search: the words search compares (``words``), the index kept in step with
published articles (``index``), the one search function over it (``query``) and the
snippets shown with each result (``snippets``). Decision 33."""
