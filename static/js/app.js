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
