"""sqlite3 on a file: create/insert/query, parameter styles, transactions (commit, rollback, context manager), reopen and read back, journal files, errors."""
import os, sqlite3
print("sqlite_version", sqlite3.sqlite_version)
con = sqlite3.connect("db.sqlite")
cur = con.cursor()
cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)")
cur.executemany("INSERT INTO t (name, score, data) VALUES (?, ?, ?)", [(f"n{i}", i * 1.5, bytes([i])) for i in range(10)])
con.commit()
print("rows", cur.execute("SELECT count(*), sum(score), max(name) FROM t").fetchone())
cur.execute("INSERT INTO t (name) VALUES (:n)", {"n": "named"})
print("lastrowid", cur.lastrowid, "rowcount", cur.rowcount)
con.rollback()
print("after rollback", cur.execute("SELECT count(*) FROM t").fetchone())
with con:
    con.execute("UPDATE t SET score = score * 2 WHERE id % 2 = 0")
try:
    with con:
        con.execute("DELETE FROM t")
        raise RuntimeError("abort")
except RuntimeError:
    pass
print("context rollback kept", con.execute("SELECT count(*) FROM t").fetchone())
print("query", con.execute("SELECT id, name, score, data FROM t WHERE score > ? ORDER BY id DESC LIMIT 3", (5,)).fetchall())
try:
    con.execute("SELEC nonsense")
except sqlite3.OperationalError as e:
    print("OperationalError", e)
try:
    con.execute("INSERT INTO t (id) VALUES (1)")
except sqlite3.IntegrityError as e:
    print("IntegrityError", e)
con.close()
print("files", sorted(f for f in os.listdir(".") if f.startswith("db.")), os.path.getsize("db.sqlite") > 0)
con = sqlite3.connect("db.sqlite")
con.row_factory = sqlite3.Row
r = con.execute("SELECT * FROM t WHERE id = 4").fetchone()
print("reopen", dict(r))
print("journal_mode", con.execute("PRAGMA journal_mode").fetchone()[0])
print("wal", con.execute("PRAGMA journal_mode=WAL").fetchone()[0])
con.execute("INSERT INTO t (name) VALUES ('wal')"); con.commit()
print("wal files", sorted(f for f in os.listdir(".") if f.startswith("db.")))
con.create_function("twice", 1, lambda x: x * 2)
print("udf", con.execute("SELECT twice(21)").fetchone()[0])
con.close()
mem = sqlite3.connect(":memory:")
print("memory", mem.execute("SELECT 1 + 1, 'x' || 'y', typeof(1.0)").fetchone())
print("backup", end=" ")
dst = sqlite3.connect("copy.sqlite"); sqlite3.connect("db.sqlite").backup(dst)
print(dst.execute("SELECT count(*) FROM t").fetchone()); dst.close()
