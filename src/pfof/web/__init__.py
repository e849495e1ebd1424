"""``pfof serve``: a web dashboard over a pfof store (FastAPI, Jinja2, Plotly served locally).

:func:`pfof.web.server.create_app` builds the application; :mod:`pfof.web.dashboard`
computes what each page shows from a read-only store; :mod:`pfof.web.figures` draws it.
"""
