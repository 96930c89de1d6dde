import { describe, expect, it } from 'vitest';
import { STACK_NAMES } from './config.js';
import { parseStackFile, readStackFile } from './stack-file.js';

describe('stack-file', () => {
  it('reads plain, quoted and commented scalars the way pulumi config set writes them', () => {
    const file = parseStackFile(
      [
        '# a comment',
        'encryptionsalt: v1:abc',
        'config:',
        '  azure-native:location: westeurope',
        '  aurora:sparkMinNodes: "4"',
        "  aurora:apimPublisherName: 'Aurora''s platform'",
        '  aurora:logDailyCapGb: -1 # no cap',
        '',
        '  aurora:note: "tab\\tseparated"',
      ].join('\n'),
    );
    expect(file.config).toEqual({
      'azure-native:location': 'westeurope',
      'aurora:sparkMinNodes': '4',
      'aurora:apimPublisherName': "Aurora's platform",
      'aurora:logDailyCapGb': '-1',
      'aurora:note': 'tab\tseparated',
    });
    expect(file.secureKeys).toEqual([]);
  });

  it('records secure values by key without their ciphertext', () => {
    const file = parseStackFile('config:\n  aurora:token:\n    secure: AAABAJx0ZXN0\n  aurora:x: "1"\n');
    expect(file.secureKeys).toEqual(['aurora:token']);
    expect(file.config).toEqual({ 'aurora:x': '1' });
  });

  it('refuses structured values with the line they are on', () => {
    expect(() => parseStackFile('config:\n  aurora:list:\n    - a\n', 'Pulumi.dev.yaml')).toThrow(
      /Pulumi\.dev\.yaml:3: "aurora:list" holds a structured value/,
    );
    expect(() => parseStackFile('config:\n  aurora:map: {a: 1}\n', 'f')).toThrow(
      /f:2: structured YAML values/,
    );
    expect(() => parseStackFile('config:\n  notnamespaced: 1\n', 'f')).toThrow(
      /f:2: expected "namespace:key: value"/,
    );
  });

  it.each(STACK_NAMES)('reads Pulumi.%s.yaml without secrets and with the aurora keys', async (stack) => {
    const file = await readStackFile(stack);
    expect(file.secureKeys).toEqual([]);
    expect(file.config['azure-native:location']).toBe(file.config['aurora:location']);
    expect(Object.keys(file.config).filter((k) => k.startsWith('aurora:')).length).toBeGreaterThan(30);
  });
});
