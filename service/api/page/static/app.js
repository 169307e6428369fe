// The testers' page. It uses the public API only, with the caller's key, which is kept in
// sessionStorage (this browser tab's session) and nowhere else. Everything a user wrote is
// put in the page as text (textContent), never as markup.

const KEY_ITEM = "openreel.key";
const TERMINAL = new Set(["completed", "failed"]);
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");

const session = { key: sessionStorage.getItem(KEY_ITEM), me: null, models: null };
let objectUrls = [];
let leaving = new AbortController(); // aborts the streams and fetches of the screen left

// ------------------------------------------------------------------ DOM and API helpers

function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child)); // strings become text nodes
  }
  return element;
}

function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", null, h("label", { for: id }, label), input, hint ? h("p", { class: "hint" }, hint) : null);
}

function say(message, isError = false) {
  notice.textContent = message || "";
  notice.className = isError ? "error" : "";
}

class ApiError extends Error {
  constructor(status, envelope) {
    const error = (envelope && envelope.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.param = error.param;
    this.code = error.code;
  }
}

async function api(path, { method = "GET", json, form, auth = true, raw = false, signal } = {}) {
  const headers = {};
  if (auth && session.key) headers.Authorization = `Bearer ${session.key}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, signal: signal || leaving.signal });
  if (!response.ok) {
    let envelope = null;
    try { envelope = await response.json(); } catch { /* not JSON */ }
    if (response.status === 401 && auth) signOut("Your key was not accepted; sign in again.");
    throw new ApiError(response.status, envelope);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

async function blobUrl(path) {
  const response = await api(path, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  objectUrls.push(url);
  return url;
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "—";
}

function badge(video) {
  return h("span", { class: `badge ${video.status}` }, video.status.replace("_", " "));
}

function can(permission) {
  return Boolean(session.me && session.me.permissions.includes(permission));
}

// A form whose submit runs `action`; errors are shown beside it, naming the field.
function actionForm(attrs, children, action) {
  const problem = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "card", ...attrs }, ...children, problem);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      await action(new FormData(form), form);
    } catch (error) {
      if (error.name === "AbortError") return;
      problem.textContent = error.param ? `${error.message} (${error.param})` : error.message;
    } finally {
      if (button) button.disabled = false;
    }
  });
  return form;
}

// ------------------------------------------------------------------ session

async function signIn(key) {
  session.key = key;
  try {
    session.me = await api("/v1/usage");
  } catch (error) {
    session.key = null;
    throw error;
  }
  sessionStorage.setItem(KEY_ITEM, key);
  session.models = null;
  renderNav();
}

function signOut(message) {
  session.key = null;
  session.me = null;
  sessionStorage.removeItem(KEY_ITEM);
  renderNav();
  location.hash = "#/signin";
  say(message || "Signed out.");
}

async function models() {
  if (!session.models) session.models = (await api("/v1/models")).data;
  return session.models;
}

function renderNav() {
  nav.replaceChildren();
  if (!session.me) {
    nav.append(h("a", { href: "#/signin" }, "Sign in"), h("a", { href: "#/access" }, "Request access"));
    return;
  }
  nav.append(h("a", { href: "#/create" }, "Create"), h("a", { href: "#/videos" }, "My videos"));
  if (can("verify")) nav.append(h("a", { href: "#/verify" }, "Verify"));
  if (can("administer")) nav.append(h("a", { href: "#/admin" }, "Operator"));
  nav.append(
    h("span", { class: "who" }, `${session.me.user} (${session.me.role})`),
    h("button", { type: "button", class: "secondary", onclick: () => signOut() }, "Sign out"),
  );
}

// ------------------------------------------------------------------ screens

function screenSignIn() {
  const key = h("input", { type: "password", name: "key", required: true, autocomplete: "off" });
  const signin = actionForm({ "aria-labelledby": "signin-title" }, [
    h("h2", { id: "signin-title" }, "With an API key"),
    field("API key", key, "Kept for this browser tab only; closing it signs you out."),
    h("button", { type: "submit" }, "Sign in"),
  ], async (data) => {
    await signIn(String(data.get("key")).trim());
    say(`Signed in as ${session.me.user}.`);
    location.hash = "#/create";
  });
  const redeem = actionForm({ "aria-labelledby": "redeem-title" }, [
    h("h2", { id: "redeem-title" }, "With an invitation code"),
    field("Invitation code", h("input", { type: "text", name: "code", required: true, autocomplete: "off" })),
    field("User name (one word)", h("input", { type: "text", name: "name", required: true, pattern: "\\S+" })),
    h("button", { type: "submit" }, "Redeem and sign in"),
  ], async (data, form) => {
    const code = String(data.get("code")).trim();
    const issued = await api(`/v1/invitations/${encodeURIComponent(code)}/redeem`, {
      method: "POST", json: { name: String(data.get("name")).trim() }, auth: false,
    });
    await signIn(issued.key);
    form.replaceChildren(
      h("h2", null, "Your API key"),
      h("p", null, "It is shown this once. Keep it somewhere safe to sign in again, or to use the API."),
      h("p", { class: "secret", "data-testid": "new-key" }, issued.key),
      h("a", { href: "#/create" }, "Continue"),
    );
  });
  return [h("h1", null, "Sign in"), h("div", { class: "row" }, signin, redeem),
          h("p", null, "No key or code yet? ", h("a", { href: "#/access" }, "Request access"), ".")];
}

function screenAccess() {
  return [
    h("h1", null, "Request access"),
    actionForm({ "aria-label": "Access request" }, [
      field("Name", h("input", { type: "text", name: "name", required: true, maxlength: 100 })),
      field("Email", h("input", { type: "email", name: "email", required: true, maxlength: 200 })),
      field("Role you ask for", h("select", { name: "wanted_role" },
        ["artist", "filmmaker", "red_teamer", "researcher"].map((r) => h("option", { value: r }, r.replace("_", " "))))),
      field("Why you want to test OpenReel", h("textarea", { name: "motivation", required: true, minlength: 10 })),
      h("button", { type: "submit" }, "Send request"),
    ], async (data, form) => {
      const sent = await api("/v1/access-requests", { method: "POST", json: Object.fromEntries(data), auth: false });
      form.replaceChildren(h("p", null, `Thank you. Request ${sent.id} is ${sent.status}; an operator will send you an invitation code.`));
    }),
  ];
}

async function screenCreate() {
  const available = await models();
  const model = h("select", { name: "model" }, available.map((m) => h("option", { value: m.id }, m.id)));
  const size = h("select", { name: "size" });
  const seconds = h("input", { type: "number", name: "seconds", step: "any", min: "0.1", required: true });
  const secondsHint = h("p", { class: "hint" });
  const image = h("input", { type: "file", name: "input_reference", accept: "image/png,image/jpeg,image/webp" });
  const imageField = field("Start from an image (optional)", image);
  function fit() {
    const chosen = available.find((m) => m.id === model.value);
    size.replaceChildren(...chosen.sizes.map((s) => h("option", { value: s, selected: s === chosen.default_size }, s)));
    seconds.max = chosen.max_seconds;
    seconds.value = Math.min(chosen.default_seconds, chosen.max_seconds);
    secondsHint.textContent = `Up to ${chosen.max_seconds} s for your role with this model.`;
    imageField.hidden = !chosen.modes.includes("image");
  }
  model.addEventListener("change", fit);
  fit();
  return [
    h("h1", null, "Create a video"),
    actionForm({ "aria-label": "New video" }, [
      field("Prompt", h("textarea", { name: "prompt", required: true, maxlength: 4000 }),
        "A short description is enough: it is rewritten into a detailed one, which the video page shows."),
      h("div", { class: "row" }, field("Model", model), field("Size", size),
        h("div", null, field("Seconds", seconds), secondsHint)),
      imageField,
      h("button", { type: "submit" }, "Create"),
    ], async (data) => {
      if (!image.files.length || imageField.hidden) data.delete("input_reference");
      const video = await api("/v1/videos", { method: "POST", form: data });
      location.hash = `#/video/${video.id}`;
    }),
  ];
}

