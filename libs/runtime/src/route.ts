/**
 * Azure Functions route templates (`machines/{machine_id}/health`, `items/{id?}`, `{id:int}`), matched
 * the way the host matches them: case-insensitive literals, one path segment per parameter.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

export function compileRoute(template: string): CompiledRoute {
  const names: string[] = [];
  const pattern = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((segment) => {
      const param = segment.match(/^\{([A-Za-z_][A-Za-z0-9_]*)(?::(int|alpha|guid))?(\?)?\}$/);
      if (!param) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(param[1]!);
      const body =
        param[2] === 'int'
          ? '-?\\d+'
          : param[2] === 'alpha'
            ? '[A-Za-z]+'
            : param[2] === 'guid'
              ? '[0-9a-fA-F-]{36}'
              : '[^/]+';
      return param[3] ? `(?:/(${body}))?` : `/(${body})`;
    })
    .join('');
  const regex = new RegExp(`^${pattern}/?$`, 'i');
  return {
    template,
    match(path) {
      const m = regex.exec(path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        const value = m[i + 1];
        if (value !== undefined) params[name] = decodeURIComponent(value);
      });
      return params;
    },
  };
}
