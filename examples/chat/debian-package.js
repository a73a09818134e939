'use strict';
// Debian's Node packages (node-ws here) live in /usr/share/nodejs, which Debian's own
// nodejs searches; other builds of Node (nodesource, nvm, Windows node.exe under wine) do
// not, so fall back to that directory by hand. Used by the chat server, its tests and
// bench/rooms-client.js.
function requireDebianPackage(name) {
  try {
    return require(name);
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
    return require(`/usr/share/nodejs/${name}`);
  }
}

module.exports = { requireDebianPackage };
