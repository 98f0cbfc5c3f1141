#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { parseEntityRef } from '@backstage/catalog-model';
import {
  ScaffolderClient,
  guestToken,
  type TaskEvent,
  type TaskOutput,
} from './scaffolderClient';
import {
  applyParameterDefaults,
  missingRequired,
  type FilledDefault,
  type JsonSchema,
} from './defaults';

const FLAGS = [
  'name',
  'owner',
  'description',
  'system',
  'lifecycle',
  'model',
] as const;

const usage = `Usage: create-model --name <name> --owner <group ref> [options]
       create-model --template template:default/provision-endpoint --model <resource ref> [options]

Runs a template ("Create new model" by default) through the scaffolder API and follows it step by step.
Parameters you leave out get the template's defaults exactly as the wizard fills them in (including
those of the branch a choice selects, e.g. sizing=preset -> size=small); the values filled in are printed.

Options:
  --name <name>             model name (DNS-1123 label)
  --owner <ref>             owning group, e.g. group:default/ml-platform
  --description <text>      what the model does (default: "A TensorFlow model")
  --system <ref>            system the model belongs to
  --lifecycle <stage>       experimental | production | deprecated
  --model <ref>             the model to serve (provision-endpoint), e.g. resource:default/fraud-detector-model
  --set key=value           any other template parameter (repeatable; value parsed as JSON when it parses)
  --template <ref>          template to run (default: template:default/create-model)
  --backstage-url <url>     Backstage backend (default: $BACKSTAGE_URL or http://localhost:7007)
  --app-url <url>           Backstage frontend, for entity links (default: $BACKSTAGE_APP_URL or the backend URL,
                            which serves the app in the dev setup)
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

export async function main(
  argv: string[],
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      owner: { type: 'string' },
      description: { type: 'string' },
      system: { type: 'string' },
      lifecycle: { type: 'string' },
      model: { type: 'string' },
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
  const backstageUrl = (
    values['backstage-url'] ??
    process.env.BACKSTAGE_URL ??
    'http://localhost:7007'
  ).replace(/\/+$/, '');
  const appUrl = (
    values['app-url'] ??
    process.env.BACKSTAGE_APP_URL ??
    backstageUrl
  ).replace(/\/+$/, '');
  const token = process.env.BACKSTAGE_TOKEN || (await guestToken(backstageUrl));
  const given: Record<string, unknown> = {};
  for (const key of FLAGS) {
    if (values[key] !== undefined) given[key] = values[key];
  }
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      err.write(`--set expects key=value, got "${pair}"\n`);
      return 2;
    }
    given[pair.slice(0, eq)] = parseValue(pair.slice(eq + 1));
  }

  const client = new ScaffolderClient(backstageUrl, token);
  const templateRef = values.template ?? 'template:default/create-model';
  let steps: JsonSchema[];
  try {
    steps = (await client.parameterSchema(templateRef)).steps.map(
      s => s.schema as JsonSchema,
    );
  } catch (e) {
    err.write(
      `Could not read the parameters of ${templateRef} on ${backstageUrl}: ${(e as Error).message}\n`,
    );
    return 1;
  }
  const hasParameter = (key: string) =>
    steps.some(s => s.properties && key in s.properties);
  const cliDefaults: FilledDefault[] = [];
  if (given.description === undefined && hasParameter('description')) {
    given.description = 'A TensorFlow model';
    cliDefaults.push({ path: 'description', value: given.description });
  }
  const { values: parameters, filled } = applyParameterDefaults(steps, given);
  const missing = missingRequired(steps, parameters);
  if (missing.length > 0) {
    const how = missing
      .map(m =>
        (FLAGS as readonly string[]).includes(m) ? `--${m}` : `--set ${m}=...`,
      )
      .join(', ');
    err.write(
      `${templateRef} requires ${missing.join(', ')}; pass ${how}\n\n${usage}\n`,
    );
    return 2;
  }
  const shown = [
    ...filled.map(f => ({ ...f, from: 'template default' })),
    ...cliDefaults.map(f => ({ ...f, from: 'CLI default' })),
  ];
  if (shown.length > 0) {
    out.write(`Filled in (not given on the command line):\n`);
    for (const f of shown)
      out.write(`  ${f.path} = ${JSON.stringify(f.value)} (${f.from})\n`);
  }

  let taskId: string;
  try {
    taskId = await client.createTask(templateRef, parameters);
  } catch (e) {
    err.write(
      `Could not start ${templateRef} on ${backstageUrl}: ${(e as Error).message}\n`,
    );
    return 1;
  }
  out.write(
    `Task ${taskId} started on ${backstageUrl}\n  Task page: ${appUrl}/create/tasks/${encodeURIComponent(taskId)}\n`,
  );

  const onEvent = (event: TaskEvent) => {
    const { stepId, status } = event.body;
    // task logs carry the backend logger's colours
    // eslint-disable-next-line no-control-regex -- strips ANSI colour escapes (ESC [ ... m) on purpose
    const message = event.body.message.replace(/\x1b\[[0-9;]*m/g, '');
    if (event.type !== 'log') return;
    if (status) out.write(`[${stepId ?? 'task'}] ${status}\n`);
    else if (!values.quiet)
      out.write(`  ${stepId ? `${stepId}: ` : ''}${message}\n`);
  };
  const result = await client.follow(taskId, onEvent);
  if (result.status !== 'completed') {
    err.write(
      `Task ${taskId} ${result.status}${result.failure?.stepId ? ` at step "${result.failure.stepId}"` : ''}: ${result.failure?.message ?? 'no error message'}\n`,
    );
    return 1;
  }
  out.write(`Task ${taskId} completed.\n`);
  printOutput(result.output, appUrl, out);
  return 0;
}

function printOutput(
  output: TaskOutput,
  appUrl: string,
  out: NodeJS.WritableStream,
) {
  for (const link of output.links ?? []) {
    let url = link.url;
    if (!url && link.entityRef) {
      const ref = parseEntityRef(link.entityRef);
      url = `${appUrl}/catalog/${ref.namespace}/${ref.kind.toLocaleLowerCase('en-US')}/${ref.name}`;
    }
    out.write(
      `  ${link.title ?? 'link'}: ${url ?? ''}${link.entityRef ? ` (${link.entityRef})` : ''}\n`,
    );
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
