"""The judge's web front end, JSON API and ``judge`` command.

    from web.app import create_app      # the ASGI app (uvicorn web.app:create_app --factory)
    judge web | worker | up | migrate | token create | user create|password|list | problem import   (web.cli)

Layout: ``app.py`` wires everything; ``api/`` holds one router per resource; ``pages/`` the HTML
pages; ``deps.py`` who is asking; ``security.py`` hashes, cookies and CSRF; ``grading.py`` is
the only module that calls into ``worker``; ``up.py`` runs the whole service on one machine.
"""
