import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Grafana dashboards kept as JSON in `infra/dashboards/`. They query the Log Analytics workspace through
 * Managed Grafana's built-in Azure Monitor data source, so they need no credentials; the README shows
 * how to import them after `pulumi up`.
 */

export const DASHBOARDS_DIR_URL = new URL('../dashboards/', import.meta.url);

/** The dashboards the design asks for, by file name. */
export const REQUIRED_DASHBOARDS = [
  'pipeline-health',
  'data-freshness',
  'platform-costs',
  'capacity',
] as const;

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  targets?: { refId: string; queryType?: string; azureLogAnalytics?: { query: string } }[];
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  tags: string[];
  panels: GrafanaPanel[];
}

export interface DashboardFile {
  name: string;
  path: string;
  dashboard: GrafanaDashboard;
}

/** Reads every dashboard, failing with the file name when one is not a usable Grafana dashboard. */
export function loadDashboards(dirUrl: URL = DASHBOARDS_DIR_URL): DashboardFile[] {
  const dir = fileURLToPath(dirUrl);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const path = `${dir}${file}`;
      const dashboard = JSON.parse(readFileSync(path, 'utf8')) as GrafanaDashboard;
      const problems: string[] = [];
      if (typeof dashboard.uid !== 'string' || !/^[a-z0-9-]{1,40}$/.test(dashboard.uid)) problems.push('uid');
      if (typeof dashboard.title !== 'string' || dashboard.title === '') problems.push('title');
      if (!Array.isArray(dashboard.panels) || dashboard.panels.length === 0) problems.push('panels');
      if (problems.length > 0) throw new Error(`${path}: missing or invalid ${problems.join(', ')}`);
      return { name: file.replace(/\.json$/, ''), path, dashboard };
    });
}
