import subprocess, signal, time, os, threading, sys
from concurrent.futures import ProcessPoolExecutor
r=subprocess.run(['sh','-c','cat; echo err >&2; exit 3'], input=b'hello'*10000, capture_output=True)
assert r.returncode==3 and r.stdout==b'hello'*10000 and r.stderr==b'err\n', r
# subprocess from threads
def runit(i,out):
    out[i]=subprocess.run(['echo',str(i)],capture_output=True,text=True).stdout.strip()
out={}
ts=[threading.Thread(target=runit,args=(i,out)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
assert out=={i:str(i) for i in range(8)}, out
# Popen communicate with timeout
p=subprocess.Popen(['sleep','5'])
try:
    p.wait(timeout=0.2); assert False
except subprocess.TimeoutExpired: pass
p.terminate(); assert p.wait()==-signal.SIGTERM
# alarm
hit=[]
def h(s,f): hit.append(s)
signal.signal(signal.SIGALRM,h)
signal.alarm(1)
t0=time.time()
time.sleep(3)  # Python resumes sleep after handler (PEP 475)
assert hit==[signal.SIGALRM], hit
signal.setitimer(signal.ITIMER_REAL, 0.1)
signal.pause() if False else time.sleep(0.5)
assert len(hit)==2, hit
# alarm interrupting a blocking read in main thread
class TO(Exception): pass
def h2(s,f): raise TO()
signal.signal(signal.SIGALRM,h2)
rfd,wfd=os.pipe()
signal.setitimer(signal.ITIMER_REAL,0.2)
try:
    os.read(rfd,1); assert False
except TO: pass
# process pool
def sq(x): return x*x
if __name__=='__main__':
    with ProcessPoolExecutor(4) as ex:
        assert list(ex.map(sq, range(200)))==[x*x for x in range(200)]
    import multiprocessing as mp
    with mp.get_context('fork').Pool(3) as pool:
        assert pool.map(sq, range(100))==[x*x for x in range(100)]
    print("proc ok")
