// Calls to the daemon's JSON endpoints. The session travels in an HttpOnly
// cookie the browser sends by itself; writes add the CSRF token.

let csrf = null;
let session = null;

// The session's CSRF token, and its name in the history of its writes.
export function setSession(answer) {
  csrf = answer.csrf;
  session = answer.session;
}

export function mySession() {
  return session;
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body || {};
  }
}

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent('session-lost'));
    const message = (body && body.error) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, body);
  }
  return body;
}

export async function get(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'the daemon does not answer; is it still running? (memgraphd status)');
  }
  return answer(response);
}

export async function post(path, body) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'the daemon does not answer; is it still running? (memgraphd status)');
  }
  return answer(response);
}
