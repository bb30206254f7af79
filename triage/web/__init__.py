"""The web face of triage (``triage serve``): the questionnaire, the audit page, the JSON API.

Needs the ``web`` extra (Starlette, uvicorn, Jinja2, python-multipart).
:func:`triage.web.app.create_app` builds the ASGI application; nothing a
person enters is stored or logged: the answers travel in a cookie of the person's browser.
"""
