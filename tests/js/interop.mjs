// The official Socket.IO JavaScript client against a python-socketio server.
// Usage: node tests/js/interop.mjs <server url> <transport: websocket | polling>
import { io } from "socket.io-client";

const [url, transport] = process.argv.slice(2);
const socket = io(url, { transports: [transport], reconnection: false, timeout: 3000 });
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), 5000);

socket.on("connect_error", (error) => fail(`connect_error: ${error.message}`));
socket.on("connect", async () => {
  const echoed = await socket.timeout(3000).emitWithAck("echo", { from: "node", n: 1 });
  console.log(`ack ${JSON.stringify(echoed)} over ${socket.io.engine.transport.name}`);
  socket.once("chat", (message) => {
    console.log(`chat ${JSON.stringify(message)}`);
    socket.disconnect();
    process.exit(0);
  });
  socket.emit("chat", "hello from Node");
});
