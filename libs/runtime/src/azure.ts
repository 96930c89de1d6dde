import functions from '@azure/functions';
import type { FunctionApp } from './function-table.js';

/**
 * Registers a Function App's table with the Azure Functions host. Outside the host, @azure/functions
 * switches to test mode and skips each registration with a warning (AZURE-NOTES §1), which is harmless.
 */
export function registerInAzure(functionApp: FunctionApp): void {
  const { app } = functions;
  for (const fn of functionApp.functions) {
    switch (fn.trigger.type) {
      case 'timer':
        app.timer(fn.name, {
          schedule: fn.trigger.schedule,
          runOnStartup: fn.trigger.runOnStartup ?? false,
          handler: fn.handler as never,
        });
        break;
      case 'http':
        app.http(fn.name, {
          route: fn.trigger.route,
          methods: fn.trigger.methods,
          authLevel: fn.trigger.authLevel,
          handler: fn.handler as never,
        });
        break;
      case 'eventHub':
        // dataType 'string' lets non-JSON bodies through to the handler (which dead-letters them) instead
        // of failing the binding for the whole batch; the typed options do not know the field yet.
        app.eventHub(fn.name, {
          eventHubName: fn.trigger.eventHubName,
          connection: fn.trigger.connection,
          consumerGroup: fn.trigger.consumerGroup ?? '$Default',
          cardinality: 'many',
          handler: fn.handler as never,
          ...({ dataType: 'string' } as object),
        });
        break;
    }
  }
}
