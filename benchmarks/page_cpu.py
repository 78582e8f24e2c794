"""Benchmark: the CPU time of one request to a page, in process (Flask test client), to compare two versions of the
code alternately on the same machine.

Usage, from a checkout (the one measured: ``PYTHONPATH`` names it, the main checkout by default)::

    .venv/bin/python benchmarks/page_cpu.py DATABASE_URL URL [URL…] [--build] [--nocache] [--n N] [--profile]

``--build`` fills the database first with the national registry (``web_pages.build_database``). The first CPU
agent of the database is signed in through the session. Printed per URL: CPU per request (``time.process_time``,
test client included), SQL statements, and with ``--profile`` Python calls per request (a measure that does not
depend on the machine's load) and the 30 costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT / "benchmarks"))
import benchlib  # noqa: E402

sys.path.insert(0, str(ROOT))  # after benchlib, which puts its own checkout first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="URL SQLAlchemy de la base (PostgreSQL ou SQLite)")
    parser.add_argument("urls", nargs="+", help="pages mesurées, par exemple /collectivites?page=200")
    parser.add_argument("--n", type=int, default=300, help="requêtes mesurées par page (défaut : %(default)s)")
    parser.add_argument("--build", action="store_true", help="remplir d'abord la base (registre national)")
    parser.add_argument("--nocache", action="store_true", help="sans cache de réponses (RESPONSE_CACHE=off)")
    parser.add_argument("--profile", action="store_true", help="profil cProfile en temps CPU")
    args = parser.parse_args()

    if args.build:
        import web_pages

        web_pages.build_database(args.database, benchlib.DEFAULT_DATA)
    extra = {"RESPONSE_CACHE": "off", "WORK_QUEUE_CACHE_SECONDS": "0"} if args.nocache else {}
    import portal
    from portal import create_app

    if not Path(portal.__file__).resolve().is_relative_to(ROOT.resolve()):
        raise SystemExit(f"portal importé de {portal.__file__}, pas de {ROOT} : la mesure porterait sur un autre code.")
    from sqlalchemy import event, text

    from portal.extensions import db

    app = create_app({"ENVIRON": benchlib.bench_environ(args.database, **extra)})
    with app.app_context():
        user_id, token = db.session.execute(
            text("SELECT id, session_token FROM user_account WHERE role = 'staff' ORDER BY id LIMIT 1")
        ).one()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{token}"
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))

    print(f"code : {ROOT}")
    for url in args.urls:
        for _ in range(20):  # warm: compiled statements, kept fragments, connections
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} : réponse {response.status_code}")
        statements[0] = 0
        client.get(url)
        count = statements[0]
        profile = cProfile.Profile(time.process_time) if args.profile else None
        started = time.process_time()
        if profile:
            profile.enable()
        for _ in range(args.n):
            client.get(url)
        if profile:
            profile.disable()
        cpu = (time.process_time() - started) / args.n * 1000
        line = f"{url} : {cpu:.2f} ms de CPU par requête, {count} instructions SQL"
        if profile:
            stats = pstats.Stats(profile)
            line += f", {sum(v[1] for v in stats.stats.values()) / args.n:.0f} appels Python par requête"
        print(line, flush=True)
        if profile:
            stats.sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
