// Files in a call's chat, straight over HTTP from inside a page (page.evaluate), as a
// script there could: what the server answers, whatever the page shows.

/**
 * In the page: `POST /calls/files` with the bytes (`base64`), the name, and the key as
 * `Authorization: Bearer` when there is one. Returns the status and the JSON answer.
 * @param {{key: string | null, name: string, base64: string}} file
 */
export async function postFile({ key, name, base64 }) {
  const headers = { 'X-File-Name': encodeURIComponent(name) };
  if (key) headers.Authorization = `Bearer ${key}`;
  const body = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const res = await fetch('/calls/files', { method: 'POST', headers, body });
  return { status: res.status, body: await res.json().catch(() => null) };
}
