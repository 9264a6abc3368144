// The moderator queue's keyboard shortcuts, decision and Undo buttons. Decisions go to the
// same API as every client's, POST /v1/comments/{id}/decision, and an Undo is a DELETE of
// it; the key rides in the page's HttpOnly cookie, which the API accepts only with the
// x-rebut-page header.
"use strict";
(() => {
  const status = document.getElementById("status");
  const items = () => [...document.querySelectorAll("article.item[data-comment]")];
  const say = (text) => { if (status) status.textContent = text; };

  function current() {
    const active = document.activeElement && document.activeElement.closest("article.item[data-comment]");
    return active || items()[0] || null;
  }

  function move(step) {
    const all = items();
    if (!all.length) return;
    const at = all.indexOf(current());
    const next = all[Math.max(0, Math.min(all.length - 1, at + step))];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  // useful -> wrong -> unmarked, so that one key per hint is enough.
  function cycleHint(item, index) {
    const hint = item.querySelector(`li[data-hint="${index}"]`);
    if (!hint) return;
    const pressed = hint.querySelector('button[aria-pressed="true"]');
    const order = [null, "useful", "wrong"];
    const now = pressed ? pressed.dataset.verdict : null;
    setVerdict(hint, order[(order.indexOf(now) + 1) % order.length]);
  }

  function setVerdict(hint, verdict) {
    for (const button of hint.querySelectorAll("button.verdict")) {
      button.setAttribute("aria-pressed", String(button.dataset.verdict === verdict));
    }
    say(`Hint ${Number(hint.dataset.hint) + 1}: ${verdict || "unmarked"}`);
  }

  // Send one API call for the item; on success, take the item off this tab and move the
  // comment's count to the tab it went to.
  async function send(item, method, url, body, done) {
    item.dataset.busy = "1";
    const id = item.dataset.comment;
    try {
      const response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-rebut-page": "1" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(problem.detail || `HTTP ${response.status}`);
      }
    } catch (error) {
      delete item.dataset.busy;
      say(`Could not ${method === "DELETE" ? "undo" : "record"} the decision on ${id}: ${error.message}`);
      return;
    }
    const all = items();
    const next = all[all.indexOf(item) + 1] || all[all.indexOf(item) - 1];
    item.remove();
    bump(document.getElementById("count"), -1);
    bump(document.querySelector('[aria-current="page"] .tab-count'), -1);
    bump(document.querySelector(`.tab-count[data-tab="${done.tab}"]`), 1);
    say(done.message);
    if (next) next.focus(); else document.getElementById("main").focus();
  }

  function bump(counter, step) {
    if (counter) counter.textContent = String(Math.max(0, Number(counter.textContent) + step));
  }

  const decisionUrl = (item) => `/v1/comments/${encodeURIComponent(item.dataset.comment)}/decision`;

  function decide(item, decision) {
    // only a waiting comment has decision buttons: a decided one is undone first
    if (!item || item.dataset.busy || !item.querySelector("[data-decision]")) return;
    const hints = [...item.querySelectorAll("li[data-hint]")].flatMap((li) => {
      const pressed = li.querySelector('button[aria-pressed="true"]');
      return pressed ? [{ hint: Number(li.dataset.hint), verdict: pressed.dataset.verdict }] : [];
    });
    const tab = decision === "approve" ? "approved" : "rejected";
    const message = `${decision === "approve" ? "Approved" : "Rejected"} ${item.dataset.comment}.`;
    send(item, "POST", decisionUrl(item), { decision, hints }, { tab, message });
  }

  function undo(item) {
    if (!item || item.dataset.busy || !item.dataset.decisionId) return;
    // with the decision's id: a second click, or a stale page, cannot undo an older one
    const url = `${decisionUrl(item)}?id=${encodeURIComponent(item.dataset.decisionId)}`;
    const message = `Undone: ${item.dataset.comment} is back in Waiting.`;
    send(item, "DELETE", url, undefined, { tab: "waiting", message });
  }

  // Start on the first comment, outlined, so that the first a or r visibly applies to it.
  const first = items()[0];
  if (first && document.activeElement === document.body) first.focus({ preventScroll: true });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.decision) decide(button.closest("article.item"), button.dataset.decision);
    if (button.hasAttribute("data-undo")) undo(button.closest("article.item"));
    if (button.classList.contains("verdict")) {
      const pressed = button.getAttribute("aria-pressed") === "true";
      setVerdict(button.closest("li[data-hint]"), pressed ? null : button.dataset.verdict);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea, summary")) return;
    if (event.key === "Escape" && event.target.closest(".claim")) {
      // hide the evidence, and stay on the comment so the next shortcut still applies to it
      const owner = event.target.closest("article.item[data-comment]");
      if (owner) owner.focus(); else event.target.blur();
      return;
    }
    const item = current();
    const keys = {
      j: () => move(1),
      k: () => move(-1),
      a: () => decide(item, "approve"),
      r: () => decide(item, "reject"),
      u: () => undo(item),
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); return; }
    if (/^[1-9]$/.test(event.key) && item) { event.preventDefault(); cycleHint(item, Number(event.key) - 1); }
  });
})();
