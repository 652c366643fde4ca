import sqlite3, threading, tempfile, os
d=tempfile.mkdtemp(); db=os.path.join(d,'t.db')
c=sqlite3.connect(db); c.execute('pragma journal_mode=wal'); c.execute('create table t(k integer, v text)'); c.commit(); c.close()
def w(i):
    c=sqlite3.connect(db, timeout=30)
    for j in range(200):
        c.execute('insert into t values(?,?)',(i*1000+j,'x'*50)); c.commit()
    c.close()
ts=[threading.Thread(target=w,args=(i,)) for i in range(6)]
[t.start() for t in ts]; [t.join() for t in ts]
c=sqlite3.connect(db); n=c.execute('select count(*), sum(k) from t').fetchone()
assert n[0]==1200, n
m=sqlite3.connect(':memory:', check_same_thread=False); lk=threading.Lock()
m.execute('create table a(x)')
def w2():
    for j in range(500):
        with lk: m.execute('insert into a values(?)',(j,))
ts=[threading.Thread(target=w2) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
assert m.execute('select count(*) from a').fetchone()[0]==2000
print("sqlite ok", n)
