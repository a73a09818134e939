'use strict';
// A WebSocket member of an examples/chat room, for the tests that drive the chat through
// the supervisor (chat.test.js) and through a load balancer in front of several
// (tests/multihost): resolves once the server's welcome has arrived, with the worker named
// in the 101's X-Handoff-Worker header (`upgradedBy`); next() waits for the next message.
const h = require('./helpers');
const { requireDebianPackage } = require('../../examples/chat/debian-package');
const { WebSocket } = requireDebianPackage('ws');

function joinRoom(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const inbox = [];
    const waiters = [];
    const member = {
      ws,
      upgradedBy: null,
      closed: new Promise((r) => ws.on('close', (code) => r(code))),
      next() {
        if (inbox.length) return Promise.resolve(inbox.shift());
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`no message on ${url}`)), h.TIMEOUT);
          waiters.push((m) => {
            clearTimeout(timer);
            res(m);
          });
        });
      },
      async close() {
        ws.close();
        await member.closed;
      },
    };
    ws.on('upgrade', (res) => (member.upgradedBy = h.workerOf(res)));
    ws.on('unexpected-response', (req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (waiters.length) waiters.shift()(message);
      else inbox.push(message);
    });
    member.next().then((welcome) => {
      member.welcome = welcome;
      resolve(member);
    }, reject);
  });
}

module.exports = { joinRoom, WebSocket };
