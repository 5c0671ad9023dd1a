// Stage rooms (PROTOCOL.md section 8) through the client against real nodes: creating a stage on join,
// hands, invitations, seats, mute, kick with ban, roster paging, close; and the healing client taking its
// seat back after its node is lost. Close code 4001 ends a client for good.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { WebSocketServer } from 'ws';
import { AkkaVoiceError, CLOSE_DISCONNECTED } from '../akkavoice.js';
import { startNode, makeClient, waitFor } from './node.js';

let node;
const clients = [];
const client = (urls, user, options) => {
  const c = makeClient(urls, user, options);
  clients.push(c);
  return c;
};
const rejectsWith = (promise, code) => assert.rejects(promise, e => e instanceof AkkaVoiceError && e.code === code);

before(async () => { node = await startNode(); });
after(async () => {
  for (const c of clients) c.close();
  await node?.stop();
});

/** Connects a host and creates a stage room. */
async function stage(room, options = { seats: 4, seatMode: 'request' }) {
  const host = client(node.url, `${room}-host`);
  await host.connect();
  const joined = await host.join(room, { stage: options });
  return { host, joined };
}

test('a host creates a stage; a listener raises a hand, is invited, takes the seat, is muted and kicked with a ban', async () => {
  const { host, joined } = await stage('js-stage');
  assert.equal(joined.kind, 'stage');
  assert.equal(joined.role, 'host');
  assert.equal(joined.seatMode, 'request');
  assert.equal(joined.seats.length, 4);
  assert.deepEqual(joined.seats.map(s => s.seat), [0, 1, 2, 3]);
  assert.ok(joined.seats.every(s => s.member === undefined || s.member === null));
  assert.equal(joined.audience, 0);
  assert.deepEqual(joined.hands ?? [], []);
  const hostRoom = host.rooms.get('js-stage');
  assert.equal(hostRoom.kind, 'stage');
  assert.equal(hostRoom.role, 'host');

  const lena = client(node.url, 'js-lena');
  await lena.connect();
  const lj = await lena.join('js-stage', { stage: { seats: 2, seatMode: 'free' } }); // ignored: the room exists
  assert.equal(lj.kind, 'stage');
  assert.equal(lj.role, 'listener');
  assert.equal(lj.seats.length, 4);
  assert.equal(lj.hands, undefined, 'only hosts see hands');
  // Hosts and speakers, and the joiner itself; never the rest of the audience.
  assert.deepEqual(lj.members.map(m => [m.user, m.role]).sort(), [['js-lena', 'listener'], ['js-stage-host', 'host']]);
  await waitFor(() => hostRoom.audience === 1, 'the host to count one listener');
  assert.equal(host.seen('member-joined').length, 0, 'a listener causes no member event');

  await rejectsWith(lena.takeSeat('js-stage', 0), 'forbidden');
  await rejectsWith(lena.leaveSeat('js-stage'), 'forbidden');
  await rejectsWith(lena.invite('js-stage', lj.member), 'forbidden');
  await rejectsWith(lena.kick('js-stage', 'js-stage-host'), 'forbidden');
  await rejectsWith(host.takeSeat('js-stage', 9), 'bad-field');

  await lena.raiseHand('js-stage');
  await waitFor(() => hostRoom.hands.get(lj.member) === 'js-lena', 'the host to see the hand');
  assert.equal(host.seen('hand')[0].raised, true);

  assert.equal((await host.invite('js-stage', lj.member, 2)).type, 'done');
  await waitFor(() => lena.seen('invited').length === 1, 'lena to be invited');
  assert.equal(lena.seen('invited')[0].seat, 2);
  const seats = await lena.takeSeat('js-stage');
  assert.equal(seats.type, 'seats');
  const lenaRoom = lena.rooms.get('js-stage');
  assert.equal(lenaRoom.seat, 2);
  assert.equal(lenaRoom.role, 'speaker');
  await waitFor(() => hostRoom.seats[2]?.user === 'js-lena' && !hostRoom.hands.has(lj.member), 'the host to see lena seated, hand down');
  await waitFor(() => host.seen('member-joined').some(m => m.user === 'js-lena' && m.role === 'speaker'), 'lena joins the speakers');
  await waitFor(() => hostRoom.audience === 0, 'the audience to be empty again');

  // A seated speaker is heard; the host mutes her and she is not.
  assert.equal(lena.sendFrame('js-stage', new Uint8Array([1, 2, 3])), true);
  await waitFor(() => host.seen('frame').length >= 1, 'the host to hear lena');
  // Answered by the seat list it changes (she is on a seat), or by done.
  assert.ok(['seats', 'done'].includes((await host.mute('js-stage', lj.member, true)).type));
  await waitFor(() => lena.seen('muted').length === 1 && lenaRoom.muted, 'lena to learn she is muted');
  await waitFor(() => hostRoom.seats[2].muted === true, 'the seat list to show the mute');

  const roster = await host.roster('js-stage', { limit: 1 });
  assert.equal(roster.members.length, 1);
  assert.ok(roster.next !== undefined);
  const everyone = await host.rosterAll('js-stage', { limit: 1 });
  assert.deepEqual(everyone.map(m => [m.user, m.role]).sort(), [['js-lena', 'speaker'], ['js-stage-host', 'host']]);
  await rejectsWith(host.roster('js-stage', { limit: 0 }), 'bad-field');

  assert.ok(['seats', 'done'].includes((await host.kick('js-stage', 'js-lena', { ban: 60, reason: 'enough' })).type));
  await waitFor(() => lena.seen('kicked').length === 1, 'lena to be kicked');
  assert.equal(lena.seen('kicked')[0].reason, 'enough');
  assert.equal(lena.rooms.has('js-stage'), false);
  await waitFor(() => host.seen('member-left').some(m => m.user === 'js-lena' && m.reason === 'kicked'), 'the host to see why she left');
  await rejectsWith(lena.join('js-stage'), 'banned');
  await rejectsWith(host.kick('js-stage', 'js-nobody', { ban: -1 }), 'bad-field');

  const closed = await host.closeRoom('js-stage');
  assert.equal(closed.type, 'room-closed');
  assert.equal(host.rooms.has('js-stage'), false);
});

