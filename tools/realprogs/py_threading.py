import threading, queue, time, sys
from concurrent.futures import ThreadPoolExecutor
# locks
n=0; lk=threading.Lock()
def inc():
    global n
    for _ in range(20000):
        with lk: n+=1
ts=[threading.Thread(target=inc) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
assert n==160000, n
# condition
c=threading.Condition(); items=[]
def prod():
    for i in range(1000):
        with c: items.append(i); c.notify()
def cons(out):
    got=0
    while got<1000:
        with c:
            while not items: c.wait()
            items.pop(); got+=1
    out.append(got)
out=[]
t1=threading.Thread(target=prod); t2=threading.Thread(target=cons,args=(out,))
t2.start(); t1.start(); t1.join(); t2.join(); assert out==[1000]
# queue
q=queue.Queue(maxsize=10); res=queue.Queue()
def worker():
    while True:
        x=q.get()
        if x is None: break
        res.put(x*x)
ws=[threading.Thread(target=worker) for _ in range(4)]
[w.start() for w in ws]
for i in range(2000): q.put(i)
for _ in ws: q.put(None)
[w.join() for w in ws]
s=0
while not res.empty(): s+=res.get()
assert s==sum(i*i for i in range(2000))
# pool
with ThreadPoolExecutor(8) as ex:
    r=list(ex.map(lambda x: x+1, range(5000)))
assert r==list(range(1,5001))
# sleep in threads
t0=time.time()
def sl(): time.sleep(0.2)
ts=[threading.Thread(target=sl) for _ in range(20)]
[t.start() for t in ts]; [t.join() for t in ts]
dt=time.time()-t0
assert 0.19<dt<1.0, dt
# event, timeout waits
e=threading.Event(); assert not e.wait(0.05)
b=threading.Barrier(5)
def bw(): b.wait()
ts=[threading.Thread(target=bw) for _ in range(5)]
[t.start() for t in ts]; [t.join() for t in ts]
print("threading ok", n, s)
