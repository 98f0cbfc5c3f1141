/**
 * Model URLs may carry credentials (user:password@, ?token=…, #access_token=…). What is shown in logs,
 * audit events, outputs, errors and the committed report keeps scheme, host and path only.
 */

const MARK = '…redacted';

/** `https://user:pw@host/m/model.json?sig=x#y` → `https://host/m/model.json?…redacted`. Not a URL: unchanged. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const hidden = !!(u.username || u.password || u.search || u.hash);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return hidden ? `${u.toString()}?${MARK}` : u.toString();
}

/** Every absolute URL inside a text (an error message, a log line) redacted. */
export function redactText(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>]+/gi, m => {
    // Keep trailing punctuation that ends a sentence out of the URL.
    const tail = /[).,;:]+$/.exec(m)?.[0] ?? '';
    const core = tail ? m.slice(0, -tail.length) : m;
    return redactUrl(core) + tail;
  });
}

/** The same error with its message (and stack) redacted; keeps the class so callers can tell it apart. */
export function redactError<E>(e: E): E {
  if (e instanceof Error) {
    const clean = redactText(e.message);
    if (clean !== e.message) {
      if (e.stack) e.stack = e.stack.split(e.message).join(clean);
      e.message = clean;
    }
  }
  return e;
}
