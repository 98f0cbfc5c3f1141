import fs from 'node:fs';
import path from 'node:path';

/** The package root (the folder holding our package.json), from source or from dist/. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8'));
      if (
        pkg.name === '@ml-platform/plugin-scaffolder-backend-module-tensorflow'
      )
        return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(
        'cannot find the package root of the tensorflow scaffolder module',
      );
    dir = parent;
  }
}
