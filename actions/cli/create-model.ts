#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { parseEntityRef } from '@backstage/catalog-model';
import { ScaffolderClient, guestToken, type TaskEvent, type TaskOutput } from './scaffolderClient';

const usage = `Usage: create-model --name <name> --owner <group ref> [options]

Runs the "Create new model" template through the scaffolder API and follows it step by step.

Options:
  --name <name>             model name (DNS-1123 label), required
  --owner <ref>             owning group, e.g. group:default/ml-platform, required
  --description <text>      what the model does (default: "A TensorFlow model")
  --system <ref>            system the model belongs to
  --lifecycle <stage>       experimental | production | deprecated (default: experimental)
  --set key=value           any other template parameter (repeatable; value parsed as JSON when it parses)
  --template <ref>          template to run (default: template:default/create-model)
  --backstage-url <url>     Backstage backend (default: $BACKSTAGE_URL or http://localhost:7007)
  --app-url <url>           Backstage frontend, for entity links (default: $BACKSTAGE_APP_URL or http://localhost:3000)
  --quiet                   print only step changes and the result
  -h, --help                this text

The token comes from $BACKSTAGE_TOKEN; without it, guest sign-in is tried (dev backends).`;

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      owner: { type: 'string' },
      description: { type: 'string' },
      system: { type: 'string' },
      lifecycle: { type: 'string' },
      set: { type: 'string', multiple: true },
      template: { type: 'string' },
      'backstage-url': { type: 'string' },
      'app-url': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out.write(`${usage}\n`);
    return 0;
  }
  if (!values.name || !values.owner) {
    err.write(`--name and --owner are required\n\n${usage}\n`);
    return 2;
  }
  const backstageUrl = values['backstage-url'] ?? process.env.BACKSTAGE_URL ?? 'http://localhost:7007';
  const appUrl = (values['app-url'] ?? process.env.BACKSTAGE_APP_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  const token = process.env.BACKSTAGE_TOKEN || (await guestToken(backstageUrl));
  const parameters: Record<string, unknown> = {
    name: values.name,
    owner: values.owner,
    description: values.description ?? 'A TensorFlow model',
    lifecycle: values.lifecycle ?? 'experimental',
    system: values.system ?? '',
  };
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      err.write(`--set expects key=value, got "${pair}"\n`);
      return 2;
    }
    parameters[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
  }

  const client = new ScaffolderClient(backstageUrl, token);
  const templateRef = values.template ?? 'template:default/create-model';
  let taskId: string;
  try {
    taskId = await client.createTask(templateRef, parameters);
  } catch (e) {
    err.write(`Could not start ${templateRef} on ${backstageUrl}: ${(e as Error).message}\n`);
    return 1;
  }
  out.write(`Task ${taskId} started on ${backstageUrl}\n`);

  const onEvent = (event: TaskEvent) => {
    const { stepId, status } = event.body;
    // task logs carry the backend logger's colours
    const message = event.body.message.replace(/\x1b\[[0-9;]*m/g, '');
    if (event.type !== 'log') return;
    if (status) out.write(`[${stepId ?? 'task'}] ${status}\n`);
    else if (!values.quiet) out.write(`  ${stepId ? `${stepId}: ` : ''}${message}\n`);
  };
  const result = await client.follow(taskId, onEvent);
  if (result.status !== 'completed') {
    err.write(`Task ${taskId} ${result.status}${result.failure?.stepId ? ` at step "${result.failure.stepId}"` : ''}: ${result.failure?.message ?? 'no error message'}\n`);
    return 1;
  }
  out.write(`Task ${taskId} completed.\n`);
  printOutput(result.output, appUrl, out);
  return 0;
}

function printOutput(output: TaskOutput, appUrl: string, out: NodeJS.WritableStream) {
  for (const link of output.links ?? []) {
    let url = link.url;
    if (!url && link.entityRef) {
      const ref = parseEntityRef(link.entityRef);
      url = `${appUrl}/catalog/${ref.namespace}/${ref.kind.toLocaleLowerCase('en-US')}/${ref.name}`;
    }
    out.write(`  ${link.title ?? 'link'}: ${url ?? ''}${link.entityRef ? ` (${link.entityRef})` : ''}\n`);
  }
  for (const text of output.text ?? []) {
    out.write(`  ${text.title ?? ''}\n${text.content ?? ''}\n`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    code => process.exit(code),
    error => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
