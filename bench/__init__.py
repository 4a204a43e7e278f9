"""`make bench`: the app and its sandbox under gunicorn, measured against budgets.

Run it with `python -m bench.run` (or `make bench`). It starts the app the way
the container does (gunicorn with gunicorn.conf.py, on loopback), drives it from
this second process, and prints one table of budgets, measured figures and
verdicts; the same table goes to docs/bench.json and, as a chart, docs/bench.png.
Nothing here is imported by the app.
"""
