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
    let pendingSwap = null; // a fresh fragment held back because a kept form has no place in it

    function setStatus(kind, text) {
      status.className = "live-status " + kind;
      status.textContent = text;
      status.dataset.state = kind;
    }

    // A live refresh must never replace a form the user is working in: one they changed, have the focus in
    // (pressing a button moves the focus there before the click lands) or that came back refused. Such a
    // form is carried over into the fresh fragment as it is; the rest of the agenda follows the meeting.
    // Only forms with an id can be carried over (the template gives every form in the fragment one).
    let updatedUnderInput = false;

    function changed(form) {
      if (form.hasAttribute("data-refused")) return true;
      for (const el of form.elements) {
        if (el.type === "hidden" || el.tagName === "BUTTON" || el.tagName === "FIELDSET") continue;
        if (el.tagName === "SELECT") {
          if (el.multiple) {
            for (const option of el.options) if (option.selected !== option.defaultSelected) return true;
          } else {
            const initial = Array.prototype.findIndex.call(el.options, (option) => option.defaultSelected);
            if (el.selectedIndex !== (initial === -1 ? 0 : initial)) return true;
          }
        } else if (el.type === "checkbox" || el.type === "radio") {
          if (el.checked !== el.defaultChecked) return true;
        } else if ("defaultValue" in el && el.value !== el.defaultValue) {
          return true;
        }
      }
      return false;
    }

    function keptForms() {
      const active = document.activeElement;
      return Array.from(root.querySelectorAll("form[id]")).filter(
        (form) => changed(form) || (active && form.contains(active))
      );
    }

    function showNotice(beforeForm) {
      removeNotice();
      const note = document.createElement("div");
      note.id = "pending-update";
      note.className = "notice pending-update no-print";
      note.setAttribute("role", "status");
      const text = document.createElement("span");
      text.textContent = root.dataset.textPending + " ";
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button";
      discard.textContent = root.dataset.textDiscard;
      discard.addEventListener("click", discardInput);
      note.append(text, discard);
      if (beforeForm && beforeForm.isConnected) beforeForm.parentNode.insertBefore(note, beforeForm);
      else root.parentNode.insertBefore(note, root);
    }

    function removeNotice() {
      const note = document.getElementById("pending-update");
      if (note) note.remove();
    }

    // 「入力を取り消す」: drop what was typed and show the meeting as it is now.
    function discardInput() {
      for (const form of root.querySelectorAll("form[id]")) {
        form.reset();
        form.removeAttribute("data-refused");
        form.querySelectorAll(".errorlist, .form-error, .errors").forEach((node) => node.remove());
      }
      if (document.activeElement && root.contains(document.activeElement)) document.activeElement.blur();
      pendingSwap = null;
      updatedUnderInput = false;
      removeNotice();
      refetch();
    }

    // The decision form shows only the fields its kind uses (without JavaScript every field is shown).
    // A hidden field is disabled too, so a value typed under another kind is not sent with this one.
    function applyKinds(scope) {
      for (const form of scope.querySelectorAll("form.decision-form")) {
        const kind = form.elements.kind ? form.elements.kind.value : "";
        for (const input of form.querySelectorAll("[data-kinds]")) {
          const hidden = !input.dataset.kinds.split(" ").includes(kind);
          const field = input.closest(".field") || input;
          field.hidden = hidden;
          input.disabled = hidden;
        }
      }
    }

    root.addEventListener("change", (event) => {
      const form = event.target.form;
      if (event.target.name === "kind" && form && form.classList.contains("decision-form")) {
        applyKinds(form.parentNode);
      }
    });

    function applyVersion() {
      const body = root.querySelector(".live-body");
      if (body) {
        const version = parseInt(body.dataset.version, 10);
        if (!Number.isNaN(version)) known = version;
        root.dataset.version = String(known);
      }
    }

    function swap(html) {
      const fresh = document.createElement("div");
      fresh.innerHTML = html;
      const body = fresh.querySelector(".live-body");
      const freshVersion = body ? parseInt(body.dataset.version, 10) : NaN;
      const kept = keptForms();
      // A kept form whose place is gone from the fresh fragment (item removed, meeting locked): hold the
      // whole refresh until the user saves or discards, rather than lose or misplace their input.
      const twins = kept.map((form) => fresh.querySelector("#" + CSS.escape(form.id)));
      if (twins.some((twin) => twin === null)) {
        pendingSwap = html;
        showNotice(kept[0]);
        return;
      }
      pendingSwap = null;
      if (kept.length && !Number.isNaN(freshVersion) && freshVersion !== known) updatedUnderInput = true;
      if (!kept.length) updatedUnderInput = false;
      // Keep the boxes the user opened open.
      for (const box of root.querySelectorAll("details[id][open]")) {
        const twin = fresh.querySelector("#" + CSS.escape(box.id));
        if (twin) twin.open = true;
      }
      const active = document.activeElement;
      const selection =
        active && "selectionStart" in active && active.selectionStart !== null
          ? [active.selectionStart, active.selectionEnd]
          : null;
      kept.forEach((form, index) => {
        twins[index].replaceWith(form);
        const box = form.closest("details");
        if (box) box.open = true;
      });
      root.setAttribute("aria-busy", "true");
      root.replaceChildren(...fresh.childNodes);
      if (active && active !== document.body && active.isConnected && document.activeElement !== active) {
        active.focus({ preventScroll: true });
        if (selection) {
          try {
            active.setSelectionRange(selection[0], selection[1]);
          } catch (error) {
            // Not a text field (a select or a button): nothing to restore.
          }
        }
      }
      applyVersion();
      applyKinds(root);
      root.setAttribute("aria-busy", "false");
      if (updatedUnderInput) showNotice(kept[0]);
      else removeNotice();
      if (window.htmx) window.htmx.process(root);
    }

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

    applyKinds(root);
    setStatus("paused", root.dataset.textPaused);
    connect();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
