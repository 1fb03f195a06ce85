"""The baseline of ``bench/vote_load.py``: a bare Flask app answering a small
JSON body, served by the same gunicorn settings and hit by the same client as
the ballots, so that ballots/s ÷ hello requests/s says what the ballot path
costs on this machine."""

from flask import Flask, request

app = Flask(__name__)


@app.route("/hello", methods=["GET", "POST"])
def hello():
    # Read the body as the ballot endpoint does, so both parse the same JSON.
    request.get_json(silent=True)
    return {"hello": "world"}, 201 if request.method == "POST" else 200
