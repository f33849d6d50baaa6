/**
 * Command intake: the dispatch table from decoded commands (`commands/{name}/tasks|cancel|estimate`,
 * see mqtt/connection.ts) to the task runner and the estimator. Estimates are answered on
 * `sensors/{name}/estimates/{requestId}`; an estimate that fails is answered with its error.
 */
import type { Logger } from 'pino';
import type { Body } from '@pcapmesh/shared/wire';
import type { AgentCommand } from '../mqtt/connection.js';
import type { EstimateAnswer } from './estimate.js';
import type { TaskRunner } from './runner.js';

export interface IntakeParts {
  runner: Pick<TaskRunner, 'handleTask' | 'handleCancel'>;
  estimator: { estimate(command: Extract<AgentCommand, { kind: 'estimate' }>['message']): Promise<EstimateAnswer> };
  answer: (body: Body<'estimate'>) => void;
  logger: Logger;
}

export function commandHandler(parts: IntakeParts): (command: AgentCommand) => void {
  const { runner, estimator, answer, logger } = parts;
  return (command) => {
    switch (command.kind) {
      case 'tasks':
        runner.handleTask(command.message);
        return;
      case 'cancel':
        runner.handleCancel(command.message);
        return;
      case 'estimate': {
        const { requestId } = command.message;
        const started = Date.now();
        estimator.estimate(command.message).then(
          (result) => {
            answer({ requestId, ...result });
            logger.info({ request: requestId, files: result.files, ms: Date.now() - started, error: result.error }, 'tasks: estimate answered');
          },
          (err: unknown) => {
            answer({
              requestId,
              files: 0,
              bytesInWindow: 0,
              indexedFiles: 0,
              matchUpperBound: null,
              bytesToRead: 0,
              error: `estimate failed: ${(err as Error).message}`,
            });
            logger.warn({ request: requestId, err }, 'tasks: estimate failed');
          },
        );
      }
    }
  };
}
