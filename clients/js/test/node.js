// Test support: real AkkaVoice nodes as child processes on loopback, and clients that use the ws package.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import WebSocket from 'ws';
import { VoiceClient } from '../akkavoice.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The node's dll: AKKAVOICE_SERVER_DLL, or the Debug build (built once here when missing). */
function serverDll() {
  const dll = process.env.AKKAVOICE_SERVER_DLL ?? path.join(repo, 'src/AkkaVoice.Server/bin/Debug/net10.0/AkkaVoice.Server.dll');
  if (!existsSync(dll)) {
    const build = spawnSync('dotnet', ['build', path.join(repo, 'src/AkkaVoice.Server'), '-c', 'Debug', '--nologo', '-v', 'q'], { stdio: 'inherit' });
    if (build.status !== 0 || !existsSync(dll)) throw new Error(`cannot build the node (${dll})`);
  }
  return dll;
}

const usedPorts = new Set();

/** A free loopback port below the ephemeral range, never handed out twice. */
export async function freePort() {
  for (;;) {
    const port = 12000 + Math.floor(Math.random() * 8000);
    if (usedPorts.has(port)) continue;
    const free = await new Promise(resolve => {
      const server = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      usedPorts.add(port);
      return port;
    }
  }
}

/** Polls `condition` every 50 ms until it is truthy; fails with `what` after `timeout` ms. */
export async function waitFor(condition, what, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Starts a node (joining `seed`'s cluster when given) and waits until /readyz says ready. */
export async function startNode({ seed } = {}) {
  const http = await freePort(), akka = await freePort();
  const args = [serverDll(), '--http-port', String(http), '--akka-port', String(akka)];
  if (seed) args.push('--seeds', seed.akkaAddress);
  const child = spawn('dotnet', args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  const node = {
    http, akka, child, log: '',
    url: `http://127.0.0.1:${http}`,
    akkaAddress: `akka.tcp://akkavoice@127.0.0.1:${akka}`,
    exited: new Promise(resolve => child.once('exit', code => resolve(code))),
    signal(name) { if (child.exitCode === null) child.kill(name); },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
      await node.exited;
    },
  };
  child.stdout.on('data', d => { node.log += d; });
  child.stderr.on('data', d => { node.log += d; });
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}:\n${node.log}`);
      try { return (await fetch(`${node.url}/readyz`)).status === 200; } catch { return false; }
    }, `the node on ${http} to be ready`, 60000);
  } catch (e) {
    await node.stop();
    throw new Error(`${e.message}\n${node.log}`);
  }
  return node;
}

/** A client on `urls` with the ws package as its WebSocket; its every event is also kept in `events`. */
export function makeClient(urls, user, options = {}) {
  const client = new VoiceClient({ urls, user, WebSocket, ...options });
  client.events = [];
  for (const type of ['state', 'welcome', 'joined', 'left', 'member-joined', 'member-left', 'said', 'direct', 'frame', 'error', 'disconnected', 'reconnecting', 'rejoined', 'recovered', 'close', 'seats', 'hand', 'invited', 'muted', 'kicked', 'room-closed', 'role', 'audience', 'done'])
    client.on(type, event => client.events.push({ type, ...event }));
  client.seen = type => client.events.filter(e => e.type === type);
  return client;
}
