import type { AuditorService } from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';

/** The parts of a scaffolder action context that identify who did what. */
export interface AuditSubject {
  user?: { ref?: string };
  task: { id: string };
  templateInfo?: { entityRef?: string };
}

export interface AuditedStep {
  /** Stable kebab-case id per kind of change, e.g. `model-project-created`. */
  eventId: string;
  severityLevel?: 'low' | 'medium' | 'high' | 'critical';
  /** Refs and names of what is created or changed; never secrets. */
  meta?: JsonObject;
}

export function auditMeta(
  subject: AuditSubject,
  meta: JsonObject = {},
): JsonObject {
  return {
    initiator: subject.user?.ref ?? 'unknown',
    taskId: subject.task.id,
    template: subject.templateInfo?.entityRef ?? null,
    ...meta,
  };
}

/**
 * Runs one side effect inside an audit event: `initiated` before, `succeeded` or
 * `failed` after. If the auditor cannot record the start, the side effect never runs.
 */
export async function audited<T>(
  auditor: AuditorService,
  subject: AuditSubject,
  step: AuditedStep,
  effect: () => Promise<T>,
  resultMeta?: (result: T) => JsonObject,
): Promise<T> {
  const event = await auditor.createEvent({
    eventId: step.eventId,
    severityLevel: step.severityLevel ?? 'medium',
    meta: auditMeta(subject, step.meta),
  });
  let result: T;
  try {
    result = await effect();
  } catch (error) {
    await event.fail({
      error: error as Error,
      meta: auditMeta(subject, step.meta),
    });
    throw error;
  }
  await event.success({
    meta: auditMeta(subject, { ...step.meta, ...(resultMeta?.(result) ?? {}) }),
  });
  return result;
}
