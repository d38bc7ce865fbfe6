// Vantage looking glass: the little the pages need beyond HTML.
"use strict";

// "/" focuses the search box, as on many sites.
document.addEventListener("keydown", ev => {
  const t = ev.target;
  if (ev.key === "/" && !(t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement)) {
    ev.preventDefault();
    const q = document.getElementById("q");
    q.focus();
    q.select();
  }
});

// Empty fields stay out of the address, so shared links stay short.
for (const form of document.querySelectorAll("form[method=get]")) {
  form.addEventListener("submit", () => {
    for (const el of form.elements) {
      if (el.name && el.value === "") el.disabled = true;
    }
    setTimeout(() => { for (const el of form.elements) el.disabled = false; }, 0);
  });
}
