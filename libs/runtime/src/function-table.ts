import type { EventHubHandler, HttpHandler, HttpMethod, TimerHandler } from '@azure/functions';

/** One row of a Function App's table of functions: what triggers it and the handler that runs. */
export type FunctionDefinition =
  | {
      name: string;
      trigger: {
        type: 'timer';
        /** NCRONTAB, six fields with seconds first, UTC: `0 *\/15 * * * *`. */
        schedule: string;
        runOnStartup?: boolean;
      };
      handler: TimerHandler;
    }
  | {
      name: string;
      trigger: { type: 'http'; route: string; methods: HttpMethod[]; authLevel: 'anonymous' | 'function' };
      handler: HttpHandler;
    }
  | {
      name: string;
      trigger: {
        type: 'eventHub';
        eventHubName: string;
        /** The app setting holding the connection (string, or `<name>__fullyQualifiedNamespace`). */
        connection: string;
        consumerGroup?: string;
      };
      handler: EventHubHandler;
    };

/** A Function App: its name and its functions. The Azure host and the local host read the same table. */
export interface FunctionApp {
  name: string;
  functions: readonly FunctionDefinition[];
}

type Of<T extends FunctionDefinition['trigger']['type']> = Extract<
  FunctionDefinition,
  { trigger: { type: T } }
>;

/** Typed constructors, so a handler's parameters follow from its trigger. */
export const timerFunction = (
  name: string,
  trigger: Omit<Of<'timer'>['trigger'], 'type'>,
  handler: TimerHandler,
): Of<'timer'> => ({
  name,
  trigger: { type: 'timer', ...trigger },
  handler,
});
export const httpFunction = (
  name: string,
  trigger: Omit<Of<'http'>['trigger'], 'type'>,
  handler: HttpHandler,
): Of<'http'> => ({
  name,
  trigger: { type: 'http', ...trigger },
  handler,
});
export const eventHubFunction = (
  name: string,
  trigger: Omit<Of<'eventHub'>['trigger'], 'type'>,
  handler: EventHubHandler,
): Of<'eventHub'> => ({ name, trigger: { type: 'eventHub', ...trigger }, handler });
