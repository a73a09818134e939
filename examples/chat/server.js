'use strict';
// chat: chat rooms held in one worker's memory. The supervisor's affinity plugin
// (plugin/chat_affinity.c) sends every connection for a room to the same slot, so the
// members of a room always meet in one process: no shared store, no pub/sub.
//   WebSocket /chat/<room>      join the room; each text frame sent is broadcast to every
//                               member as {type:"message", room, text, slot, pid}; on
//                               joining: {type:"welcome", room, members, slot, pid}
//   GET /chat/<room>/info       200 {room, members, slot, pid, client}
//   /<slot>/<room>...           the same, for configs that route by slot number in the
//                               URL (policy: {url_segment: {index: 1, direct: true}})
// Anything else is 404. Every HTTP answer (and the 101) names the worker in
// X-Handoff-Worker: <app>/<slot>/<pid>. Run alone, `PORT=8090 node server.js` listens itself.

const http = require('node:http');
const { serve, worker } = require('../../worker-sdk/node');
const { requireDebianPackage } = require('./debian-package');
const { WebSocketServer } = requireDebianPackage('ws');

const MAX_MESSAGE = 64 * 1024;
const rooms = new Map(); // room name -> Set of WebSockets

const whoami = () => `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`;

// "/chat/<room>[/<rest>]" (the plugin's scheme) or "/<slot>/<room>[/<rest>]" (the
// {process_id}/{room} scheme of the url_segment rule with direct slot numbers)
// -> { room, rest }; anything else -> null. The room is the path segment as sent.
function parse(url) {
  const path = url.split('?', 1)[0];
  const match = /^\/(?:chat|[1-9][0-9]*)\/([^/]+)(?:\/(.*))?$/.exec(path);
  return match && { room: match[1], rest: match[2] ?? '' };
}

const server = http.createServer((req, res) => {
  const target = parse(req.url);
  if (req.method === 'GET' && target?.rest === 'info') {
    const { room } = target;
    // client: the address the worker sees (a PROXY protocol source, behind a load balancer).
    const client = req.socket.remoteAddress;
    return reply(res, 200, { room, members: rooms.get(room)?.size ?? 0, slot: worker.slot, pid: process.pid, client });
  }
  reply(res, 404, { error: 'not found' });
});

function reply(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(json),
    'X-Handoff-Worker': whoami(),
  });
  res.end(json);
}

const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
wss.on('headers', (headers) => headers.push(`X-Handoff-Worker: ${whoami()}`));

server.on('upgrade', (req, socket, head) => {
  const target = parse(req.url);
  if (!target || target.rest !== '') {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => join(ws, target.room));
});

function join(ws, room) {
  if (!rooms.has(room)) rooms.set(room, new Set());
  const members = rooms.get(room);
  members.add(ws);
  ws.send(JSON.stringify({ type: 'welcome', room, members: members.size, slot: worker.slot, pid: process.pid }));
  ws.on('message', (data, isBinary) => {
    if (isBinary) return ws.close(1003, 'text frames only');
    const message = JSON.stringify({ type: 'message', room, text: data.toString(), slot: worker.slot, pid: process.pid });
    for (const member of members) member.send(message);
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  });
}

const handoff = serve(server);
// The SDK drains HTTP by itself but cannot end upgraded connections: say goodbye (1001,
// "going away"), so clients reconnect, and the affinity rule sends them to this room's
// slot again, to this worker's successor.
handoff.on('drain', () => {
  for (const ws of wss.clients) ws.close(1001, 'worker restarting');
});
if (!handoff.supervised) {
  server.on('listening', () => console.log(`chat listening on port ${server.address().port}`));
}