async function screenVideos(params) {
  const after = params.get("after");
  const query = new URLSearchParams({ limit: "12" });
  if (after) query.set("after", after);
  const page = await api(`/v1/videos?${query}`);
  const list = h("ul", { class: "gallery", "aria-label": "Videos" });
  for (const video of page.data) {
    const thumb = h("img", { class: "thumb", alt: "" });
    if (video.status === "completed") {
      blobUrl(`/v1/videos/${video.id}/content?variant=thumbnail`).then((url) => { thumb.src = url; })
        .catch((error) => { thumb.alt = `No thumbnail: ${error.message}`; });
    }
    list.append(h("li", null, h("a", { href: `#/video/${video.id}` },
      thumb,
      h("p", { class: "prompt" }, video.prompt),
      h("p", null, badge(video), " ", `${video.seconds} s · ${video.size}`,
        video.moderation ? h("span", { class: "badge flagged" }, " flagged") : null),
    )));
  }
  const pager = h("p", null,
    after ? h("a", { href: "#/videos" }, "← Newest") : null, " ",
    page.has_more ? h("a", { href: `#/videos?after=${encodeURIComponent(page.last_id)}` }, "Older →") : null);
  return [h("h1", null, "Videos"), page.data.length ? list : h("p", null, "No videos yet. ", h("a", { href: "#/create" }, "Create one"), "."), pager];
}