test('in a free stage a listener takes a seat by itself, the host moves and locks seats, and a seat race has one winner', async () => {
  const { host } = await stage('js-free', { seats: 2, seatMode: 'free' });
  const [mia, ned] = [client(node.url, 'js-mia'), client(node.url, 'js-ned')];
  await Promise.all([mia.connect(), ned.connect()]);
  const m = await mia.join('js-free');
  await ned.join('js-free');
  const race = await Promise.allSettled([mia.takeSeat('js-free', 1), ned.takeSeat('js-free', 1)]);
  assert.equal(race.filter(r => r.status === 'fulfilled').length, 1, 'exactly one takes seat 1');
  assert.equal(race.find(r => r.status === 'rejected').reason.code, 'seat-taken');
  const winner = race[0].status === 'fulfilled' ? mia : ned, loser = winner === mia ? ned : mia;
  assert.equal(winner.rooms.get('js-free').seat, 1);
  await loser.takeSeat('js-free');
  assert.equal(loser.rooms.get('js-free').seat, 0);
  await rejectsWith(host.takeSeat('js-free'), 'no-free-seat');

  await host.setSeat('js-free', 0, { member: null, locked: true });
  await waitFor(() => loser.rooms.get('js-free').seat === null, 'the loser back in the audience');
  await rejectsWith(loser.takeSeat('js-free', 0), 'seat-locked');
  const hv = host.rooms.get('js-free').seatsVersion;
  await waitFor(() => mia.rooms.get('js-free').seatsVersion === hv, 'mia to see the same seat version');
  assert.ok(hv > m.seatsVersion, 'every change counted up');
  // The host moves the winner from seat 1 to seat 0 (locked seats take a host's set-seat).
  await host.setSeat('js-free', 0, { member: winner.rooms.get('js-free').member });
  await waitFor(() => winner.rooms.get('js-free').seat === 0, 'the winner moved to seat 0');
  assert.equal(m.kind, 'stage');
  await mia.leave('js-free');
  await ned.leave('js-free');
});

