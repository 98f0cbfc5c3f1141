/** Orders items by `path`, comparing UTF-16 code units (as git does for ASCII paths), not by locale. */
export function comparePaths(a: { path: string }, b: { path: string }): number {
  if (a.path < b.path) return -1;
  if (a.path > b.path) return 1;
  return 0;
}
