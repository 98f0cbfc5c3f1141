/**
 * A value built on first use and kept. Heavy libraries (manifest validators, Octokit,
 * Handlebars) load through it, so loading the module in a backend stays cheap and only the
 * step that needs a library pays for it.
 */
export function lazy<T>(load: () => T): () => T {
  let value: T | undefined;
  let loaded = false;
  return () => {
    if (!loaded) {
      value = load();
      loaded = true;
    }
    return value as T;
  };
}
