/** npm run docs:actions: writes docs/actions.md from the actions the module registers. */
import fs from 'node:fs';
import path from 'node:path';
import { collectModuleActions, renderActionsMarkdown } from './actionsDoc';

collectModuleActions().then(
  actions => {
    const target = path.resolve(__dirname, '../../docs/actions.md');
    fs.writeFileSync(target, renderActionsMarkdown(actions));
    console.log(
      `wrote ${path.relative(process.cwd(), target)}: ${actions.map(a => a.id).join(', ')}`,
    );
    process.exit(0);
  },
  error => {
    console.error(error);
    process.exit(1);
  },
);