function progressView(video) {
  const bar = h("progress", { max: "100", value: video.progress, "aria-label": "Progress" });
  const parts = [`${video.progress} %`];
  if (video.status === "queued" && video.queue_position) parts.push(`position ${video.queue_position} in the queue`);
  if (video.stage) parts.push(video.stage);
  if (video.windows && video.windows.total > 1) {
    parts.push(`window ${video.windows.current || video.windows.done} of ${video.windows.total}`);
  }
  if (video.eta_seconds !== null && video.eta_seconds !== undefined && !TERMINAL.has(video.status)) {
    parts.push(`about ${Math.max(0, Math.round(video.eta_seconds))} s left`);
  }
  return h("div", { "data-testid": "progress" }, bar, h("p", { class: "hint" }, parts.join(" · ")));
}

function recaptionView(video) {
  if (!video.revised_prompt && !video.recaption) return null;
  const notes = video.recaption ? [video.recaption.status, ...video.recaption.reasons] : [];
  return h("section", { "aria-labelledby": "rewrite-title" },
    h("h2", { id: "rewrite-title" }, "Revised prompt"),
    video.revised_prompt ? h("p", { class: "prompt", "data-testid": "revised-prompt" }, video.revised_prompt) : null,
    notes.length ? h("p", { class: "hint" }, `Recaption: ${notes.join(", ")}`) : null,
    video.recaption && video.recaption.detail ? h("p", { class: "hint" }, video.recaption.detail) : null);
}

