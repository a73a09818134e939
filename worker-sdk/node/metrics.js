'use strict';
// The app's own metrics on the supervisor's /metrics: serve(app, { metrics: register })
// with a prom-client Registry (prom-client is an optional peer dependency: the SDK never
// loads it, it only calls the registry it is given). The worker's `hello` says it offers
// metrics; on each scrape the master sends `metrics` {id}, and this answers `metrics_text`
// {id, text} with `await register.metrics()`. The master adds `app` and `slot` labels
// (metricsSum: true asks it to add the slots up instead). A registry that throws, or
// answers after the master's 1 s, leaves the worker reported as
// handoff_app_metrics_up 0 for that scrape.

const PROTOCOL_VERSION = 1;

// What options.metrics must be: anything with a metrics() method returning the text (or
// a promise of it), as prom-client's Registry and its default `register` are.
function metricsSource(options) {
  const registry = options.metrics;
  if (registry === undefined || registry === null) return null;
  if (typeof registry.metrics !== 'function') {
    throw new TypeError('serve(): options.metrics must be a prom-client Registry (an object with a metrics() method)');
  }
  return { registry, sum: options.metricsSum === true };
}

// Answers one `metrics` message through `send` (the channel's).
function answerMetrics(source, message, send) {
  if (!Number.isInteger(message.id)) return;
  Promise.resolve()
    .then(() => source.registry.metrics())
    .then(
      (text) => {
        const answer = { handoff: 'metrics_text', v: PROTOCOL_VERSION, id: message.id, text: String(text) };
        if (source.sum) answer.sum = true;
        send(answer);
      },
      (error) => process.stderr.write(`handoff-worker: the metrics registry failed: ${error && error.message}\n`),
    );
}

module.exports = { metricsSource, answerMetrics };
