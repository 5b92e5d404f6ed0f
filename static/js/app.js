// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // Ask before a destructive action marked with data-confirm.
  document.body.addEventListener("submit", (event) => {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  // A referral card follows the chosen 対象者: fields still showing the previous person's defaults
  // (or empty) take the new person's; anything the worker typed stays.
  document.querySelectorAll("select[data-card-source]").forEach((select) => {
    const source = document.getElementById(select.getAttribute("data-card-source"));
    if (!source) return;
    const cards = JSON.parse(source.textContent);
    let previous = select.value;
    select.addEventListener("change", () => {
      const before = cards[previous] || {};
      const after = cards[select.value] || {};
      Object.keys(after).forEach((name) => {
        const input = select.form && select.form.elements[name];
        if (input && (input.value === "" || input.value === (before[name] || ""))) input.value = after[name];
      });
      previous = select.value;
    });
  });
  // Print buttons (no inline handlers: the Content Security Policy forbids them).
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
});

// The お知らせ badge: the server says "your unread count changed" on the user's socket (no content);
// the page then fetches the count over HTTP. Without a socket the count is as of the last page load.
document.addEventListener("DOMContentLoaded", () => {
  const link = document.querySelector(".notification-badge[data-count-url]");
  if (!link || !("WebSocket" in window)) return;
  const badge = link.querySelector("[data-unread]");
  const refresh = () =>
    fetch(link.dataset.countUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data) return;
        badge.textContent = String(data.unread);
        badge.classList.toggle("is-zero", data.unread === 0);
      })
      .catch(() => {});
  let delay = 1000;
  const connect = () => {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/notifications/`);
    socket.addEventListener("open", () => {
      delay = 1000;
      refresh();
    });
    socket.addEventListener("message", refresh);
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) return; // signed out
      delay = Math.min(delay * 2, 30000);
      window.setTimeout(connect, delay);
    });
  };
  connect();
});
