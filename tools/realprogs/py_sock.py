import socket, threading, selectors, select, os, fcntl, sys
srv=socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1)
srv.bind(('127.0.0.1',0)); srv.listen(64); port=srv.getsockname()[1]
def handle(c):
    with c:
        while True:
            d=c.recv(65536)
            if not d: break
            c.sendall(d)
def acceptor():
    for _ in range(16):
        c,_=srv.accept()
        threading.Thread(target=handle,args=(c,)).start()
at=threading.Thread(target=acceptor); at.start()
def client(i, out):
    s=socket.create_connection(('127.0.0.1',port))
    msg=(b'%d-'%i)*50000
    def w(): s.sendall(msg); s.shutdown(socket.SHUT_WR)
    wt=threading.Thread(target=w); wt.start()
    got=b''
    while True:
        d=s.recv(65536)
        if not d: break
        got+=d
    wt.join(); s.close()
    out[i]= (got==msg)
out={}
cs=[threading.Thread(target=client,args=(i,out)) for i in range(16)]
[c.start() for c in cs]; [c.join() for c in cs]; at.join()
assert all(out.values()) and len(out)==16, out
# selectors
sel=selectors.DefaultSelector()
a,b=socket.socketpair()
sel.register(a, selectors.EVENT_READ)
def later():
    import time; time.sleep(0.1); b.send(b'x')
threading.Thread(target=later).start()
ev=sel.select(timeout=5); assert ev and ev[0][0].fileobj is a
assert a.recv(1)==b'x'
r,w,x=select.select([a],[],[],0.05); assert r==[]
p=select.poll(); p.register(a, select.POLLIN); assert p.poll(50)==[]
# timeout socket
a.settimeout(0.1)
try:
    a.recv(1); assert False
except socket.timeout: pass
print("flags stdin", fcntl.fcntl(0,fcntl.F_GETFL)&os.O_NONBLOCK, "stdout", fcntl.fcntl(1,fcntl.F_GETFL)&os.O_NONBLOCK)
print("sock ok")
