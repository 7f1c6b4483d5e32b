// Kartoteka: small behaviours the server cannot give: unsaved-change marking and prompts,
// open cards as tabs (kept for the session), extra phone/e-mail rows, masked inputs.
(function () {
  "use strict";
  const body = document.body;
  const form = document.getElementById("card-form");
  const card = document.querySelector("article.card");
  const store = window.sessionStorage;
  const tabsKey = "kartoteka.tabs";

  function readTabs() {
    try { return JSON.parse(store.getItem(tabsKey) || "[]"); } catch (e) { return []; }
  }
  function writeTabs(t) { store.setItem(tabsKey, JSON.stringify(t)); }
  function draftKey(id) { return "kartoteka.draft." + id; }

  function renderTabs(current) {
    const bar = document.getElementById("tabs");
    if (!bar) return;
    bar.textContent = "";
    for (const t of readTabs()) {
      const a = document.createElement("a");
      a.href = "/records/" + t.id;
      a.textContent = t.title;
      a.title = t.title + " (" + t.id + ")";
      if (t.id === current) a.className = "current";
      if (store.getItem(draftKey(t.id))) a.classList.add("dirty");
      const x = document.createElement("button");
      x.type = "button";
      x.textContent = "×";
      x.setAttribute("aria-label", "Close " + t.title);
      x.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (store.getItem(draftKey(t.id)) && !window.confirm(body.dataset.unsaved)) return;
        store.removeItem(draftKey(t.id));
        writeTabs(readTabs().filter(function (o) { return o.id !== t.id; }));
        if (t.id === current) window.location.href = "/records"; else renderTabs(current);
      });
      bar.appendChild(a);
      bar.appendChild(x);
    }
  }

  const recordId = card && card.dataset.record;
  if (recordId) {
    const tabs = readTabs();
    if (!tabs.some(function (t) { return t.id === recordId; })) tabs.push({ id: recordId, title: card.dataset.title });
    writeTabs(tabs.map(function (t) { return t.id === recordId ? { id: t.id, title: card.dataset.title } : t; }));
  }
  renderTabs(recordId);

  function formState() {
    const out = [];
    for (const el of form.elements) {
      if (!el.name || el.type === "hidden" || el.type === "submit") continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      out.push([el.name, el.value]);
    }
    return out;
  }
  // Fields group by the part of their name before the dot: phones and e-mails change whole.
  function group(name) { return name.startsWith("phone.") || name.startsWith("email.") ? name.split(".")[0] : name; }
  function byGroup(state) {
    const g = {};
    for (const [n, v] of state) (g[group(n)] = g[group(n)] || []).push([n, v]);
    return g;
  }

  if (form) {
    let dirty = false;
    const saved = document.querySelector(".notice");
    const errors = document.querySelector(".alert, .conflict");
    const initial = byGroup(formState());
    // The draft keeps only what the user changed, so restoring it after a refresh never
    // brings back old values of fields someone else changed meanwhile.
    function changes() {
      const now = byGroup(formState());
      const out = {};
      for (const k of new Set(Object.keys(now).concat(Object.keys(initial)))) {
        if (JSON.stringify(now[k] || []) !== JSON.stringify(initial[k] || [])) out[k] = now[k] || [];
      }
      return out;
    }
    function markDirty() {
      const c = changes();
      dirty = Object.keys(c).length > 0;
      body.classList.toggle("is-dirty", dirty);
      if (recordId) {
        if (dirty) store.setItem(draftKey(recordId), JSON.stringify(c)); else store.removeItem(draftKey(recordId));
        renderTabs(recordId);
      }
    }
    if (recordId && saved && !errors) store.removeItem(draftKey(recordId));
    if (errors) { dirty = true; body.classList.add("is-dirty"); }
    // Unsaved edits come back after leaving the card or reloading the page.
    const draft = recordId && !errors && store.getItem(draftKey(recordId));
    if (draft) {
      try {
        const d = JSON.parse(draft);
        for (const g of Object.keys(d)) {
          const byName = {};
          for (const [n, v] of d[g]) (byName[n] = byName[n] || []).push(v);
          for (const n of Object.keys(byName)) {
            const els = Array.from(form.elements).filter(function (e) { return e.name === n; });
            els.forEach(function (el, i) {
              if (el.type === "radio") el.checked = byName[n].indexOf(el.value) >= 0;
              else if (i < byName[n].length) el.value = byName[n][i];
            });
          }
        }
        dirty = true;
        body.classList.add("is-dirty");
      } catch (e) { store.removeItem(draftKey(recordId)); }
    }
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (ev) {
      if (dirty) { ev.preventDefault(); ev.returnValue = ""; }
    });
    document.querySelectorAll("[data-cancel]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        if (dirty && !window.confirm(body.dataset.unsaved)) { ev.preventDefault(); return; }
        dirty = false;
        if (recordId) store.removeItem(draftKey(recordId));
      });
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
    });
    document.querySelectorAll("[data-add-row]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        const box = document.getElementById(btn.dataset.addRow);
        const rows = box.querySelectorAll(".row");
        const last = rows[rows.length - 1];
        const row = last.cloneNode(true);
        row.classList.remove("has-error");
        row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
        row.querySelectorAll("input").forEach(function (i) {
          if (i.type === "radio") { i.checked = false; i.value = String(rows.length); } else { i.value = ""; }
        });
        box.insertBefore(row, btn);
        row.querySelector("input").focus();
      });
    });
  }

  // Masked inputs accept only what the mask allows: # a digit, a a letter, $ a currency sign,
  // anything else is typed for the user.
  function applyMask(mask, raw) {
    let out = "";
    let i = 0;
    for (const m of mask) {
      if (i >= raw.length) break;
      if (m === "#" || m === "a" || m === "$") {
        while (i < raw.length) {
          const c = raw[i++];
          const ok = m === "#" ? /\d/.test(c) : m === "a" ? /\p{L}/u.test(c) : /\p{Sc}/u.test(c);
          if (ok) { out += c; break; }
        }
      } else {
        out += m;
        if (raw[i] === m) i++;
      }
    }
    return out;
  }
  document.querySelectorAll("input[data-mask]").forEach(function (el) {
    el.addEventListener("input", function () {
      const v = applyMask(el.dataset.mask, el.value);
      if (v !== el.value) el.value = v;
    });
  });
})();
