// Where the page reaches a server that listens on 127.0.0.1:<port> next to the kernel.
//
// Under a Jupyter server (JupyterLab, Notebook 7, Binder), the page asks the Jupyter server,
// whose jupyter-server-proxy forwards <base_url>proxy/<port>/... (WebSocket upgrades included)
// to localhost:<port>. The base_url is in the page's config, a JSON script element. Elsewhere
// (no such element), the page connects to the server directly.
function serverAddress(port, directUrl, scheme) {
  const config = document.getElementById("jupyter-config-data");
  if (!config) return directUrl;
  const { baseUrl } = JSON.parse(config.textContent);
  const url = new URL(`${baseUrl}proxy/${port}/`, window.location.href);
  if (scheme === "ws") url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function clock() {
  return new Date().toTimeString().slice(0, 8);
}

// A pane: a title with a status, a log of lines, and a box to type in. Its status and the
// lines it shows are also kept in the model, so the kernel can read them (pane.status, .log).
function drawPane(el, model, title, placeholder) {
  el.classList.add("scc-pane");
  el.dataset.pane = title;
  el.innerHTML = `<div class="scc-head"><b></b> <span class="scc-status">starting</span></div>
    <ol class="scc-log"></ol>
    <form class="scc-form"><input type="text"><button type="submit">Send</button></form>`;
  el.querySelector("b").textContent = title;
  el.querySelector("input").placeholder = placeholder;
  // Keys typed here are for the box, not JupyterLab's shortcuts (Enter would edit the cell).
  el.querySelector("input").addEventListener("keydown", (event) => event.stopPropagation());
  const status = el.querySelector(".scc-status");
  const list = el.querySelector(".scc-log");
  return {
    form: el.querySelector("form"),
    input: el.querySelector("input"),
    setStatus(text) {
      status.textContent = text;
      el.dataset.status = text;
      model.set("status", text);
      model.save_changes();
    },
    show(kind, text) {
      const item = document.createElement("li");
      item.className = `scc-${kind}`;
      item.textContent = `${clock()} ${text}`;
      item.dataset.text = text;
      list.append(item);
      while (list.children.length > 200) list.firstElementChild.remove();
      list.scrollTop = list.scrollHeight;
      remember(model, kind, text);
    },
  };
}

// Keep what the page saw in the model too, so the kernel can read it (pane.log).
function remember(model, kind, text) {
  const log = [...model.get("log"), { kind, text }].slice(-100);
  model.set("log", log);
  model.save_changes();
}