async function followEvents(videoId, onVideo) {
  // EventSource cannot send an Authorization header, so the stream is read with fetch.
  let lastEventId = null;
  for (let tries = 0; tries < 30 && !leaving.signal.aborted; tries += 1) {
    try {
      const headers = { Authorization: `Bearer ${session.key}` };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      const response = await fetch(`/v1/videos/${videoId}/events`, { headers, signal: leaving.signal });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const colon = line.indexOf(":");
            event[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
          }
          if (event.id) lastEventId = event.id;
          if (event.data && event.event !== "error") {
            const video = JSON.parse(event.data);
            onVideo(video);
            if (TERMINAL.has(video.status)) return;
          }
        }
      }
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.status && error.status < 500 && error.status !== 429) { say(error.message, true); return; }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function screenVideo(videoId) {
  let video = await api(`/v1/videos/${videoId}`);
  const chosen = (await models()).find((m) => m.id === video.model);
  const status = h("p", { "data-testid": "status", "data-video-id": videoId });
  const progress = h("div");
  const rewrite = h("div");
  const player = h("div");
  const actions = h("div");

  function update(next) {
    video = next;
    status.replaceChildren(h("span", null, badge(video), " ",
      video.moderation ? h("span", { class: "badge flagged", "data-testid": "flagged" },
        `flagged by moderation: ${video.moderation.categories.join(", ")}`) : null,
      video.error ? h("span", { class: "error" }, ` ${video.error.code}: ${video.error.message}`) : null));
    progress.replaceChildren(progressView(video));
    rewrite.replaceChildren(...[recaptionView(video)].filter(Boolean));
    cancel.hidden = TERMINAL.has(video.status);
  }

  const cancel = h("button", { type: "button", class: "secondary", onclick: async () => {
    update(await api(`/v1/videos/${videoId}/cancel`, { method: "POST" }));
    say("Cancelled.");
  } }, "Cancel");

  async function showResult() {
    if (video.status !== "completed") return;
    const url = await blobUrl(`/v1/videos/${videoId}/content`);
    player.replaceChildren(
      h("video", { controls: true, src: url, "aria-label": `Video: ${video.prompt}`, "data-testid": "player", playsinline: true }),
      h("p", null, h("a", { href: url, download: `${videoId}.mp4` }, "Download MP4"),
        ` · ${video.duration} s · ${video.frames} frames · ${video.size}`),
    );
    actions.replaceChildren(...followUps());
  }

  function followUps() {
    const forms = [
      actionForm({ "aria-labelledby": "remix-title" }, [
        h("h2", { id: "remix-title" }, "Remix"),
        field("New prompt", h("textarea", { name: "prompt", required: true }, video.prompt)),
        h("button", { type: "submit" }, "Remix"),
      ], async (data) => {
        const made = await api(`/v1/videos/${videoId}/remix`, { method: "POST", json: { prompt: data.get("prompt") } });
        location.hash = `#/video/${made.id}`;
      }),
    ];
    if (chosen && chosen.modes.includes("extend")) {
      forms.push(actionForm({ "aria-labelledby": "extend-title" }, [
        h("h2", { id: "extend-title" }, "Extend"),
        field("What happens next", h("textarea", { name: "prompt", required: true }, video.prompt)),
        field("Seconds to add", h("input", { type: "number", name: "seconds", step: "any", min: "0.1", value: "1", required: true })),
        h("button", { type: "submit" }, "Extend"),
      ], async (data) => {
        const made = await api("/v1/videos/extensions", {
          method: "POST", json: { prompt: data.get("prompt"), seconds: String(data.get("seconds")), video: { id: videoId } },
        });
        location.hash = `#/video/${made.id}`;
      }));
    }
    if (can("report")) {
      forms.push(actionForm({ "aria-labelledby": "report-title" }, [
        h("h2", { id: "report-title" }, "Report a finding"),
        h("div", { class: "row" },
          field("Category", h("select", { name: "category" }, ["misinformation", "deepfake", "bypass", "other"].map((c) => h("option", { value: c }, c)))),
          field("Severity", h("select", { name: "severity" }, ["low", "medium", "high", "critical"].map((s) => h("option", { value: s, selected: s === "medium" }, s))))),
        field("What you found", h("textarea", { name: "description", required: true, minlength: 10 })),
        h("button", { type: "submit" }, "File report"),
      ], async (data, form) => {
        const filed = await api("/v1/reports", { method: "POST", json: { video_id: videoId, ...Object.fromEntries(data) } });
        form.replaceChildren(h("p", { "data-testid": "report-filed" }, `Report ${filed.id} filed.`));
      }));
    }
    let armed = false;
    const remove = h("button", { type: "button", class: "danger", onclick: async () => {
      if (!armed) { armed = true; remove.textContent = "Press again to delete for good"; return; }
      await api(`/v1/videos/${videoId}`, { method: "DELETE" });
      say("Deleted.");
      location.hash = "#/videos";
    } }, "Delete");
    forms.push(h("div", null, remove));
    return forms;
  }

  update(video);
  if (!TERMINAL.has(video.status)) {
    followEvents(videoId, (next) => {
      update(next);
      if (next.status === "completed") showResult().catch((error) => say(error.message, true));
    });
  } else {
    await showResult();
  }
  if (video.status === "failed") actions.replaceChildren(...followUps().slice(-1));
  return [
    h("h1", null, "Video"),
    h("section", { "aria-labelledby": "prompt-title" },
      h("h2", { id: "prompt-title" }, "Prompt"),
      h("p", { class: "prompt", "data-testid": "prompt" }, video.prompt),
      status, progress, cancel,
      h("p", { class: "hint" }, `${video.id} · ${video.model} · asked ${video.seconds} s · made ${when(video.created_at)}`)),
    rewrite, player, actions,
  ];
}

