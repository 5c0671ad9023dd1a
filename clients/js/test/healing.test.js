// Healing against real nodes: a silent node is left for the next one, and a node's graceful stop
// (SIGTERM) is followed by a reconnect to another node of the cluster, rejoining with the chat missed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, makeClient, waitFor } from './node.js';

/** A room whose home (its RoomActor) is on `home`: asked of the admin API with a member in it. */
async function roomHomedOn(home, prefix) {
  const probe = makeClient(home.url, `${prefix}-probe`);
  await probe.connect();
  try {
    for (let i = 0; ; i++) {
      const room = `${prefix}-${i}`;
      await probe.join(room);
      const info = await (await fetch(`${home.url}/admin/rooms/${room}`)).json();
      await probe.leave(room);
      if (info.home === home.akkaAddress) return room;
      if (i > 50) throw new Error(`no room of 50 is homed on ${home.akkaAddress}`);
    }
  } finally {
    probe.close();
  }
}

test('a node that goes silent (SIGSTOP) is left: the client moves to the next node and rejoins', { timeout: 120000 }, async () => {
  const a = await startNode(), b = await startNode(); // two separate single-node clusters
  const clients = [];
  try {
    const hank = makeClient([a.url, b.url], 'js-hank', { pingInterval: 300, silentTimeout: 1000, initialDelay: 100 });
    const iris = makeClient(b.url, 'js-iris');
    clients.push(hank, iris);
    await hank.connect();
    await iris.connect();
    await hank.join('js-silent');
    await iris.join('js-silent');

    a.signal('SIGSTOP');
    const gone = Date.now();
    await waitFor(() => hank.seen('recovered').length === 1, 'hank to recover on the second node', 20000);
    const noticed = hank.seen('disconnected')[0];
    assert.equal(noticed.reason, 'silent');
    assert.equal(noticed.url, a.url);
    assert.equal(hank.url, b.url);
    assert.equal(hank.node, b.akkaAddress);
    assert.ok(hank.seen('reconnecting').length >= 1);
    const states = hank.seen('state').map(s => s.state);
    assert.deepEqual(states.slice(states.indexOf('reconnecting')), ['reconnecting', 'open']);
    const rejoined = hank.seen('rejoined');
    assert.equal(rejoined.length, 1);
    assert.equal(rejoined[0].room, 'js-silent');
    console.log(`silent node left after ${Date.now() - gone} ms`);

    await waitFor(() => iris.rooms.get('js-silent').members.size === 2, 'iris to see hank join');
    assert.equal(hank.sendFrame('js-silent', new Uint8Array([5, 6, 7])), true);
    await waitFor(() => iris.seen('frame').length === 1, 'iris to hear hank');
    assert.deepEqual([...iris.seen('frame')[0].payload], [5, 6, 7]);
  } finally {
    clients.forEach(c => c.close());
    await a.stop();
    await b.stop();
  }
});

test('after its node stops (SIGTERM) a client rejoins on another node with the chat it missed', { timeout: 180000 }, async () => {
  const a = await startNode();
  const b = await startNode({ seed: a });
  const clients = [];
  try {
    await waitFor(async () => (await (await fetch(`${a.url}/admin/cluster`)).json()).members.filter(m => m.status === 'Up').length === 2, 'two nodes up', 60000);
    const room = await roomHomedOn(b, 'js-heal');
    // A fixed first wait (no jitter) leaves time for a line said while the client is away.
    const jack = makeClient([a.url, b.url], 'js-jack', { initialDelay: 1500, jitter: 0 });
    const kate = makeClient(b.url, 'js-kate');
    clients.push(jack, kate);
    await jack.connect();
    await kate.connect();
    await jack.join(room);
    await kate.join(room);
    await kate.say(room, 'before');
    await waitFor(() => jack.seen('said').length === 1, 'jack to read the first line');

    let away;
    jack.on('disconnected', () => { away = kate.say(room, 'while you were away'); });
    a.signal('SIGTERM');
    await waitFor(() => jack.seen('recovered').length === 1, 'jack to recover on the other node', 60000);
    await away;
    assert.equal(await a.exited, 0);
    assert.equal(jack.node, b.akkaAddress);
    const rejoined = jack.seen('rejoined')[0];
    assert.equal(rejoined.room, room);
    assert.equal(rejoined.recovered, true);
    assert.equal(rejoined.missed, 1);
    await waitFor(() => jack.seen('said').length === 2, 'the missed line replayed');
    assert.deepEqual(jack.seen('said').map(s => s.text), ['before', 'while you were away']);

    await kate.say(room, 'welcome back');
    await waitFor(() => jack.seen('said').length === 3, 'the next line live');
    assert.deepEqual(jack.seen('said').map(s => s.seq), [1, 2, 3]);
    assert.equal(jack.sendFrame(room, new Uint8Array([9, 9])), true);
    await waitFor(() => kate.seen('frame').length === 1, 'kate to hear jack again');
  } finally {
    clients.forEach(c => c.close());
    await a.stop();
    await b.stop();
  }
});
