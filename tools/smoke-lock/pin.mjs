// Turns a lockfile made with `npm install --package-lock-only` against a packed tarball of this module
// into the skeleton's committed lockfile: the module is then fetched from the registry by name@version
// and checked against the tarball's integrity. Run by tools/smoke-lock/generate.sh at release.
import fs from 'node:fs';
const [lockFile, pkgFile, outDir] = process.argv.slice(2);
const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
const key = `node_modules/${pkg.name}`;
lock.name = 'model-smoke';
lock.packages[''].name = 'model-smoke';
lock.packages[''].dependencies[pkg.name] = pkg.version;
delete lock.packages[key].resolved;
const manifest = {
  name: 'model-smoke',
  private: true,
  description:
    "The GPU smoke job's tools: npm ci installs them from package-lock.json",
  dependencies: lock.packages[''].dependencies,
};
fs.writeFileSync(
  `${outDir}/package.json`,
  JSON.stringify(manifest, null, 2) + '\n',
);
fs.writeFileSync(
  `${outDir}/package-lock.json`,
  JSON.stringify(lock, null, 2) + '\n',
);
