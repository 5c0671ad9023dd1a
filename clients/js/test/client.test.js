// The client against one real node: connect, rooms, frames, chat, direct, ping, errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { VoiceClient, AkkaVoiceError, socketUrl, backoffDelay, encodeFrame, decodeFrame } from '../akkavoice.js';
import { startNode, makeClient, waitFor, freePort } from './node.js';

let node;
const clients = [];
const client = (urls, user, options) => { const c = makeClient(urls, user, options); clients.push(c); return c; };

before(async () => { node = await startNode(); });
after(async () => {
  for (const c of clients) c.close();
  await node?.stop();
});

test('node URLs become WebSocket URLs with the identity in the query', () => {
  assert.equal(socketUrl('http://127.0.0.1:5000', { user: 'alice' }), 'ws://127.0.0.1:5000/ws?user=alice');
  assert.equal(socketUrl('https://voice.example/', { token: 'a.b.c', user: 'x' }), 'wss://voice.example/ws?access_token=a.b.c');
  assert.equal(socketUrl('ws://10.0.0.1:5001/ws'), 'ws://10.0.0.1:5001/ws');
  assert.throws(() => socketUrl('ftp://x'), /not a node URL/);
  assert.throws(() => new VoiceClient({ urls: [] }), /needs urls/);
  if (typeof globalThis.WebSocket !== 'function')
    assert.throws(() => new VoiceClient({ urls: 'http://127.0.0.1:1' }), /no WebSocket/);
});

test('the first retry goes at once, then backoff doubles up to the cap and jitter only shortens it', () => {
  const options = { initialDelay: 100, maxDelay: 1000, jitter: 0.5 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 11].map(a => backoffDelay(a, options, () => 0)), [0, 100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([0, 1, 2, 3, 4].map(a => backoffDelay(a, options, () => 1)), [0, 50, 100, 200, 400]);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(3, options);
    assert.ok(d >= 200 && d <= 400, `delay ${d}`);
  }
});

test('frames encode as [slot][payload] and decode from [slot][member u32 BE][payload]', () => {
  assert.deepEqual([...encodeFrame(7, new Uint8Array([1, 2, 3]))], [7, 1, 2, 3]);
  const frame = decodeFrame(new Uint8Array([3, 0xfe, 0xdc, 0xba, 0x98, 9, 8]).buffer);
  assert.equal(frame.slot, 3);
  assert.equal(frame.member, 0xfedcba98);
  assert.deepEqual([...frame.payload], [9, 8]);
  assert.equal(decodeFrame(new Uint8Array([1, 0, 0, 0, 1])), null);
});

test('two clients share a room: members, voice frames both ways, chat with seq, leave', async () => {
  const alice = client(node.url, 'js-alice'), bob = client(node.url, 'js-bob');
  const welcome = await alice.connect();
  assert.equal(welcome.user, 'js-alice');
  assert.equal(alice.node, `akka.tcp://akkavoice@127.0.0.1:${node.akka}`);
  assert.equal(alice.state, 'open');
  await bob.connect();

  const a = await alice.join('js-room');
  const b = await bob.join('js-room');
  assert.deepEqual(b.members.map(m => m.user).sort(), ['js-alice', 'js-bob']);
  await waitFor(() => alice.seen('member-joined').some(e => e.user === 'js-bob'), 'alice to see bob join');
  assert.deepEqual([...alice.rooms.get('js-room').members.values()].sort(), ['js-alice', 'js-bob']);

  const packets = Array.from({ length: 20 }, (_, i) => new Uint8Array([i, 0xf8, 0xff, 0xfe, 200 - i]));
  for (const p of packets) assert.equal(alice.sendFrame('js-room', p), true);
  assert.equal(bob.sendFrame('js-room', new Uint8Array([42, 43])), true);
  await waitFor(() => bob.seen('frame').length === 20, 'bob to receive 20 frames');
  const frames = bob.seen('frame');
  frames.forEach((f, i) => {
    assert.ok(f.payload instanceof Uint8Array);
    assert.deepEqual([...f.payload], [...packets[i]]);
    assert.equal(f.member, a.member);
    assert.equal(f.user, 'js-alice');
    assert.equal(f.room, 'js-room');
  });
  await waitFor(() => alice.seen('frame').length === 1, 'alice to receive bob\'s frame');
  assert.deepEqual([...alice.seen('frame')[0].payload], [42, 43]);
  assert.equal(alice.seen('frame')[0].member, b.member);

  const said = await alice.say('js-room', 'hello bob');
  assert.equal(said.text, 'hello bob');
  await bob.say('js-room', 'hello alice');
  await waitFor(() => alice.seen('said').length === 2 && bob.seen('said').length === 2, 'both lines on both sides');
  assert.deepEqual(bob.seen('said').map(s => [s.user, s.text, s.seq]), [['js-alice', 'hello bob', said.seq], ['js-bob', 'hello alice', said.seq + 1]]);
  assert.equal(alice.rooms.get('js-room').seq, said.seq + 1);

  const left = await alice.leave('js-room');
  assert.equal(left.type, 'left');
  assert.equal(alice.rooms.has('js-room'), false);
  assert.equal(alice.sendFrame('js-room', new Uint8Array([1])), false);
  await waitFor(() => bob.seen('member-left').some(e => e.user === 'js-alice'), 'bob to see alice leave');
  assert.deepEqual([...bob.rooms.get('js-room').members.values()], ['js-bob']);
});

test('direct reaches the user, ping answers, and errors reject with their code', async () => {
  const carol = client(node.url, 'js-carol'), dave = client([node.url], 'js-dave');
  await carol.connect();
  await dave.connect();
  assert.equal((await carol.direct('js-dave', 'psst')).to, 'js-dave');
  await waitFor(() => dave.seen('direct').length === 1, 'dave to get the direct message');
  assert.deepEqual({ from: dave.seen('direct')[0].from, text: dave.seen('direct')[0].text }, { from: 'js-carol', text: 'psst' });
  assert.equal((await carol.ping()).type, 'pong');

  await assert.rejects(carol.direct('js-nobody', 'hi'), e => e instanceof AkkaVoiceError && e.code === 'user-offline');
  await assert.rejects(carol.join('bad room!'), e => e instanceof AkkaVoiceError && e.code === 'bad-field');
  await assert.rejects(carol.say('never-joined', 'x'), e => e instanceof AkkaVoiceError && e.code === 'not-joined');
  assert.equal(carol.seen('error').length, 0, 'answered errors are not also emitted');
  assert.equal(carol.state, 'open');
});

test('connect moves past a node that is down to the next URL', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const erin = client([dead, node.url], 'js-erin', { initialDelay: 50 });
  const welcome = await erin.connect();
  assert.equal(welcome.user, 'js-erin');
  assert.equal(erin.url, node.url);
  const tries = erin.seen('reconnecting');
  assert.equal(tries.length, 1);
  assert.equal(tries[0].url, node.url);
  assert.ok(tries[0].delay <= 50);
});

test('a client without reconnect rejects connect when its node is down, and close is final', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const frank = client(dead, 'js-frank', { reconnect: false });
  await assert.rejects(frank.connect(), /cannot connect/);
  assert.equal(frank.state, 'closed');
  const gina = client(node.url, 'js-gina');
  await gina.connect();
  gina.close();
  assert.equal(gina.state, 'closed');
  await assert.rejects(gina.ping(), /not connected/);
  await assert.rejects(gina.connect(), /closed/);
});
