"""`vsr serve`: a local web app and JSON API that queue upscales and show them.

    app.py      the ASGI app (FastAPI): the page, the JSON API, the compare frames
    queue.py    the job store: one SQLite file in the state folder (survives kill -9)
    worker.py   the threads that run queued jobs through vsr's own runs (resumable segments)
    security.py who may come in (token, Host, Origin), which server paths may be read,
                upload limits, safe file names
    frames.py   one frame of a file as a PNG, for the compare view
    static/     the one page (plain HTML, CSS and a little JS; no build step)

It imports the rest of vsr, never the other way round; vsr.commands.serve gives it its flags.
"""
