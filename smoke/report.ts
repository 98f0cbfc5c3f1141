/** Human-readable rendering of a smoke report. */
import type { SmokeReport, TensorSpec } from './types';

const shape = (s: number[] | null) =>
  s === null
    ? '<unknown rank>'
    : `[${s.map(d => (d < 0 ? '?' : d)).join(', ')}]`;
const spec = (t: TensorSpec) => `${t.name}: ${t.dtype} ${shape(t.shape)}`;
function num(x: number | null): string {
  if (x === null) return '-';
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}

export function formatReport(r: SmokeReport): string {
  const lines: string[] = [];
  const where =
    r.mode === 'endpoint'
      ? `${r.model.endpoint} model ${r.model.name} (version ${r.model.version})`
      : r.model.path;
  lines.push(
    `tf-smoke ${r.passed ? 'PASSED' : 'FAILED'}${r.dryRun ? ' (dry run: signature only)' : ''}: ${where}`,
  );
  lines.push(`  format   ${r.model.format}`);
  lines.push(
    `  backend  ${r.backend}${r.nativePackage ? ` (${r.nativePackage})` : ''}, device ${r.device.kind}${r.device.name ? ` (${r.device.name})` : ''}`,
  );
  lines.push(`  signature '${r.signature.name}'`);
  for (const i of r.signature.inputs) lines.push(`    in   ${spec(i)}`);
  for (const o of r.signature.outputs) lines.push(`    out  ${spec(o)}`);
  for (const n of r.signature.notes ?? []) lines.push(`    note ${n}`);
  lines.push(
    `  inputs   ${r.inputs.map(i => `${i.name} ${shape(i.shape)} ${i.source}`).join(', ')} (seed ${r.seed})`,
  );
  const t = r.timings;
  lines.push(
    `  timing   load ${num(t.loadMs)} ms, warm-up ${num(t.warmupMs)} ms, ${t.runs} runs: p50 ${num(t.p50Ms)} ms, p95 ${num(t.p95Ms)} ms`,
  );
  for (const o of r.outputs) {
    lines.push(
      `  output   ${o.name} ${o.dtype} ${shape(o.shape)} min ${num(o.min)} max ${num(o.max)} mean ${num(o.mean)}${o.nonFinite ? ` non-finite ${o.nonFinite}` : ''}`,
    );
  }
  for (const c of r.checks)
    lines.push(
      `  ${c.passed ? 'PASS' : 'FAIL'} ${c.id.padEnd(15)} ${c.reason}`,
    );
  return lines.join('\n');
}
