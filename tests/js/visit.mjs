// The official Socket.IO JavaScript client visits a python-socketio server the default way
// (long-polling first, then the upgrade to WebSocket), sends an event with an ack, and leaves.
// Usage: node tests/js/visit.mjs <server url>
import { io } from "socket.io-client";

const [url] = process.argv.slice(2);
const socket = io(url, { reconnection: false, timeout: 3000 });
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), 5000);

const transports = [];
socket.io.on("open", () => {
  const engine = socket.io.engine;
  transports.push(engine.transport.name);
  engine.on("upgrade", (transport) => transports.push(transport.name));
});
socket.on("connect_error", (error) => fail(`connect_error: ${error.message}`));
socket.on("connect", async () => {
  while (transports.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  const echoed = await socket.timeout(3000).emitWithAck("echo", "hello");
  console.log(`${transports.join(" then ")}: ack ${JSON.stringify(echoed)}`);
  socket.disconnect();
  setTimeout(() => process.exit(0), 200);  // time for the close to reach the server
});
