#!/usr/bin/python3
"""A streaming-service home page served from pg_recommend (examples/streaming/README.md).

Python 3 standard library plus psycopg2 (Debian: python3-psycopg2). Connects with the libpq
environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, ...); the database must have been set
up by setup.sql. Each page is one call of streaming.home_page(user); what the page showed, row by row,
is then recorded with rec.log_impressions, for rec.online_metrics and rec.compare_versions.

    /usr/bin/python3 examples/streaming/app.py --port 8080
    open http://127.0.0.1:8080/?user=1
"""

import argparse
import html
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import psycopg2
import psycopg2.pool

PAGE_SQL = """
SELECT row_no, row_kind, row_title, anchor_item, position, item_id, title, year, genres, score
FROM streaming.home_page(%s, %s) ORDER BY row_no, position
"""
# One list per row of the page, in one transaction without waiting for the WAL flush: losing the
# last impressions in a crash is acceptable, slowing every page is not (docs/benchmarks.md).
LOG_SQL = "SELECT rec.log_impressions(%s, %s, %s::integer[])"
USER_SQL = """
SELECT (SELECT count(*) FROM streaming.ratings WHERE user_id = %s),
       (SELECT min(user_id) FROM streaming.ratings), (SELECT max(user_id) FROM streaming.ratings)
"""
# The rows every page has, in page order, even when one comes back empty (the test checks them);
# the "because you watched" rows come between top picks and trending, as many as there are anchors.
FIXED_ROWS = {"top-picks": "Top picks for you", "trending": "Trending now",
              "new-releases": "New releases for you"}

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; background: #141414; color: #e5e5e5; font-family: "DejaVu Sans", Arial, sans-serif; }
header { display: flex; align-items: center; gap: 24px; padding: 14px 32px; background: #000; }
header h1 { margin: 0; font-size: 24px; color: #e50914; letter-spacing: 1px; }
header form { margin-left: auto; display: flex; gap: 8px; align-items: center; font-size: 14px; }
header input { width: 90px; padding: 5px 8px; background: #333; color: #fff; border: 1px solid #555; border-radius: 3px; }
header button { padding: 5px 12px; background: #e50914; color: #fff; border: 0; border-radius: 3px; cursor: pointer; }
main { padding: 8px 32px 24px; }
.note { color: #999; font-size: 13px; margin: 10px 0 0; }
section.row h2 { font-size: 18px; margin: 18px 0 8px; font-weight: bold; }
ol.tiles { list-style: none; display: flex; gap: 10px; margin: 0; padding: 0 0 6px; overflow-x: auto; }
li.tile { flex: 0 0 146px; }
.poster { height: 84px; border-radius: 4px; padding: 8px; display: flex; align-items: flex-end;
          font-size: 13px; font-weight: bold; color: #fff; text-shadow: 0 1px 2px #000; }
.poster .title, .meta { display: -webkit-box; -webkit-box-orient: vertical; overflow: hidden; }
.poster .title { -webkit-line-clamp: 3; }
.meta { -webkit-line-clamp: 2; font-size: 11px; color: #aaa; margin-top: 4px; line-height: 1.35; height: 2.7em; }
.empty { color: #777; font-style: italic; font-size: 14px; }
footer { color: #777; font-size: 12px; padding: 0 32px 24px; }
"""
# A poster colour per first genre (MovieLens has 19 genres).
GENRE_COLOURS = {
    "Action": "#b71c1c", "Adventure": "#e65100", "Animation": "#f9a825", "Children": "#7cb342",
    "Comedy": "#00897b", "Crime": "#37474f", "Documentary": "#5d4037", "Drama": "#4527a0",
    "Fantasy": "#6a1b9a", "Film-Noir": "#212121", "Horror": "#880e4f", "IMAX": "#0277bd",
    "Musical": "#c2185b", "Mystery": "#283593", "Romance": "#ad1457", "Sci-Fi": "#1565c0",
    "Thriller": "#455a64", "War": "#556b2f", "Western": "#8d6e63",
}

esc = html.escape  # quote=True: safe in text and in double-quoted attributes


class Database:
    """A pool of connections shared by the server's threads (one thread per request): a fresh
    connection would pay for loading the model and trending's per-backend ranking on each page."""

    def __init__(self, model, size=4):
        self.model = model
        self.pool = psycopg2.pool.ThreadedConnectionPool(1, size, "")  # "": libpq reads PG* variables
        self.slots = threading.BoundedSemaphore(size)  # wait for a connection rather than fail

    def query(self, sql, args):
        with self.slots:
            conn = self.pool.getconn()
            conn.autocommit = True  # each page its own transaction
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, args)
                    rows = cur.fetchall()
            except psycopg2.Error:
                self.pool.putconn(conn, close=True)
                raise
            self.pool.putconn(conn)
            return rows

    def page(self, user):
        started = time.perf_counter()
        rows = self.query(PAGE_SQL, (user, self.model))
        return rows, (time.perf_counter() - started) * 1000

    def log_shown(self, user, rows):
        """Records each row of the page as a list shown to the user (rec.log_impressions)."""
        lists = {}
        for row_no, _kind, _title, _anchor, _position, item_id, *_ in rows:
            lists.setdefault(row_no, []).append(item_id)
        with self.slots:
            conn = self.pool.getconn()
            try:
                conn.autocommit = False
                with conn.cursor() as cur:
                    cur.execute("SET LOCAL synchronous_commit = off")
                    for row_no in sorted(lists):
                        cur.execute(LOG_SQL, (self.model, user, lists[row_no]))
                conn.commit()
            except psycopg2.Error:
                conn.rollback()
                self.pool.putconn(conn, close=True)
                raise
            conn.autocommit = True
            self.pool.putconn(conn)


def render_tile(item_id, title, year, genres, score):
    genre_list = [g for g in genres.split("|") if g != "(no genres listed)"]
    colour = GENRE_COLOURS.get(genre_list[0] if genre_list else "", "#424242")
    year_text = str(year) if year is not None else ""
    return (f'<li class="tile" data-item-id="{int(item_id)}" title="score {score:.3f}">'
            f'<div class="poster" style="background: linear-gradient(160deg, {colour}, #1c1c1c)">'
            f'<span class="title">{esc(title)}</span></div>'
            f'<div class="meta"><span class="year">{esc(year_text)}</span> · '
            f'<span class="genres">{esc(", ".join(genre_list))}</span></div></li>')


def render_row(kind, title, tiles, anchor=None):
    anchor_attr = f' data-anchor-item="{int(anchor)}"' if anchor is not None else ""
    body = (f'<ol class="tiles">{"".join(tiles)}</ol>' if tiles
            else '<p class="empty">Nothing to show in this row.</p>')
    return f'<section class="row" data-row="{esc(kind)}"{anchor_attr}><h2>{esc(title)}</h2>{body}</section>'


def render_page(user, rows, n_ratings, users, error=None):
    by_row = {}  # row_no -> (kind, title, anchor, [tiles])
    for row_no, kind, row_title, anchor, _pos, item_id, title, year, genres, score in rows:
        entry = by_row.setdefault(row_no, (kind, row_title, anchor, []))
        entry[3].append(render_tile(item_id, title, year, genres, score))
    sections = []
    if error is None:
        # Page order; a fixed row that came back empty is still shown, empty, in its place.
        ordered = [by_row[k] for k in sorted(by_row)]
        for kind in ["top-picks", "because-you-watched", "trending", "new-releases"]:
            found = [r for r in ordered if r[0] == kind]
            if not found and kind in FIXED_ROWS:
                found = [(kind, FIXED_ROWS[kind], None, [])]
            sections += [render_row(k, t, tiles, anchor) for k, t, anchor, tiles in found]
    if n_ratings:
        note = f"User {user} has rated {n_ratings} films."
    else:
        note = f"User {user} has no ratings: the rows fall back to what is popular."
    if error:
        note = error
    low, high = users
    user_value = esc(str(user)) if user is not None else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pg_recommend streaming example</title>
<style>{STYLE}</style></head>
<body>
<header><h1>PGSTREAM</h1><span>Home</span>
<form method="get" action="/"><label for="user">User</label>
<input id="user" name="user" type="number" min="{low}" max="{high}" value="{user_value}">
<button type="submit">Show</button></form></header>
<main><p class="note">{esc(note)}</p>
{"".join(sections)}
</main>
<footer>MovieLens latest-small · every row by pg_recommend, the whole page in one SQL call
(streaming.home_page)</footer>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    db = None  # set in main()
    default_user = 1

    def send_html(self, status, body):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        if url.path != "/":
            self.send_html(404, "<!DOCTYPE html><title>not found</title><p>Not found.</p>")
            return
        raw = parse_qs(url.query).get("user", [str(self.default_user)])[0].strip()
        try:
            user = int(raw)
            error = None if -2**31 <= user < 2**31 else "out of range"
        except ValueError:
            user, error = None, "not a number"
        try:
            n_ratings, low, high = self.db.query(USER_SQL, (user if error is None else 0,))[0]
            if error is not None:
                self.send_html(400, render_page(None, [], 0, (low, high),
                                                error=f"Not a user id ({error}): {raw}"))
                return
            rows, millis = self.db.page(user)
            self.db.log_shown(user, rows)
        except psycopg2.Error as e:
            self.log_error("database error: %s", str(e).strip())
            self.send_html(500, "<!DOCTYPE html><title>error</title><p>Database error: "
                           f"{esc(str(e).strip())}</p>")
            return
        self.send_html(200, render_page(user, rows, n_ratings, (low, high)))
        self.log_message("user %d: %d films, streaming.home_page %.1f ms", user, len(rows), millis)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")),
                        help="port to listen on (default: $PORT or 8080; 0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--model", default="home", help="pg_recommend model (default: home)")
    parser.add_argument("--user", type=int, default=1, help="user shown when the URL names none")
    args = parser.parse_args()
    try:  # fail early, and leave one connection warm
        Handler.db = Database(args.model)
        Handler.db.page(args.user)
    except psycopg2.Error as e:
        sys.exit(f"app.py: cannot render a page (has examples/streaming/setup.sql run in this database?): {e}")
    Handler.default_user = args.user
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    # The test waits for this line to learn the port (with --port 0 the kernel picks it).
    print(f"serving http://{args.host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
