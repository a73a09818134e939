'use strict';
// A Koa app served by the SDK: `node koa-app.js [app|callback]` passes the app itself
// (serve(app)) or its request listener (serve(app.callback())).
//   GET  /json    -> {framework, version, slot}
//   POST /echo    -> {received: <the JSON body>} (Koa has no body parser of its own)
//   GET  /stream  -> common.lines(), streamed (chunked)

const { Readable } = require('node:stream');
const Koa = require('koa');
const { version } = require('koa/package.json');
const { whoami, lines, serve, sdk } = require('./common');

const app = new Koa();
app.use(async (ctx, next) => {
  ctx.set('X-Handoff-Worker', whoami());
  await next();
});
app.use(async (ctx) => {
  if (ctx.method === 'GET' && ctx.path === '/json') {
    ctx.body = { framework: 'koa', version, slot: sdk.worker.slot };
  } else if (ctx.method === 'POST' && ctx.path === '/echo') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    ctx.body = { received: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } else if (ctx.method === 'GET' && ctx.path === '/stream') {
    ctx.type = 'text/plain';
    ctx.body = Readable.from(lines());
  }
});

serve(process.argv[2] === 'callback' ? app.callback() : app);
