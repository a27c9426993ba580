// A chat pane on the official Socket.IO client (socket.io-client, from the lesson's server).
async function loadClient(model) {
  const base = serverAddress(model.get("library_port"), model.get("library_url"), "http");
  const file = new URL("socket.io.esm.min.js", base.endsWith("/") ? base : `${base}/`).href;
  try {
    return (await import(file)).io;
  } catch (error) {
    throw new Error(`could not load socket.io-client from ${file} (${error.message})`);
  }
}

function connect(io, model) {
  const direct = model.get("direct_url");
  const proxied = serverAddress(model.get("port"), direct, "http");
  const url = new URL(proxied);
  // Socket.IO's path is the server's /socket.io/, under the proxy's prefix when there is one.
  return io(url.origin, {
    path: `${url.pathname.replace(/\/$/, "")}/socket.io/`,
    auth: { name: model.get("name") },
    reconnectionAttempts: 3,
  });
}

function render({ model, el }) {
  const pane = drawPane(el, model, model.get("name"), "say something, then Enter");
  let socket = null;

  const problem = model.get("problem");
  if (problem) {
    pane.setStatus("no socket.io-client");
    pane.show("note", problem);
    return;
  }
  pane.setStatus("loading socket.io-client");
  loadClient(model)
    .then((io) => {
      pane.setStatus("connecting");
      socket = connect(io, model);
      socket.on("connect", () => pane.setStatus(`connected over ${socket.io.engine.transport.name}`));
      socket.io.engine?.on("upgrade", (transport) => pane.setStatus(`connected over ${transport.name}`));
      socket.on("chat", (message) => pane.show("in", `${message.from}: ${message.text}`));
      socket.on("connect_error", (error) => pane.show("note", `connect_error: ${error.message}`));
      socket.on("disconnect", (reason) => pane.setStatus(`disconnected (${reason})`));
    })
    .catch((error) => {
      pane.setStatus("failed");
      pane.show("note", `${error.message}. Is jupyter-server-proxy enabled in this Jupyter server?`);
    });

  pane.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!socket?.connected || !pane.input.value) return;
    socket.emit("chat", pane.input.value);
    pane.input.value = "";
  });
  return () => socket?.disconnect();
}

export default { render };
