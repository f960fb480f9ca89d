// The proxy's web page: sign in with an API key, send a request, see tokens shaded by probability and usage.
"use strict";

let apiKey = sessionStorage.getItem("mercuryApiKey") || "";
const $ = (id) => document.getElementById(id);

async function call(method, path, body) {
  const options = { method, headers: { Authorization: "Bearer " + apiKey } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
  return data;
}

async function signIn(event) {
  if (event) event.preventDefault();
  if (event) apiKey = $("api-key").value.trim();
  try {
    const account = await call("GET", "/api/account");
    sessionStorage.setItem("mercuryApiKey", apiKey);
    $("who").textContent = account.description || "signed in";
    $("signin").hidden = true;
    $("workspace").hidden = false;
    await loadModels();
    showUsage(account);
  } catch (error) {
    $("signin-error").textContent = error.message;
  }
}

async function loadModels() {
  const info = await call("GET", "/api/general_info");
  const select = $("model");
  select.innerHTML = "";
  for (const model of info.all_models.filter((m) => m.available)) {
    const option = document.createElement("option");
    option.value = option.textContent = model.name;
    select.appendChild(option);
  }
}

function showUsage(account) {
  const table = $("usage-table");
  table.innerHTML = "<thead><tr><th>group</th><th>period</th><th>used</th><th>quota</th></tr></thead>";
  const body = table.createTBody();
  for (const [group, usages] of Object.entries(account.usages || {})) {
    for (const [granularity, usage] of Object.entries(usages)) {
      const row = body.insertRow();
      const quota = usage.quota === null ? "no limit" : usage.quota;
      for (const text of [group, granularity + " " + (usage.period || ""), usage.used, quota]) {
        row.insertCell().textContent = text;
      }
    }
  }
}

function shade(token) {
  const span = document.createElement("span");
  const p = Math.exp(token.logprob);
  span.className = "token";
  span.textContent = token.text;
  span.style.backgroundColor = `rgba(46, 125, 50, ${p.toFixed(3)})`;
  const top = Object.entries(token.top_logprobs || {}).map(([t, lp]) => `${JSON.stringify(t)}: ${Math.exp(lp).toFixed(3)}`);
  span.title = `p = ${p.toFixed(3)}` + (top.length ? "\n" + top.join("\n") : "");
  return span;
}

function showResult(result) {
  const results = $("results");
  results.innerHTML = "";
  result.completions.forEach((completion, index) => {
    const box = document.createElement("div");
    box.className = "completion";
    box.dataset.index = index;
    if (completion.tokens.length) completion.tokens.forEach((t) => box.appendChild(shade(t)));
    else box.textContent = completion.text;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `logprob ${completion.logprob.toFixed(3)}, finish: ${completion.finish_reason}` +
      (result.cached ? ", cached" : "");
    results.appendChild(box);
    results.appendChild(meta);
  });
}

async function send(event) {
  event.preventDefault();
  $("request-error").textContent = "";
  const stops = $("stop").value.split(",").map((s) => s.trim()).filter((s) => s);
  const request = {
    model: $("model").value,
    prompt: $("prompt").value,
    temperature: Number($("temperature").value),
    max_tokens: Number($("max-tokens").value),
    num_completions: Number($("num-completions").value),
    top_k_per_token: Number($("top-k").value),
    stop_sequences: stops,
  };
  try {
    const result = await call("POST", "/api/request", { request });
    if (!result.success) throw new Error(result.error);
    showResult(result);
    showUsage(await call("GET", "/api/account"));
  } catch (error) {
    $("request-error").textContent = error.message;
  }
}

$("signin-form").addEventListener("submit", signIn);
$("request-form").addEventListener("submit", send);
if (apiKey) signIn();