/** A TCP relay to the node that the test can cut, as a network would: `cut()` resets every connection through it. */
async function relay() {
  const links = new Set();
  let held = false;
  const server = createServer(inbound => {
    // While held, the relay drops every new connection at once: the client keeps retrying.
    if (held) { inbound.destroy(); return; }
    const outbound = connect(node.http, '127.0.0.1');
    links.add(inbound);
    inbound.on('close', () => { links.delete(inbound); outbound.destroy(); });
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    outbound.on('close', () => inbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut: () => { for (const link of links) link.resetAndDestroy(); },
    hold: () => { held = true; },
    release: () => { held = false; },
    close: () => { for (const link of links) link.destroy(); server.close(); },
  };
}

test('a speaker whose connection breaks reconnects and takes its seat back', { timeout: 60000 }, async () => {
  const { host } = await stage('js-heal-stage', { seats: 3, seatMode: 'free' });
  const network = await relay();
  try {
    const olga = client(network.url, 'js-olga', { initialDelay: 100 });
    await olga.connect();
    await olga.join('js-heal-stage');
    await olga.takeSeat('js-heal-stage', 2);
    const before = olga.rooms.get('js-heal-stage').member;
    await waitFor(() => host.rooms.get('js-heal-stage').seats[2]?.member === before, 'the host to see olga seated');

    network.cut();
    await waitFor(() => olga.seen('recovered').length === 1, 'olga to reconnect and rejoin', 30000);
    const rejoined = olga.seen('rejoined')[0];
    assert.equal(rejoined.seat, 2);
    assert.equal(rejoined.seatBack, 'taken-back');
    assert.equal(rejoined.role, 'listener');
    assert.equal(olga.rooms.get('js-heal-stage').seat, 2);
    const after = olga.rooms.get('js-heal-stage').member;
    await waitFor(() => host.rooms.get('js-heal-stage').seats[2]?.member === after, 'the host to see her membership on seat 2');
    assert.equal(olga.sendFrame('js-heal-stage', new Uint8Array([7, 7])), true);
    await waitFor(() => host.seen('frame').some(f => f.member === after), 'the host to hear her again');
  } finally {
    network.close();
  }
});

test('a speaker whose seat was taken while it was away stays in the audience', { timeout: 60000 }, async () => {
  const { host } = await stage('js-lost-seat', { seats: 1, seatMode: 'free' });
  const network = await relay();
  try {
    // The relay drops her reconnects until the host has taken the seat she left.
    const rita = client(network.url, 'js-rita', { initialDelay: 100, maxDelay: 200, jitter: 0 });
    await rita.connect();
    await rita.join('js-lost-seat');
    await rita.takeSeat('js-lost-seat', 0);
    await waitFor(() => host.rooms.get('js-lost-seat').seats[0]?.user === 'js-rita', 'rita seated');
    network.hold();
    network.cut();
    await waitFor(() => host.rooms.get('js-lost-seat').seats[0]?.member === undefined, 'the seat freed when her connection closed');
    await host.takeSeat('js-lost-seat', 0);
    network.release();
    await waitFor(() => rita.seen('recovered').length === 1, 'rita to reconnect and rejoin', 30000);
    assert.equal(rita.seen('rejoined')[0].seatBack, 'lost');
    assert.equal(rita.rooms.get('js-lost-seat').seat, null);
    assert.equal(host.rooms.get('js-lost-seat').seats[0].user, 'js-lost-seat-host');
  } finally {
    network.close();
  }
});

test('a speaker whose node stops rejoins on another node and takes its seat back', { timeout: 120000 }, async () => {
  const other = await startNode({ seed: node });
  try {
    await waitFor(async () => (await (await fetch(`${node.url}/admin/cluster`)).json()).members.filter(x => x.status === 'Up').length === 2, 'two nodes up', 60000);
    const { host } = await stage('js-move-stage', { seats: 3, seatMode: 'free' });
    const sara = client([other.url, node.url], 'js-sara', { initialDelay: 100 });
    await sara.connect();
    await sara.join('js-move-stage');
    await sara.takeSeat('js-move-stage', 1);
    await waitFor(() => host.rooms.get('js-move-stage').seats[1]?.user === 'js-sara', 'the host to see sara seated');

    other.signal('SIGTERM');
    await waitFor(() => sara.seen('recovered').length === 1, 'sara to rejoin on the other node', 60000);
    assert.equal(sara.node, node.akkaAddress);
    assert.equal(sara.seen('rejoined')[0].seatBack, 'taken-back');
    const room = sara.rooms.get('js-move-stage');
    assert.deepEqual([room.kind, room.seat, room.role], ['stage', 1, 'speaker']);
    await waitFor(() => host.rooms.get('js-move-stage').seats[1]?.member === room.member, 'the host to see her new membership on seat 1');
    assert.equal(await other.exited, 0);
  } finally {
    await other.stop();
  }
});

test('a connection closed with 4001 is not reconnected: the client closes with the reason', async () => {
  // A stand-in node that welcomes and then disconnects the way the server API's disconnect does.
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise(r => server.once('listening', r));
  let connections = 0;
  server.on('connection', ws => {
    connections++;
    ws.send(JSON.stringify({ type: 'welcome', user: 'js-pat', session: 's', node: 'akka.tcp://akkavoice@127.0.0.1:1' }));
    setTimeout(() => ws.close(CLOSE_DISCONNECTED, 'account suspended'), 50);
  });
  try {
    const pat = client(`http://127.0.0.1:${server.address().port}`, 'js-pat', { initialDelay: 10, jitter: 0 });
    await pat.connect();
    await waitFor(() => pat.state === 'closed', 'pat to close');
    assert.deepEqual(pat.seen('close').map(c => [c.code, c.reason]), [[4001, 'account suspended']]);
    assert.equal(pat.closeCode, 4001);
    assert.equal(pat.closeReason, 'account suspended');
    assert.equal(pat.seen('reconnecting').length, 0);
    await new Promise(r => setTimeout(r, 300));
    assert.equal(connections, 1, 'no second connection');
  } finally {
    server.close();
  }
});
