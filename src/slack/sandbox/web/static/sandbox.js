// The sandbox page's script: no framework. The server renders every fragment (escaped HTML); this
// fetches them, refreshes them on server-sent events, and turns clicks and forms into JSON posts.
(() => {
  const base = "/sandbox/";
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const switcher = $("user-switcher");
  const messages = $("messages");
  const layer = $("modal-layer");
  const composer = $("composer");
  const composerError = $("composer-error");
  const closedThreads = new Set();
  let user = body.dataset.user;
  let channel = decodeURIComponent(location.hash.slice(1)) || body.dataset.channel;
  let modalKey = "";

  function showError(message) {
    composerError.textContent = message || "";
    composerError.hidden = !message;
  }

  async function postJson(path, data) {
    const response = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(data),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      answer = {};
    }
    if (!response.ok) throw new Error(answer.message || answer.error || `HTTP ${response.status}`);
    return answer;
  }

  async function getFragment(path) {
    const response = await fetch(base + path, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return { html: await response.text(), headers: response.headers };
  }

  const query = (params) =>
    Object.entries(params)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&");

  let channelSeq = 0;
  async function loadChannel() {
    const seq = ++channelSeq;
    const nearBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
    try {
      const fragment = await getFragment(
        "web/channel/" +
          encodeURIComponent(channel) +
          "?" +
          query({ user, closed: [...closedThreads].join(",") }),
      );
      if (seq !== channelSeq) return;
      messages.innerHTML = fragment.html;
      const title = fragment.headers.get("x-channel-title");
      $("channel-title").textContent = title ? decodeURIComponent(title) : "";
      if (nearBottom) messages.scrollTop = messages.scrollHeight;
    } catch (err) {
      if (seq !== channelSeq) return;
      if (channel !== body.dataset.channel) {
        // e.g. a DM the person now acted as is not in: back to the first channel
        channel = body.dataset.channel;
        refresh("channel", "sidebar");
        return;
      }
      messages.textContent = `Could not load the channel: ${err.message}`;
    }
  }

  let sidebarSeq = 0;
  async function loadSidebar() {
    const seq = ++sidebarSeq;
    try {
      const fragment = await getFragment(`web/sidebar?${query({ user, channel })}`);
      if (seq === sidebarSeq) $("sidebar-channels").innerHTML = fragment.html;
    } catch {
      // the next event retries
    }
  }

  let modalSeq = 0;
  async function loadModal() {
    const seq = ++modalSeq;
    try {
      const fragment = await getFragment(`web/modal?${query({ user })}`);
      if (seq !== modalSeq) return;
      const holder = document.createElement("div");
      holder.innerHTML = fragment.html;
      const form = holder.querySelector("form.modal");
      if (!form) {
        layer.hidden = true;
        layer.innerHTML = "";
        modalKey = "";
        return;
      }
      const key = `${form.dataset.viewId}/${form.dataset.updates}`;
      if (key === modalKey && !layer.hidden) return; // keep what the person typed
      modalKey = key;
      layer.innerHTML = "";
      layer.appendChild(form);
      layer.hidden = false;
      const first = form.querySelector("input, textarea, select");
      if (first) first.focus();
    } catch {
      // the next event retries
    }
  }

  const pending = new Set();
  let timer;
  function refresh(...what) {
    for (const w of what) pending.add(w);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const todo = [...pending];
      pending.clear();
      if (todo.includes("channel")) loadChannel();
      if (todo.includes("sidebar")) loadSidebar();
      if (todo.includes("modal")) loadModal();
    }, 40);
  }

  function demoStatus(status) {
    const el = $("demo-status");
    if (!el || !status) return;
    const fault = status.fault && status.fault !== "none" ? ` · ${status.fault} injected` : "";
    const text = {
      idle: status.sent ? `Stopped after ${status.sent.toLocaleString()} predictions.` : "Not running.",
      backfilling: "Backfilling two days of history and setting the reference…",
      streaming: `Streaming · ${status.sent.toLocaleString()} predictions sent${fault}`,
      failed: `Failed: ${status.error || "unknown error"}`,
    }[status.state];
    el.textContent = text || status.state;
    el.dataset.state = status.state;
    el.dataset.fault = status.fault;
  }

  function connect() {
    const events = new EventSource(`${base}web/events`);
    events.addEventListener("open", () => {
      $("live-state").textContent = "live";
      refresh("channel", "sidebar", "modal");
    });
    events.addEventListener("error", () => {
      $("live-state").textContent = "reconnecting…";
    });
    events.addEventListener("change", (event) => {
      const change = JSON.parse(event.data);
      if (change.kind === "demo") return demoStatus(change.status);
      if (change.kind === "view") {
        if (change.user === user) refresh("modal");
        return;
      }
      if (change.kind === "ephemeral" && change.user !== user) return;
      if (change.channel === channel) refresh("channel");
      refresh("sidebar");
    });
  }

  function setUser(id) {
    user = id;
    const option = switcher.selectedOptions[0];
    const url = new URL(location.href);
    if (option) url.searchParams.set("as", option.dataset.name);
    history.replaceState(null, "", url);
    modalKey = "";
    refresh("channel", "sidebar", "modal");
  }

  switcher.addEventListener("change", () => setUser(switcher.value));

  $("sidebar-channels").addEventListener("click", (event) => {
    const link = event.target.closest("a.channel-link");
    if (!link) return;
    event.preventDefault();
    channel = link.dataset.channel;
    history.replaceState(null, "", `#${encodeURIComponent(channel)}`);
    refresh("channel", "sidebar");
  });

  async function send(text, threadTs) {
    showError("");
    const payload = { user, channel, text };
    if (threadTs) payload.thread_ts = threadTs;
    await postJson("web/send", payload);
  }

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = composer.elements.text;
    const text = box.value.trim();
    if (!text) return;
    box.disabled = true;
    try {
      await send(text);
      box.value = "";
    } catch (err) {
      showError(err.message);
    } finally {
      box.disabled = false;
      box.focus();
    }
  });
  composer.elements.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  /** Posts an interaction with a message's control (a button, or a select's choice) as Slack would. */
  async function act(control, extra) {
    const article = control.closest("article.msg");
    if (!article) return;
    control.disabled = true;
    showError("");
    try {
      const payload = {
        user,
        channel: article.dataset.channel,
        ts: article.dataset.ts,
        ephemeral: article.dataset.ephemeral === "true",
        action_id: control.dataset.actionId,
        ...extra,
      };
      if (control.dataset.blockId) payload.block_id = control.dataset.blockId;
      await postJson("web/click", payload);
    } catch (err) {
      showError(err.message);
    } finally {
      control.disabled = false;
    }
  }

  messages.addEventListener("click", async (event) => {
    const button = event.target.closest("button.bk-button[data-action-id]");
    if (!button?.closest("article.msg")) return;
    if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
    await act(button, {});
  });

  // A select in a message (the incident card's severity): choosing posts it like a click.
  messages.addEventListener("change", async (event) => {
    const select = event.target.closest("select.bk-select[data-action-id]");
    if (!select?.value) return;
    await act(select, { selected: select.value });
  });

  messages.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement) || !details.dataset.threadTs) return;
      if (details.open) closedThreads.delete(details.dataset.threadTs);
      else closedThreads.add(details.dataset.threadTs);
    },
    true,
  );

  messages.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.reply-form");
    if (!form) return;
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) return;
    try {
      await send(text, form.dataset.threadTs);
      form.elements.text.value = "";
    } catch (err) {
      showError(err.message);
    }
  });

  function inputValues(form) {
    const values = {};
    for (const el of form.querySelectorAll("[name]")) {
      if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
        else if (!(el.name in values)) values[el.name] = null;
      } else if (el.tagName === "SELECT") {
        values[el.name] = el.value === "" ? null : el.value;
      } else {
        values[el.name] = el.value;
      }
    }
    return values;
  }

  layer.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.modal");
    if (!form) return;
    event.preventDefault();
    for (const el of form.querySelectorAll(".bk-error")) el.textContent = "";
    const submit = form.querySelector(".modal-submit");
    if (submit) submit.disabled = true;
    try {
      const answer = await postJson("web/submit", {
        user,
        view_id: form.dataset.viewId,
        values: inputValues(form),
      });
      if (answer.errors) {
        for (const [blockId, message] of Object.entries(answer.errors)) {
          const slot = form.querySelector(`[data-error-for="${CSS.escape(blockId)}"]`);
          if (slot) slot.textContent = message;
        }
      }
    } catch (err) {
      const slot = form.querySelector('[data-error-for=""]');
      if (slot) slot.textContent = err.message;
    } finally {
      if (submit) submit.disabled = false;
      refresh("modal");
    }
  });

  layer.addEventListener("click", async (event) => {
    if (!event.target.closest(".modal-close")) return;
    const form = event.target.closest("form.modal");
    try {
      await postJson("web/close", { user, view_id: form.dataset.viewId });
    } finally {
      refresh("modal");
    }
  });

  const demo = $("demo");
  if (demo) {
    demo.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-demo]");
      if (!button) return;
      try {
        const answer = await postJson("web/demo", {
          action: button.dataset.demo,
          ...(button.dataset.fault ? { fault: button.dataset.fault } : {}),
        });
        demoStatus(answer.status);
      } catch (err) {
        showError(err.message);
      }
    });
  }

  showError("");
  connect();
})();
