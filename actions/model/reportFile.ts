/** Writing the smoke report into the workspace: only inside it, never through a link, atomically. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NotAllowedError } from '@backstage/errors';
import { isInside } from '../../smoke/modelfs';

/**
 * Writes `data` to `file` (already checked lexically against `root`): its folder, links resolved,
 * must be inside the workspace; the temporary file is created exclusively with a random name, never
 * following a link; the final rename replaces a link at `file` rather than writing through it.
 */
export async function writeFileInside(
  root: string,
  file: string,
  data: string,
): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const [realRoot, realDir] = await Promise.all([
    fs.promises.realpath(root),
    fs.promises.realpath(dir),
  ]);
  if (!isInside(realRoot, realDir))
    throw new NotAllowedError(
      `reportPath: the folder ${path.relative(root, dir)} is a link to outside the workspace`,
    );
  const tmp = path.join(
    realDir,
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const fh = await fs.promises.open(
    tmp,
    fs.constants.O_WRONLY |
      fs.constants.O_CREAT |
      fs.constants.O_EXCL |
      (fs.constants.O_NOFOLLOW ?? 0),
    0o644,
  );
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
  try {
    await fs.promises.rename(tmp, path.join(realDir, path.basename(file)));
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}
