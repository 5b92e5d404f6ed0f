// The live agenda: listen for "meeting N is at version V" events and re-fetch the agenda over HTTP.
// PostgreSQL is the truth; the socket may drop events, so pings and reconnects resync to the database.
(function () {
  "use strict";

  const PING_MS = 20000;
  const MAX_BACKOFF_MS = 30000;

  function start() {
    const root = document.getElementById("live");
    const status = document.getElementById("live-status");
    if (!root || !status) return;

    let known = parseInt(root.dataset.version, 10) || 0;
    let socket = null;
    let backoff = 1000;
    let pingTimer = null;
    let stopped = false;
    let fetching = false;
    let refetchAgain = false;
    let pendingSwap = null;

    function setStatus(kind, text) {
      status.className = "live-status " + kind;
      status.textContent = text;
      status.dataset.state = kind;
    }

    // Swapping the fragment would throw away what someone is typing: wait until they leave the form.
    // A form's button counts too: pressing it moves the focus there before the click lands, and a
    // swap in between would submit the fresh, empty form instead (every form here posts and reloads).
    function editing() {
      const active = document.activeElement;
      if (!active || !root.contains(active)) return false;
      if (active.tagName === "BUTTON" && active.form) return true;
      return ["TEXTAREA", "INPUT", "SELECT"].includes(active.tagName);
    }

    function swap(html) {
      if (editing()) {
        pendingSwap = html;
        let note = document.getElementById("pending-update");
        if (!note) {
          note = document.createElement("p");
          note.id = "pending-update";
          note.className = "notice pending-update";
          note.textContent = root.dataset.textPending;
          root.parentNode.insertBefore(note, root);
        }
        return;
      }
      pendingSwap = null;
      const note = document.getElementById("pending-update");
      if (note) note.remove();
      root.innerHTML = html;
      const body = root.querySelector(".live-body");
      if (body) {
        const version = parseInt(body.dataset.version, 10);
        if (!Number.isNaN(version)) known = version;
        root.dataset.version = String(known);
      }
      if (window.htmx) window.htmx.process(root);
    }

    root.addEventListener("focusout", () => {
      window.setTimeout(() => {
        if (pendingSwap !== null && !editing()) swap(pendingSwap);
      }, 0);
    });

    async function refetch() {
      if (fetching) {
        refetchAgain = true;
        return;
      }
      fetching = true;
      try {
        const response = await fetch(root.dataset.fragmentUrl, {
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" },
          cache: "no-store",
        });
        if (response.ok && !response.redirected) {
          swap(await response.text());
        } else if (response.status === 404 || response.status === 403) {
          removed();
        }
      } catch (error) {
        // The HTTP side is unreachable too; the next event, ping or reconnect tries again.
      } finally {
        fetching = false;
        if (refetchAgain) {
          refetchAgain = false;
          refetch();
        }
      }
    }

    function removed() {
      stopped = true;
      setStatus("removed", root.dataset.textRemoved);
      if (socket) socket.close();
    }

    function send(payload) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(payload));
    }

    function onMessage(event) {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.type === "hello") {
        backoff = 1000;
        setStatus("live", root.dataset.textLive);
        // Resync fully after every (re)connect: events sent while we were away are lost.
        refetch();
      } else if (message.type === "meeting.changed") {
        if (message.what === "presence" || message.version !== known) refetch();
      } else if (message.type === "pong") {
        if (message.version !== known) refetch();
      } else if (message.type === "removed") {
        removed();
      }
    }

    function connect() {
      if (stopped) return;
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
      socket.addEventListener("message", onMessage);
      socket.addEventListener("close", (event) => {
        window.clearInterval(pingTimer);
        if (event.code === 4403 || event.code === 4401) {
          removed();
          return;
        }
        if (stopped) return;
        setStatus("paused", root.dataset.textPaused);
        const wait = backoff + Math.floor(Math.random() * 500);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        window.setTimeout(connect, wait);
      });
      socket.addEventListener("open", () => {
        pingTimer = window.setInterval(() => send({ type: "ping" }), PING_MS);
      });
    }

    setStatus("paused", root.dataset.textPaused);
    connect();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
