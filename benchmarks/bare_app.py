"""The reference for benchmarks/web_pages.py: a bare Flask app served by the same gunicorn settings.

python -m gunicorn -w 2 -b 127.0.0.1:8001 --chdir benchmarks bare_app:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
