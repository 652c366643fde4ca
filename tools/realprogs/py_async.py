import asyncio, sys
async def handle(r,w):
    while True:
        d=await r.read(65536)
        if not d: break
        w.write(d); await w.drain()
    w.close()
async def client(port,i):
    r,w=await asyncio.open_connection('127.0.0.1',port)
    msg=(b'%d.'%i)*20000
    w.write(msg); await w.drain(); w.write_eof()
    got=b''
    while True:
        d=await r.read(65536)
        if not d: break
        got+=d
    w.close()
    return got==msg
async def main():
    srv=await asyncio.start_server(handle,'127.0.0.1',0)
    port=srv.sockets[0].getsockname()[1]
    res=await asyncio.gather(*[client(port,i) for i in range(20)])
    assert all(res)
    # run_in_executor + subprocess
    loop=asyncio.get_running_loop()
    x=await loop.run_in_executor(None, sum, range(1000))
    p=await asyncio.create_subprocess_exec('sh','-c','echo hi; sleep 0.1',stdout=asyncio.subprocess.PIPE)
    out,_=await p.communicate(); assert out==b'hi\n' and p.returncode==0
    await asyncio.wait_for(asyncio.sleep(0.1), 1)
    srv.close(); await srv.wait_closed()
    print("async ok", x)
asyncio.run(main())
