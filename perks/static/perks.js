// Small enhancements; every page works without them (the CSP allows only this file, no inline
// script). 1. "select all" boxes, 2. the topic chooser with search and chips, 3. the campaign
// form's expected-shortlist preview (a GET that stores nothing), 4. an upload's progress, read
// from its status (a GET) until the import ends, when the page reloads with the outcome.
"use strict";

document.documentElement.classList.add("js");

function selectAll() {
  document.querySelectorAll("[data-select-all]").forEach((box) => {
    box.closest(".js-only").hidden = false;
    const form = box.closest("form");
    const name = box.dataset.selectAll;
    box.addEventListener("change", () => {
      form.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((item) => {
        item.checked = box.checked;
      });
    });
  });
}

function topicChooser(select) {
  const wrap = document.createElement("div");
  wrap.className = "chooser";
  const chips = document.createElement("div");
  chips.className = "chips";
  chips.setAttribute("aria-label", "Chosen topics");
  const search = document.createElement("input");
  search.type = "search";
  search.placeholder = "Type to find a topic, e.g. coffee";
  search.setAttribute("aria-label", "Find a topic");
  const list = document.createElement("ul");
  list.className = "options";
  list.id = `${select.id}-options`;
  search.setAttribute("aria-controls", list.id);
  wrap.append(chips, search, list);
  select.classList.add("js-hidden");
  select.after(wrap);
  const label = document.querySelector(`label[for="${select.id}"]`);
  if (label) label.htmlFor = search.id = `${select.id}-search`;
  document.querySelectorAll(".chosen-list").forEach((item) => { item.hidden = true; });

  function changed() {
    select.dispatchEvent(new Event("change", { bubbles: true }));
    render();
  }

  function render() {
    chips.replaceChildren();
    list.replaceChildren();
    const needle = search.value.trim().toLowerCase();
    for (const option of select.options) {
      if (option.selected) {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip secondary";
        chip.textContent = `${option.text} ×`;
        chip.setAttribute("aria-label", `Remove ${option.text}`);
        chip.addEventListener("click", () => { option.selected = false; changed(); search.focus(); });
        chips.append(chip);
      } else if (!needle || option.text.toLowerCase().includes(needle)
                 || option.value.includes(needle)) {
        const item = document.createElement("li");
        const pick = document.createElement("button");
        pick.type = "button";
        pick.textContent = option.text;
        pick.addEventListener("click", () => { option.selected = true; search.value = ""; changed(); search.focus(); });
        item.append(pick);
        list.append(item);
      }
    }
    if (!chips.children.length) {
      const none = document.createElement("span");
      none.className = "hint";
      none.textContent = "No topic chosen yet.";
      chips.append(none);
    }
  }

  search.addEventListener("input", render);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {  // Enter picks the first match instead of submitting the form
      event.preventDefault();
      const first = list.querySelector("button");
      if (first) first.click();
    }
  });
  render();
}

function preview(form) {
  const output = form.querySelector("[data-preview-output]");
  let timer = null;
  let asked = 0;
  async function update() {
    const data = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (key !== "csrf_token") data.append(key, value);
    }
    if (form.dataset.campaignId) data.append("campaign_id", form.dataset.campaignId);
    const mine = ++asked;
    try {
      const answer = await fetch(`${form.dataset.preview}?${data}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin" });
      const result = await answer.json();
      if (mine !== asked) return;  // a newer question is on its way
      if (!result.ok) {
        output.textContent = `Expected shortlist: fix the form first (${result.errors[0]})`;
        return;
      }
      const n = (value) => value.toLocaleString("en");
      output.replaceChildren();
      const strong = document.createElement("strong");
      strong.textContent = `${n(result.offered)} of ${n(result.quantity)} perks`;
      output.append("Expected shortlist: ", strong,
        ` can be offered now: ${n(result.eligible)} eligible accounts of ${n(result.pool)} in the pool.`);
      if (result.eligible < result.quantity) {
        output.append(" Too few: widen the topics, the score range or the audience.");
      }
    } catch (error) {
      output.textContent = "Expected shortlist: could not be computed just now.";
    }
  }
  const soon = () => { clearTimeout(timer); timer = setTimeout(update, 400); };
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  update();
}

const UPLOAD_STATES = { queued: "waiting to start", running: "importing", done: "done", failed: "failed" };

function uploadProgress(section) {
  const show = (status) => {
    section.querySelectorAll("[data-field]").forEach((cell) => {
      const value = status[cell.dataset.field];
      if (cell.dataset.field === "state") cell.textContent = UPLOAD_STATES[value] || value;
      else if (typeof value === "number") cell.textContent = value.toLocaleString("en");
    });
  };
  async function poll() {
    try {
      const answer = await fetch(section.dataset.uploadStatus, {
        headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (answer.ok) {
        const status = await answer.json();
        show(status);
        if (status.finished) { window.location.reload(); return; }
      }
    } catch (error) { /* the next poll tries again */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".no-js").forEach((item) => { item.hidden = true; });
  selectAll();
  document.querySelectorAll("select[data-chooser]").forEach(topicChooser);
  document.querySelectorAll("form[data-preview]").forEach(preview);
  document.querySelectorAll("[data-upload-status]").forEach(uploadProgress);
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
