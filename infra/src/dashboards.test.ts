import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDashboards, REQUIRED_DASHBOARDS } from './dashboards.js';

describe('dashboards', () => {
  const dashboards = loadDashboards();

  it('keeps the four dashboards of the design, with distinct uids', () => {
    expect(dashboards.map((d) => d.name).sort()).toEqual([...REQUIRED_DASHBOARDS].sort());
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const d of dashboards) expect(d.dashboard.tags).toContain('aurora');
  });

  it('queries the workspace through the data source variables in every panel', () => {
    for (const { name, dashboard } of dashboards) {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, name).toBe(ids.length);
      for (const panel of dashboard.panels) {
        const target = panel.targets?.[0];
        expect(target?.queryType, `${name}/${panel.title}`).toBe('Azure Log Analytics');
        expect(target?.azureLogAnalytics?.query, `${name}/${panel.title}`).toContain(
          '$__timeFilter(TimeGenerated)',
        );
      }
    }
  });

  it('shows freshness for every facility and the cost drivers', () => {
    const text = (n: string) => JSON.stringify(dashboards.find((d) => d.name === n)?.dashboard);
    for (const facility of ['augsburg', 'ingolstadt', 'regensburg']) {
      expect(text('data-freshness')).toContain(`bronze/iot/${facility}`);
    }
    for (const meter of ['Usage', 'DWUUsed', 'BigDataPoolAllocatedCores', 'UsedCapacity']) {
      expect(text('platform-costs')).toContain(meter);
    }
  });

  it('names the file when a dashboard is not usable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aurora-dashboards-'));
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ uid: 'Not Valid', title: '', panels: [] }));
    expect(() => loadDashboards(pathToFileURL(`${dir}/`))).toThrow(
      /broken\.json: missing or invalid uid, title, panels/,
    );
  });
});
