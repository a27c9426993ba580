// The browser's own WebSocket (no library): show what the server pushes, send what you type.
function render({ model, el }) {
  const url = serverAddress(model.get("port"), model.get("direct_url"), "ws");
  const pane = drawPane(el, model, model.get("title"), "type a message, then Enter");

  pane.setStatus("connecting");
  const socket = new WebSocket(url);
  socket.addEventListener("open", () => pane.setStatus("open"));
  socket.addEventListener("message", (event) => pane.show("in", String(event.data)));
  socket.addEventListener("error", () =>
    pane.show("note", `could not reach ${url}: is jupyter-server-proxy enabled in this Jupyter ` +
      "server, and is the server cell still running?"),
  );
  socket.addEventListener("close", (event) =>
    pane.setStatus(`closed (${event.code}): re-run the cells above to reconnect`),
  );
  pane.form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket.readyState !== WebSocket.OPEN || !pane.input.value) return;
    socket.send(pane.input.value);
    pane.show("out", pane.input.value);
    pane.input.value = "";
  });
  return () => socket.close(1000);
}

export default { render };
