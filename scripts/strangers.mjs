// Measures a node's memory under directs to users that never existed: ROUNDS rounds of DIRECTS directs
// each, spread over CONNECTIONS connections paced under the text rate limit (20/s each), every answer
// awaited (user-offline); the node's RSS (from /proc) before and after each round.
//
//   node scripts/strangers.mjs [--url http://127.0.0.1:5000] [--pid-file run/node-0.pid] [--rounds 10]
//                              [--directs 20000] [--connections 200]
//
// Start the node first (scripts/cluster.sh start 1). Uses the JavaScript client (clients/js) and its `ws`
// (`npm ci --prefix clients/js` once).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { VoiceClient } from '../clients/js/akkavoice.js';

const require = createRequire(new URL('../clients/js/package.json', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const url = args.url ?? 'http://127.0.0.1:5000';
const pid = Number(readFileSync(args['pid-file'] ?? 'run/node-0.pid', 'utf8').trim());
const rounds = Number(args.rounds ?? 10);
const directs = Number(args.directs ?? 20000);
const connections = Number(args.connections ?? 200);
const perConnection = Math.ceil(directs / connections);

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const sleep = ms => new Promise(r => setTimeout(r, ms));

const clients = [];
for (let i = 0; i < connections; i++) {
  const c = new VoiceClient({ urls: url, user: `sender-${i}`, WebSocket, reconnect: false });
  await c.connect();
  clients.push(c);
}
console.log(`${connections} connections open; RSS ${rssMb().toFixed(1)} MB`);

let stranger = 0;
for (let round = 1; round <= rounds; round++) {
  const before = rssMb();
  const started = Date.now();
  let offline = 0, other = 0;
  await Promise.all(clients.map(async c => {
    for (let k = 0; k < perConnection; k++) {
      try {
        await c.direct(`stranger-${round}-${stranger++}`, 'hello?');
        other++;
      } catch (e) {
        if (e.code === 'user-offline') offline++; else other++;
      }
      await sleep(55); // under 20 text messages a second per connection
    }
  }));
  console.log(`round ${round}: ${offline} user-offline, ${other} other answers in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `RSS ${before.toFixed(1)} -> ${rssMb().toFixed(1)} MB`);
}
for (const c of clients) c.close();
