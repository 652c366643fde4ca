const net=require('net'), fs=require('fs'), crypto=require('crypto'), zlib=require('zlib'), cp=require('child_process');
let pending=0; function done(){ if(--pending===0){ console.log('node ok'); srv.close(); } }
const srv=net.createServer(s=>s.pipe(s)).listen(0,'127.0.0.1',()=>{
  const port=srv.address().port;
  for(let i=0;i<10;i++){ pending++; const c=net.connect(port,'127.0.0.1'); const msg=Buffer.alloc(100000,i); let got=[];
    c.on('data',d=>{got.push(d); if(Buffer.concat(got).length===msg.length){ if(!Buffer.concat(got).equals(msg)) throw 'bad'; c.end(); done(); }}); c.write(msg); }
  // thread pool: crypto, zlib, fs
  for(let i=0;i<8;i++){ pending++; crypto.pbkdf2('pw','salt',20000,32,'sha256',(e,k)=>{ if(e) throw e; done(); }); }
  pending++; zlib.gzip(Buffer.alloc(1e6,7),(e,z)=>zlib.gunzip(z,(e2,u)=>{ if(u.length!==1e6) throw 'z'; done(); }));
  pending++; fs.readFile('/etc/passwd',(e,d)=>{ if(e) throw e; done(); });
  pending++; cp.execFile('sh',['-c','echo hi'],(e,out)=>{ if(out!=='hi\n') throw 'cp'; done(); });
  pending++; setTimeout(done,100);
});
