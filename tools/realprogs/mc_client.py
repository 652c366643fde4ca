import socket, threading, sys
port=int(sys.argv[1]); N=int(sys.argv[2]) if len(sys.argv)>2 else 8
def rl(f): return f.readline()
def cl(i,out):
    s=socket.create_connection(('127.0.0.1',port)); f=s.makefile('rb')
    ok=True
    for j in range(300):
        v=(b'v%d_%d'%(i,j))*(1+j%40)
        s.sendall(b'set k%d_%d 0 0 %d\r\n%s\r\n'%(i,j,len(v),v))
        if rl(f)!=b'STORED\r\n': ok=False
    for j in range(300):
        v=(b'v%d_%d'%(i,j))*(1+j%40)
        s.sendall(b'get k%d_%d\r\n'%(i,j))
        h=rl(f)
        if not h.startswith(b'VALUE'): ok=False; continue
        d=f.read(int(h.split()[3])+2)
        if d[:-2]!=v: ok=False
        if rl(f)!=b'END\r\n': ok=False
    s.close(); out[i]=ok
out={}
ts=[threading.Thread(target=cl,args=(i,out)) for i in range(N)]
[t.start() for t in ts]; [t.join() for t in ts]
s=socket.create_connection(('127.0.0.1',port)); s.sendall(b'stats\r\n')
st=b''
while not st.endswith(b'END\r\n'): st+=s.recv(65536)
cur=[l for l in st.split(b'\r\n') if b'curr_items' in l or b'threads' in l]
print(all(out.values()) and len(out)==N, cur)
sys.exit(0 if all(out.values()) and len(out)==N else 1)
