// The site's own script: the lesson menu on small screens, search, the "on this page" marker,
// and the diagrams (mermaid) and math (KaTeX) that the site ships in assets/vendor/.
// <html data-mermaid="done"> (or "failed") tells the tests that the diagrams are drawn.
"use strict";

(() => {
  const root = document.documentElement;

  // The lesson menu (a drawer on small screens)

  const menu = document.querySelector(".site-menu");
  menu?.addEventListener("click", () => {
    const open = document.body.classList.toggle("site-nav-open");
    menu.setAttribute("aria-expanded", String(open));
  });

  // Search: the index (assets/search-index.js) loads on first use; every word must match

  const input = document.getElementById("site-search");
  const panel = document.getElementById("site-search-results");
  let index = null;
  let active = -1;

  function loadIndex() {
    if (window.SITE_SEARCH_INDEX) return Promise.resolve(window.SITE_SEARCH_INDEX);
    index ??= new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "assets/search-index.js";
      script.onload = () => resolve(window.SITE_SEARCH_INDEX);
      script.onerror = () => reject(new Error("could not load the search index"));
      document.head.append(script);
    });
    return index;
  }

  const escapeHtml = (text) =>
    text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  function count(haystack, word) {
    let found = 0;
    for (let at = haystack.indexOf(word); at !== -1 && found < 5; at = haystack.indexOf(word, at + 1)) {
      found += 1;
    }
    return found;
  }

  function search(entries, query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    const phrase = words.join(" ");
    const hits = [];
    for (const entry of entries) {
      const title = entry.t.toLowerCase();
      const text = entry.x.toLowerCase();
      if (!words.every((word) => title.includes(word) || text.includes(word))) continue;
      let score = words.reduce((sum, word) => sum + (title.includes(word) ? 10 : 0) + count(text, word), 0);
      if (words.length > 1 && (title.includes(phrase) || text.includes(phrase))) score += 10;
      hits.push({ entry, score });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, 12).map((hit) => hit.entry);
  }

  function snippet(text, words) {
    const lower = text.toLowerCase();
    const found = words.map((word) => lower.indexOf(word)).filter((at) => at >= 0);
    const at = found.length ? Math.min(...found) : 0;
    const start = Math.max(0, at - 50);
    let part = escapeHtml((start ? "…" : "") + text.slice(start, at + 110) + (at + 110 < text.length ? "…" : ""));
    const pattern = new RegExp(`(${words.map((w) => escapeRegExp(escapeHtml(w))).join("|")})`, "gi");
    part = part.replace(pattern, "<mark>$1</mark>");
    return part;
  }

  function show(results, query) {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    active = -1;
    if (!query.trim()) {
      panel.hidden = true;
      return;
    }
    panel.innerHTML = results.length
      ? results
          .map(
            (entry) => `<a role="option" href="${escapeHtml(entry.u)}">
              <span class="site-result-title">${escapeHtml(entry.t)}</span>
              ${entry.t === entry.p ? "" : `<span class="site-result-page">${escapeHtml(entry.p)}</span>`}
              ${entry.x ? `<span class="site-result-text">${snippet(entry.x, words)}</span>` : ""}
            </a>`,
          )
          .join("")
      : `<p class="site-result-none">Nothing found for “${escapeHtml(query)}”.</p>`;
    panel.hidden = false;
  }

  function move(step) {
    const options = [...panel.querySelectorAll("a")];
    if (!options.length) return;
    active = (active + step + options.length) % options.length;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    options[active].scrollIntoView({ block: "nearest" });
  }

  if (input && panel) {
    input.addEventListener("focus", () => loadIndex().catch((error) => console.warn(error.message)));
    input.addEventListener("input", async () => {
      const query = input.value;
      const entries = await loadIndex();
      if (query === input.value) show(search(entries, query), query);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter") {
        const options = panel.querySelectorAll("a");
        const chosen = options[Math.max(active, 0)];
        if (chosen) window.location.href = chosen.href;
      } else if (event.key === "Escape") {
        input.value = "";
        panel.hidden = true;
        input.blur();
      }
    });
    panel.addEventListener("click", () => {
      panel.hidden = true;
    });
    document.addEventListener("click", (event) => {
      if (!event.target.closest(".site-search")) panel.hidden = true;
    });
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest("input, textarea, [contenteditable]");
      if (event.key === "/" && !typing) {
        event.preventDefault();
        input.focus();
      }
    });
  }

  // "On this page": mark the section being read

  const tocLinks = [...document.querySelectorAll(".site-toc a")];
  const headings = tocLinks.map((link) => document.getElementById(decodeURIComponent(link.hash.slice(1))));
  let ticking = false;
  function markSection() {
    ticking = false;
    let current = -1;
    headings.forEach((heading, i) => {
      if (heading && heading.getBoundingClientRect().top < 120) current = i;
    });
    tocLinks.forEach((link, i) => link.classList.toggle("site-toc-current", i === current));
  }
  if (tocLinks.length) {
    window.addEventListener("scroll", () => {
      if (!ticking) requestAnimationFrame(markSection);
      ticking = true;
    }, { passive: true });
    markSection();
  }

  // Math: KaTeX, where the build found TeX ($...$, \(...\), text/latex outputs)

  if (window.renderMathInElement) {
    window.renderMathInElement(document.querySelector(".site-notebook") || document.body, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "\\[", right: "\\]", display: true },
        { left: "\\begin{equation}", right: "\\end{equation}", display: true },
        { left: "\\begin{align}", right: "\\end{align}", display: true },
        { left: "$", right: "$", display: false },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: false,
    });
    root.dataset.math = "done";
  }

  // Diagrams: each ```mermaid block of the lessons, drawn as an inline SVG

  async function drawDiagrams() {
    const blocks = [...document.querySelectorAll(".jp-Mermaid > pre.mermaid")];
    if (!blocks.length) return;
    if (!window.mermaid) {
      root.dataset.mermaid = "failed";
      console.error("mermaid did not load: the diagrams show their source");
      return;
    }
    const font = getComputedStyle(document.body).getPropertyValue("--jp-ui-font-family").trim();
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: "default",
      fontFamily: font || undefined,
    });
    let failed = 0;
    for (const [i, pre] of blocks.entries()) {
      const block = pre.parentElement;
      try {
        const { svg } = await window.mermaid.render(`site-mermaid-${i}`, pre.textContent);
        const figure = document.createElement("figure");
        figure.className = "site-mermaid";
        figure.innerHTML = svg;
        block.append(figure);
        block.classList.add("jp-RenderedMermaid");
      } catch (error) {
        failed += 1;
        block.classList.add("jp-RenderedMermaid", "jp-mod-warning");
        console.error(`diagram ${i + 1} could not be drawn: ${error?.message ?? error}`);
      }
    }
    root.dataset.mermaid = failed ? "failed" : "done";
  }

  drawDiagrams();
})();
