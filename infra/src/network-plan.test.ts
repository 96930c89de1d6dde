import { describe, expect, it } from 'vitest';
import { STACK_NAMES } from './config.js';
import { apimNetworkMode, carve, cidrRange, nsgRules, planSubnets } from './network-plan.js';
import { readStackFile } from './stack-file.js';

const within = (inner: string, outer: string) => {
  const [a, b] = cidrRange(inner);
  const [c, d] = cidrRange(outer);
  return a >= c && b <= d;
};
const overlaps = (x: string, y: string) => {
  const [a, b] = cidrRange(x);
  const [c, d] = cidrRange(y);
  return a <= d && c <= b;
};

describe('network-plan', () => {
  it('carves subnets by position', () => {
    expect(carve('10.41.0.0/20', 24, 0)).toBe('10.41.0.0/24');
    expect(carve('10.41.0.0/20', 24, 5)).toBe('10.41.5.0/24');
    expect(carve('10.60.0.0/22', 27, 1)).toBe('10.60.0.32/27');
    expect(() => carve('10.41.0.0/20', 24, 16)).toThrow(/no subnet #16/);
    expect(() => carve('10.41.0.0/20', 16, 0)).toThrow(/cannot carve/);
  });

  it.each(STACK_NAMES)(
    'keeps %s subnets inside their VNet and apart from each other and the other stacks',
    async (stack) => {
      const files = await Promise.all(STACK_NAMES.map(readStackFile));
      const prefixes = files.map((f) => [
        f.config['aurora:hubAddressPrefix']!,
        f.config['aurora:spokeAddressPrefix']!,
      ]);
      const mine = prefixes[STACK_NAMES.indexOf(stack)]!;
      const subnets = planSubnets(mine[0]!, mine[1]!, 'StandardV2');
      for (const s of subnets)
        expect(within(s.addressPrefix, s.vnet === 'hub' ? mine[0]! : mine[1]!)).toBe(true);
      for (const [i, a] of subnets.entries()) {
        for (const b of subnets.slice(i + 1)) expect(overlaps(a.addressPrefix, b.addressPrefix)).toBe(false);
      }
      const all = prefixes.flat();
      for (const [i, a] of all.entries())
        for (const b of all.slice(i + 1)) expect(overlaps(a, b)).toBe(false);
    },
  );

  it('delegates the Function App subnets and keeps an NSG off GatewaySubnet only', () => {
    const subnets = planSubnets('10.60.0.0/22', '10.61.0.0/20', 'StandardV2');
    const byKey = Object.fromEntries(subnets.map((s) => [s.key, s]));
    for (const key of ['funcIngest', 'funcOrchestrator', 'funcApi']) {
      expect(byKey[key]?.delegation).toBe('Microsoft.App/environments');
    }
    expect(byKey['sapPlan']?.delegation).toBe('Microsoft.Web/serverFarms');
    expect(byKey['gateway']).toMatchObject({ name: 'GatewaySubnet', nsg: false });
    expect(subnets.filter((s) => !s.nsg).map((s) => s.key)).toEqual(['gateway']);
  });

  it('joins APIM by injection on classic tiers and by integration on v2 tiers', () => {
    expect(apimNetworkMode('Developer')).toBe('injection');
    expect(apimNetworkMode('StandardV2')).toBe('integration');
    const classic = planSubnets('10.60.0.0/22', '10.61.0.0/20', 'Developer').find((s) => s.key === 'apim')!;
    const v2 = planSubnets('10.60.0.0/22', '10.61.0.0/20', 'StandardV2').find((s) => s.key === 'apim')!;
    expect(classic.delegation).toBeUndefined();
    expect(v2.delegation).toBe('Microsoft.Web/serverFarms');
    expect(nsgRules(classic, 'Developer').map((r) => r.destinationPortRange)).toEqual([
      '443',
      '3443',
      '6390',
      '*',
    ]);
    expect(nsgRules(v2, 'StandardV2').map((r) => r.destinationPortRange)).toEqual(['443', '*']);
  });

  it('denies inbound Internet traffic on every workload subnet', () => {
    for (const subnet of planSubnets('10.60.0.0/22', '10.61.0.0/20', 'Developer').filter(
      (s) => s.key !== 'apim',
    )) {
      expect(nsgRules(subnet, 'Developer')).toEqual([
        expect.objectContaining({ direction: 'Inbound', access: 'Deny', sourceAddressPrefix: 'Internet' }),
      ]);
    }
  });
});
