import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as pulumi from '@pulumi/pulumi';
import { BUILT_IN_ROLES, type Grant, type Principal, type RoleName, type ScopeName } from '../access-plan.js';

export interface PrincipalRef {
  principalId: pulumi.Input<string>;
  principalType: 'ServicePrincipal' | 'Group';
}

export const roleDefinitionId = (
  subscriptionId: pulumi.Input<string>,
  role: RoleName,
): pulumi.Output<string> =>
  pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${BUILT_IN_ROLES[role]}`;

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** A stable logical name for one grant. */
export const grantName = (grant: Pick<Grant, 'principal' | 'role' | 'scope'>): string =>
  `ra-${slug(grant.principal)}-${slug(grant.role)}-${slug(grant.scope)}`;

/**
 * One role assignment. The principal type is always given, so that Azure does not look the principal up
 * in Entra ID, which fails for identities created seconds earlier.
 */
export function assignRole(
  grant: Grant,
  args: { principal: PrincipalRef; scope: pulumi.Input<string>; subscriptionId: pulumi.Input<string> },
  parent: pulumi.Resource,
): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    grantName(grant),
    {
      principalId: args.principal.principalId,
      principalType: args.principal.principalType,
      roleDefinitionId: roleDefinitionId(args.subscriptionId, grant.role),
      scope: args.scope,
      description: `${grant.principal}: ${grant.why}`,
    },
    { parent },
  );
}

export interface AccessControlArgs {
  subscriptionId: pulumi.Input<string>;
  /** The grants to make (the access plan, minus rows another component already made). */
  grants: readonly Grant[];
  principals: Record<Exclude<Principal, 'iotHub'>, PrincipalRef>;
  /** Resolves a scope name to a resource id. */
  scope(name: ScopeName): pulumi.Input<string>;
}

/**
 * Materialises the access plan: least-privilege role assignments for every managed identity (and the
 * platform admins group), each scoped to a container, table service, event hub, secret or key where
 * Azure allows it.
 */
export class AccessControl extends pulumi.ComponentResource {
  readonly assignments: authorization.RoleAssignment[];

  constructor(name: string, args: AccessControlArgs, opts?: pulumi.ComponentResourceOptions) {
    super('aurora:platform:AccessControl', name, {}, opts);
    this.assignments = args.grants.map((grant) => {
      if (grant.principal === 'iotHub') {
        throw new Error('the IoT Hub identity is granted by the Ingestion component, before the hub exists');
      }
      return assignRole(
        grant,
        {
          principal: args.principals[grant.principal],
          scope: args.scope(grant.scope),
          subscriptionId: args.subscriptionId,
        },
        this,
      );
    });
    this.registerOutputs({ assignmentCount: this.assignments.length });
  }
}
