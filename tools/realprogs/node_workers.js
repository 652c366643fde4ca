// SPDX-License-Identifier: BSD-2-Clause
// node_workers.js -- worker_threads: four V8 isolates, each on its own
// thread, busy enough to be tiered up, sharing a SharedArrayBuffer with
// Atomics (realprogs-servers.sh).  Each isolate finds itself through
// thread-locals of the node executable.
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
if (isMainThread) {
  const sab = new SharedArrayBuffer(16);
  const ia = new Int32Array(sab);
  const N = 4;
  let done = 0, total = 0;
  for (let i = 0; i < N; i++) {
    const w = new Worker(__filename, { workerData: { sab } });
    w.on('message', (m) => {
      total += m;
      if (++done === N) {
        console.log('total', total, 'counter', Atomics.load(ia, 0));
        Atomics.store(ia, 1, 1);
        Atomics.notify(ia, 1);
      }
    });
    w.on('exit', (c) => { if (c !== 0) console.log('worker exit', c); });
  }
} else {
  const ia = new Int32Array(workerData.sab);
  let s = 0;
  for (let k = 0; k < 100000; k++) { Atomics.add(ia, 0, 1); s += k % 7; }
  parentPort.postMessage(s);
  if (Atomics.wait(ia, 1, 0, 10000) === 'timed-out')
    console.log('worker timed out');
}