function definitions(object) {
  return h("dl", null, Object.entries(object).flatMap(([name, value]) => [
    h("dt", null, name),
    h("dd", null, value !== null && typeof value === "object" ? JSON.stringify(value) : String(value)),
  ]));
}

function screenVerify() {
  const result = h("div", { "data-testid": "verdict", "aria-live": "polite" });
  return [
    h("h1", null, "Verify a clip"),
    h("p", null, "Did OpenReel make it? The C2PA manifest, the invisible watermark and the fingerprint are checked, even after edits."),
    actionForm({ "aria-label": "Verify" }, [
      field("Clip or image", h("input", { type: "file", name: "file", required: true, accept: "video/*,image/*" })),
      h("button", { type: "submit" }, "Verify"),
    ], async (data) => {
      result.replaceChildren(h("p", null, "Checking…"));
      const verdict = await api("/v1/verify", { method: "POST", form: data });
      result.replaceChildren(h("section", null, h("h2", null, verdict.from_openreel ? "Made by OpenReel" : "Not from OpenReel"), h("p", { "data-testid": "verdict-summary" }, verdict.summary), definitions(verdict)));
    }),
    result,
  ];
}

function table(headings, rows) {
  return h("div", { class: "table-wrap" }, h("table", null,
    h("thead", null, h("tr", null, headings.map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", null, rows.length ? rows.map((cells) => h("tr", null, cells.map((cell) => h("td", null, cell))))
      : h("tr", null, h("td", { colspan: headings.length, class: "hint" }, "None.")))));
}

async function screenAdmin() {
  const [queued, running, users, keys, requests, audit, hooks] = await Promise.all([
    api("/v1/videos?status=queued&order=asc&limit=50"),
    api("/v1/videos?status=in_progress&limit=50"),
    api("/v1/admin/users"),
    api("/v1/admin/keys"),
    api("/v1/admin/access-requests?status=pending"),
    api("/v1/admin/audit?limit=30"),
    api("/v1/webhook_endpoints?limit=50"),
  ]);
  const decided = h("div", { "aria-live": "polite" });
  async function decide(id, approve) {
    const answer = await api(`/v1/admin/access-requests/${id}/${approve ? "approve" : "reject"}`, { method: "POST", json: {} });
    decided.replaceChildren(answer.invitation
      ? h("p", null, `Approved. Invitation code for them (shown once): `, h("span", { class: "secret", "data-testid": "invitation-code" }, answer.invitation.code))
      : h("p", null, `Request ${answer.id} ${answer.status}.`));
    document.getElementById(`request-${id}`)?.remove();
  }
  const deliveries = h("div", { "aria-live": "polite" });
  async function showDeliveries(endpoint) {
    const log = await api(`/v1/webhook_endpoints/${endpoint.id}/deliveries?limit=20`);
    deliveries.replaceChildren(h("h3", null, `Deliveries to ${endpoint.name}`), table(
      ["Event", "Video", "Status", "Attempts (status codes)", "Last error", "Created"],
      log.data.map((d) => [d.event_type + (d.test ? " (test)" : ""), d.video_id, d.status,
        d.attempts.map((a) => a.status_code ?? "—").join(", "), d.last_error || "", when(d.created_at)])));
  }
  const videoRows = (page) => page.data.map((v) => [h("a", { href: `#/video/${v.id}` }, v.id), v.prompt, v.status, `${v.progress} %`, v.queue_position ?? "", when(v.created_at)]);
  return [
    h("h1", null, "Operator"),
    h("section", { "aria-labelledby": "queue-title" }, h("h2", { id: "queue-title" }, `Queue: ${queued.data.length} queued, ${running.data.length} running`),
      table(["Video", "Prompt", "Status", "Progress", "Position", "Created"], [...videoRows(running), ...videoRows(queued)])),
    h("section", { "aria-labelledby": "requests-title" }, h("h2", { id: "requests-title" }, "Access requests"),
      requests.data.length ? h("ul", null, requests.data.map((r) => h("li", { id: `request-${r.id}` },
        h("strong", null, r.name), ` <${r.email}> asks for ${r.wanted_role}: `, h("span", { class: "prompt" }, r.motivation), " ",
        h("button", { type: "button", onclick: () => decide(r.id, true).catch((e) => say(e.message, true)) }, `Approve ${r.name}`), " ",
        h("button", { type: "button", class: "secondary", onclick: () => decide(r.id, false).catch((e) => say(e.message, true)) }, `Reject ${r.name}`))))
        : h("p", null, "None pending."), decided),
    h("section", { "aria-labelledby": "users-title" }, h("h2", { id: "users-title" }, "Users and keys"),
      table(["User", "Role", "Plan", "Created", "Status"], users.data.map((u) => [u.name, u.role, u.plan, when(u.created_at), u.status])),
      h("h3", null, "Keys"),
      table(["Key", "User", "Created", "Last used", "Status", ""], keys.data.map((k) => [k.prefix, k.user, when(k.created_at), when(k.last_used_at), k.status,
        k.status === "active" ? h("button", { type: "button", class: "secondary", onclick: async (event) => {
          try {
            await api(`/v1/admin/keys/${k.id}/revoke`, { method: "POST" });
            event.target.replaceWith("revoked");
          } catch (error) { say(error.message, true); }
        } }, `Revoke ${k.prefix}`) : ""]))),
    h("section", { "aria-labelledby": "hooks-title" }, h("h2", { id: "hooks-title" }, "Webhook endpoints"),
      table(["Name", "URL", "Owner", "Events", ""], hooks.data.map((e) => [e.name, e.url, `${e.owner.name} (${e.scope})`, e.event_types.join(", "),
        h("button", { type: "button", class: "secondary", onclick: () => showDeliveries(e).catch((x) => say(x.message, true)) }, `Deliveries of ${e.name}`)])),
      deliveries),
    h("section", { "aria-labelledby": "audit-title" }, h("h2", { id: "audit-title" }, "Audit log"),
      table(["When", "Action", "Who", "Target"], audit.data.map((a) => [when(a.at), a.action, (a.actor && (a.actor.name || a.actor.id)) || "", a.target ? `${a.target.type} ${a.target.id || ""}` : ""]))),
  ];
}

// ------------------------------------------------------------------ routing

async function route() {
  leaving.abort();
  leaving = new AbortController();
  objectUrls.forEach((url) => URL.revokeObjectURL(url));
  objectUrls = [];
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const open = new Set(["signin", "access"]);
  if (!session.me && !open.has(parts[0])) {
    parts.splice(0, parts.length, "signin");
  }
  const screens = {
    signin: () => screenSignIn(),
    access: () => screenAccess(),
    create: () => screenCreate(),
    videos: () => screenVideos(params),
    video: () => screenVideo(parts[1]),
    verify: () => screenVerify(),
    admin: () => screenAdmin(),
  };
  const screen = screens[parts[0]] || screens.create;
  const signal = leaving.signal;
  try {
    const content = await screen();
    if (signal.aborted) return;
    main.replaceChildren(...[content].flat().filter(Boolean));
  } catch (error) {
    if (error.name === "AbortError" || signal.aborted) return;
    main.replaceChildren(h("h1", null, "Something went wrong"), h("p", { class: "error", role: "alert" }, error.message));
  }
  main.focus();
}

async function start() {
  if (session.key) {
    try { await signIn(session.key); } catch { session.key = null; sessionStorage.removeItem(KEY_ITEM); }
  }
  renderNav();
  window.addEventListener("hashchange", () => { say(""); route(); });
  route();
}

start();
