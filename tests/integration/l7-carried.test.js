'use strict';
// The L7 suite again with the master reading the head instead of peeking at it: the path
// Windows takes (no MSG_PEEK with SO_RCVLOWAT there). The bytes the master read travel in
// `conn.head` and both SDKs replay them first, so the workers still get every byte.
process.env.HANDOFF_CLASSIFY_BY_READING = '1';
require('./l7.test.js');
