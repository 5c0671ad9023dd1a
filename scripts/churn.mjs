// Membership churn for measurements: CONNECTIONS connections spread over the nodes, each joining and
// leaving a room of its own (churn-<i> of ROOMS rooms) in turn, RATE joins and as many leaves a second in
// all, for SECONDS seconds. Every join and leave is a room event (member.joined / member.left,
// room.started / room.finished to webhooks), without voice. Prints joins, leaves and errors at the end.
//
//   node scripts/churn.mjs [--urls http://127.0.0.1:5000,http://127.0.0.1:5001] [--connections 100]
//                          [--rooms 20] [--rate 50] [--seconds 60]
//
// Uses the JavaScript client (clients/js) and its `ws` (`npm ci --prefix clients/js` once).
import { createRequire } from 'node:module';
import { VoiceClient } from '../clients/js/akkavoice.js';

const require = createRequire(new URL('../clients/js/package.json', import.meta.url));
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const urls = (args.urls ?? 'http://127.0.0.1:5000').split(',');
const connections = Number(args.connections ?? 100);
const rooms = Number(args.rooms ?? 20);
const rate = Number(args.rate ?? 50);
const seconds = Number(args.seconds ?? 60);
const sleep = ms => new Promise(r => setTimeout(r, ms));

const clients = [];
for (let i = 0; i < connections; i++) {
  const c = new VoiceClient({ urls: urls[i % urls.length], user: `churn-${i}`, WebSocket, reconnect: false });
  await c.connect();
  clients.push(c);
}

let joins = 0, leaves = 0, errors = 0;
const joined = new Set();
const stopAt = Date.now() + seconds * 1000;
// Each tick, the next connection in turn joins when it is out and leaves when it is in: 2 x rate operations a second.
const tickMs = 1000 / (2 * rate);
let next = 0;
const inFlight = new Set();
while (Date.now() < stopAt) {
  const i = next++ % connections;
  const c = clients[i];
  const room = `churn-${i % rooms}`;
  const op = joined.has(i)
    ? c.leave(room).then(() => { joined.delete(i); leaves++; })
    : c.join(room).then(() => { joined.add(i); joins++; });
  const p = op.catch(() => { errors++; }).finally(() => inFlight.delete(p));
  inFlight.add(p);
  await sleep(tickMs);
}
await Promise.allSettled([...inFlight]);
for (const c of clients) c.close();
console.log(JSON.stringify({ joins, leaves, errors, seconds }));
