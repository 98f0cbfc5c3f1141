/**
 * A small client for the scaffolder REST API (`/api/scaffolder/v2`), usable against
 * any Backstage backend. It depends on fetch and the catalog model's ref parser.
 */
import { parseEntityRef } from '@backstage/catalog-model';

export interface TaskEvent {
  id: number;
  type: 'log' | 'completion' | 'cancelled' | 'recover';
  createdAt: string;
  body: {
    message: string;
    stepId?: string;
    status?:
      'open' | 'processing' | 'completed' | 'failed' | 'cancelled' | 'skipped';
    output?: Record<string, unknown>;
    error?: { name?: string; message: string };
  };
}

export interface TaskOutput {
  links?: Array<{
    title?: string;
    url?: string;
    entityRef?: string;
    icon?: string;
  }>;
  text?: Array<{ title?: string; content?: string }>;
  [key: string]: unknown;
}

export interface TaskResult {
  taskId: string;
  status: 'completed' | 'failed' | 'cancelled';
  output: TaskOutput;
  /** The step that failed and its error, when the task failed. */
  failure?: { stepId?: string; message: string };
}

export class ScaffolderClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  private async request(path: string, init: RequestInit = {}): Promise<any> {
    const response = await fetch(
      `${this.baseUrl.replace(/\/+$/, '')}/api/scaffolder/v2${path}`,
      {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...init.headers,
        },
      },
    );
    const text = await response.text();
    if (!response.ok) {
      let message = text;
      try {
        message = JSON.parse(text).error?.message ?? text;
      } catch {
        // keep the raw text
      }
      throw new Error(
        `${init.method ?? 'GET'} ${path} failed with ${response.status}: ${message}`,
      );
    }
    return text ? JSON.parse(text) : undefined;
  }

  async createTask(
    templateRef: string,
    values: Record<string, unknown>,
  ): Promise<string> {
    const body = await this.request('/tasks', {
      method: 'POST',
      body: JSON.stringify({ templateRef, values }),
    });
    return body.id;
  }

  /** The template's parameter pages as the scaffolder form receives them. */
  async parameterSchema(templateRef: string): Promise<{
    title: string;
    steps: Array<{ title: string; schema: Record<string, unknown> }>;
  }> {
    const { kind, namespace, name } = parseEntityRef(templateRef, {
      defaultKind: 'template',
    });
    const path = [namespace, kind, name].map(encodeURIComponent).join('/');
    return this.request(`/templates/${path}/parameter-schema`);
  }

  async retryTask(taskId: string): Promise<void> {
    await this.request(`/tasks/${encodeURIComponent(taskId)}/retry`, {
      method: 'POST',
      body: '{}',
    });
  }

  async getTask(
    taskId: string,
  ): Promise<{ id: string; status: string; spec: unknown }> {
    return this.request(`/tasks/${encodeURIComponent(taskId)}`);
  }

  /** Long-polls the task's events, calling `onEvent` for each, until the task completes. */
  async follow(
    taskId: string,
    onEvent: (event: TaskEvent) => void,
    signal?: AbortSignal,
  ): Promise<TaskResult> {
    let after: number | undefined;
    let failure: TaskResult['failure'];
    for (;;) {
      signal?.throwIfAborted();
      const query = after === undefined ? '' : `?after=${after}`;
      const events: TaskEvent[] = await this.request(
        `/tasks/${encodeURIComponent(taskId)}/events${query}`,
        { signal },
      );
      for (const event of events) {
        after = event.id;
        onEvent(event);
        if (event.type === 'log' && event.body.status === 'failed') {
          failure = { stepId: event.body.stepId, message: event.body.message };
        }
        if (event.type === 'completion' || event.type === 'cancelled') {
          const task = await this.getTask(taskId);
          const status = task.status as TaskResult['status'];
          if (event.body.error) {
            failure = {
              stepId: failure?.stepId,
              message: event.body.error.message,
            };
          }
          return {
            taskId,
            status,
            output: (event.body.output ?? {}) as TaskOutput,
            failure: status === 'completed' ? undefined : failure,
          };
        }
      }
    }
  }
}

/**
 * A token for a local dev backend with guest sign-in; undefined when the backend
 * offers none (then pass a token yourself).
 */
export async function guestToken(baseUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(
      `${baseUrl.replace(/\/+$/, '')}/api/auth/guest/refresh`,
    );
    if (!response.ok) return undefined;
    const body = (await response.json()) as {
      backstageIdentity?: { token?: string };
    };
    return body.backstageIdentity?.token;
  } catch {
    return undefined;
  }
}
